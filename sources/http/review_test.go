package http

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// rawServer answers every connection with reply(request header), written
// as is: a server that does not speak HTTP properly. It is closed at
// cleanup.
func rawServer(t *testing.T, reply func(h nethttp.Header) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := nethttp.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				_, _ = c.Write([]byte(reply(req.Header)))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestMalformedResponseHidesHeaderSecret: net/http quotes a response line
// it cannot parse in its error. A hostile server that echoes a request
// header into that line must not get the header's value into the error,
// nor make the error any size.
func TestMalformedResponseHidesHeaderSecret(t *testing.T) {
	t.Parallel()
	const token = "S3CRETbearer42"
	url := rawServer(t, func(h nethttp.Header) string {
		return "HTTP/1.1" + h.Get("X-Api-Key") + h.Get("X-Other") + strings.Repeat("z", 4000) + "\r\n\r\n"
	})
	d := openDriver(t, Config{Header: nethttp.Header{"X-Other": {"Bearer CONFIGsecret77"}}})
	r := d.Read(t.Context(), target(url+"/c.json", 0, "header=X-Api-Key: "+token))
	require.Error(t, r.Err)
	msg := r.Err.Error()
	require.NotContains(t, msg, token)
	require.NotContains(t, msg, "CONFIGsecret77")
	require.Less(t, len(msg), 1000, "the server's text is cut: %d bytes", len(msg))
}

// TestRedirectLoopPermanent: a redirect loop (or a user's CheckRedirect
// refusing) needs someone to fix the server: it is sources.ErrRedirect and
// waits at least poll=, never the fast transient backoff, which would send
// eleven requests a second to a broken server.
func TestRedirectLoopPermanent(t *testing.T) {
	t.Parallel()
	loop := newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, "/loop", nethttp.StatusFound)
	})
	d := openDriver(t, nil)
	r := d.Read(t.Context(), target(loop.srv.URL+"/loop", 0))
	require.ErrorIs(t, r.Err, sources.ErrRedirect)
	require.ErrorContains(t, r.Err, "stopped after 10 redirects")

	var got []sources.Result
	w := newTestPoller(d, mustSpec(t, target(loop.srv.URL+"/loop", time.Minute)), sources.Result{}, func(r sources.Result) { got = append(got, r) })
	t.Cleanup(w.dropRequest)
	next := w.poll()
	require.GreaterOrEqual(t, next, 50*time.Second, "a loop waits poll=, not the transient backoff")
	require.Len(t, got, 1)
	require.ErrorIs(t, got[0].Err, sources.ErrRedirect)

	errStop := errors.New("no redirects here")
	du := openDriver(t, Config{Client: &nethttp.Client{CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return errStop }}})
	got = nil
	w = newTestPoller(du, mustSpec(t, target(loop.srv.URL+"/loop", time.Minute)), sources.Result{}, func(r sources.Result) { got = append(got, r) })
	t.Cleanup(w.dropRequest)
	next = w.poll()
	require.GreaterOrEqual(t, next, 50*time.Second, "a refused redirect waits poll=")
	require.ErrorIs(t, got[0].Err, errStop)
	require.ErrorIs(t, got[0].Err, sources.ErrRedirect)
}

// TestReadCanceledMidway: a Read the caller cancels while the body or the
// headers are on their way is context.Canceled, never ErrUnreachable nor
// a timeout; a timeout= that fires mid-body is DeadlineExceeded and
// ErrUnreachable, never Canceled.
func TestReadCanceledMidway(t *testing.T) {
	t.Parallel()
	srv, started := slowServer(t)
	d := openDriver(t, nil)
	for _, withCause := range []bool{false, true} {
		ctx, cancel := context.WithCancelCause(t.Context())
		go func() {
			<-started
			if withCause {
				cancel(errors.New("shutting down"))
			} else {
				cancel(nil)
			}
		}()
		r := d.Read(ctx, target(srv.URL+"/slow", 0))
		require.ErrorIs(t, r.Err, context.Canceled, "cause %t: %v", withCause, r.Err)
		require.NotErrorIs(t, r.Err, sources.ErrUnreachable, "cause %t", withCause)
		require.NotErrorIs(t, r.Err, context.DeadlineExceeded, "cause %t", withCause)
		require.NotContains(t, r.Err.Error(), "timeout=", "cause %t", withCause)
	}
	tg := target(srv.URL+"/slow", 0)
	tg.Timeout = 50 * time.Millisecond
	r := d.Read(t.Context(), tg)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.ErrorIs(t, r.Err, sources.ErrUnreachable)
	require.NotErrorIs(t, r.Err, context.Canceled)
}

// TestPollTimeoutIsDeadline: a poll cut short by timeout= is a timeout
// (DeadlineExceeded, ErrUnreachable), not a cancellation, whether the
// headers or the body were late.
func TestPollTimeoutIsDeadline(t *testing.T) {
	t.Parallel()
	srv, _ := slowServer(t)
	quit := make(chan struct{})
	hdr := httptest.NewServer(nethttp.HandlerFunc(func(_ nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	t.Cleanup(func() { close(quit); hdr.Close() })
	d := openDriver(t, nil)
	for _, u := range []string{srv.URL + "/body", hdr.URL + "/headers"} {
		tg := target(u, time.Minute)
		tg.Timeout = 50 * time.Millisecond
		var got []sources.Result
		w := newTestPoller(d, mustSpec(t, tg), sources.Result{}, func(r sources.Result) { got = append(got, r) })
		w.poll()
		w.dropRequest()
		require.Len(t, got, 1)
		require.ErrorIs(t, got[0].Err, context.DeadlineExceeded, "%s: %v", u, got[0].Err)
		require.ErrorIs(t, got[0].Err, sources.ErrUnreachable, u)
		require.NotErrorIs(t, got[0].Err, context.Canceled, u)
		require.ErrorContains(t, got[0].Err, "timeout=50ms", u)
	}
}

// TestRefusalBodyNeverEnds: the body of a refusal (here a 500) that never
// ends is drained within timeout=, for Read and for a poll.
func TestRefusalBodyNeverEnds(t *testing.T) {
	t.Parallel()
	quit := make(chan struct{})
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.WriteHeader(nethttp.StatusInternalServerError)
		fmt.Fprint(w, "oops")
		w.(nethttp.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	t.Cleanup(func() { close(quit); srv.Close() })
	d := openDriver(t, nil)
	tg := target(srv.URL+"/x", time.Minute)
	tg.Timeout = 100 * time.Millisecond
	start := time.Now()
	r := d.Read(t.Context(), tg)
	require.ErrorIs(t, r.Err, sources.ErrHTTPStatus)
	require.Less(t, time.Since(start), 2*time.Second)
	w := newTestPoller(d, mustSpec(t, tg), sources.Result{}, func(sources.Result) {})
	start = time.Now()
	w.poll()
	w.dropRequest()
	require.Less(t, time.Since(start), 2*time.Second)
}

// TestGzipBomb: a gzip body that inflates to 24 MiB is cut at maxbytes=
// after decompression; memory stays near maxbytes=. Not parallel: it
// measures allocations.
func TestGzipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zero := make([]byte, 1<<20)
	for range 24 {
		_, _ = zw.Write(zero)
	}
	require.NoError(t, zw.Close())
	bomb := buf.Bytes()
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bomb)
	}))
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := d.Read(t.Context(), target(srv.URL+"/c.json", 0, "maxbytes=1048576"))
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, r.Err, sources.ErrTooLarge)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "allocated while reading the bomb")
}

// TestOversizedResponseHeaders: a server cannot make a poll hold megabytes
// of response headers (net/http's own bound is 10 MiB): the driver's own
// transport stops at MaxHeaderBytes, and ordinary headers still pass.
func TestOversizedResponseHeaders(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n := 16 << 10
		if r.URL.Path == "/huge" {
			n = 2 << 20
		}
		w.Header().Set("X-Junk", strings.Repeat("j", n))
		fmt.Fprint(w, `{"a":1}`)
	}))
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)
	r := d.Read(t.Context(), target(srv.URL+"/ok", 0))
	require.NoError(t, r.Err)
	r = d.Read(t.Context(), target(srv.URL+"/huge", 0))
	require.Error(t, r.Err, "2 MiB of response headers")
	require.ErrorContains(t, r.Err, "headers exceeded")
}

// TestVersionHidesEchoedSecret: the version a driver reports is shown
// (Status().Version). A server whose ETag or Last-Modified echoes a
// configured header value or a query credential, or is huge, must not
// get it shown: the version is then a content hash. The ETag itself is
// still sent back, to its origin only, so that polls stay conditional.
func TestVersionHidesEchoedSecret(t *testing.T) {
	t.Parallel()
	const token, key = "S3CRETbearer42", "S3CRETquery42"
	var mu sync.Mutex
	var inm []string
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		etag := `"` + r.Header.Get("X-Api-Key") + `"`
		switch r.URL.Path {
		case "/query":
			etag = `"` + r.URL.Query().Get("k") + `"`
		case "/lastmod":
			w.Header().Set("Last-Modified", r.Header.Get("X-Api-Key"))
			etag = ""
		case "/long":
			etag = `"` + strings.Repeat("e", 1000) + `"`
		}
		mu.Lock()
		inm = append(inm, r.Header.Get("If-None-Match"))
		mu.Unlock()
		if etag != "" {
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(nethttp.StatusNotModified)
				return
			}
		}
		fmt.Fprint(w, `{"a":1}`)
	}))
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)
	for _, path := range []string{"/header", "/query?k=" + key, "/lastmod", "/long"} {
		tg := target(srv.URL+path, time.Minute, "header=X-Api-Key: "+token)
		r := d.Read(t.Context(), tg)
		require.NoError(t, r.Err, path)
		require.NotContains(t, r.Version, token, path)
		require.NotContains(t, r.Version, key, path)
		require.Less(t, len(r.Version), 100, path)

		var got []sources.Result
		w := newTestPoller(d, mustSpec(t, tg), sources.Result{}, func(r sources.Result) { got = append(got, r) })
		w.poll()
		w.poll()
		w.dropRequest()
		require.Len(t, got, 1, path)
		require.NotContains(t, got[0].Version, token, path)
		require.NotContains(t, got[0].Version, key, path)
		require.Less(t, len(got[0].Version), 100, path)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, inm, `"`+token+`"`, "the ETag still goes back to its origin")
}

// TestMistypedURLHidesPassword: a location missing its "//" is refused,
// and the refusal must not show the password it carries.
func TestMistypedURLHidesPassword(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{"http:app:S3CRETpw@config.example/c.json", "https:/app:S3CRETpw@config.example/c.json"} {
		_, err := parseSpec(target(loc, 0))
		require.Error(t, err, loc)
		require.NotContains(t, err.Error(), "S3CRETpw")
	}
}

// TestRedirectSchemeRefused: a redirect to a scheme other than http and
// https, or from https down to plain http (where anyone on the path could
// change the configuration), is refused as sources.ErrRedirect and waits
// poll=, never the transient backoff.
func TestRedirectSchemeRefused(t *testing.T) {
	t.Parallel()
	plain := newRecorder(t, func(w nethttp.ResponseWriter, _ *nethttp.Request) { fmt.Fprint(w, `{"a":1}`) })
	tls := httptest.NewTLSServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.URL.Path == "/ftp" {
			nethttp.Redirect(w, r, "ftp://127.0.0.1/c.json", nethttp.StatusFound)
			return
		}
		nethttp.Redirect(w, r, plain.srv.URL+"/c.json", nethttp.StatusFound)
	}))
	t.Cleanup(tls.Close)
	d := openDriver(t, tls.Client())
	for _, path := range []string{"/ftp", "/down"} {
		var got []sources.Result
		w := newTestPoller(d, mustSpec(t, target(tls.URL+path, time.Minute)), sources.Result{}, func(r sources.Result) { got = append(got, r) })
		next := w.poll()
		w.dropRequest()
		require.Len(t, got, 1, path)
		require.ErrorIs(t, got[0].Err, sources.ErrRedirect, "%s: %v", path, got[0].Err)
		require.GreaterOrEqual(t, next, 50*time.Second, path)
	}
	require.Empty(t, plain.headers(), "nothing fetched over plain http")
}

// TestJoinShorterPollRebasesBackoff: fields that share a poll loop poll
// as often as the most eager asks, failures included. A field with
// poll=100ms that joins a poll=1h field on a URL that answers 403 must
// not wait the hour the first field's backoff was built on.
func TestJoinShorterPollRebasesBackoff(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		n.Add(1)
		w.WriteHeader(nethttp.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)
	slow, fast := target(srv.URL+"/c.json", time.Hour), target(srv.URL+"/c.json", 100*time.Millisecond)
	stopA, err := d.Watch(slow, sources.Result{}, func(sources.Result) {})
	require.NoError(t, err)
	t.Cleanup(stopA)
	eventually(t, func() bool { return n.Load() >= 1 }, "first poll")
	stopB, err := d.Watch(fast, sources.Result{}, func(sources.Result) {})
	require.NoError(t, err)
	t.Cleanup(stopB)
	eventually(t, func() bool { return n.Load() >= 2 }, "poll at join")
	eventually(t, func() bool {
		next := d.NextPoll(fast)
		return !next.IsZero() && time.Until(next) < 10*time.Second
	}, "the poll=100ms field polls again within seconds")
}

// longError is an error type of the user's with a long text.
type longError struct{ n int }

func (e *longError) Error() string { return "policy: " + strings.Repeat("no ", e.n) }

// TestLongCauseKeepsAs: a cause whose text is only long (a user's
// CheckRedirect error here; an x509 error listing many names) is cut, but
// errors.As still reaches it: only a text that held a secret loses its
// parts.
func TestLongCauseKeepsAs(t *testing.T) {
	t.Parallel()
	loop := newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, "/next", nethttp.StatusFound)
	})
	d := openDriver(t, Config{Client: &nethttp.Client{CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error {
		return &longError{n: 500}
	}}})
	r := d.Read(t.Context(), target(loop.srv.URL+"/c.json", 0))
	var le *longError
	require.ErrorAs(t, r.Err, &le, "%v", r.Err)
	require.Less(t, len(r.Err.Error()), 1000)
}

// TestCallerDeadlineNoTimeoutHint: when the caller's own deadline ends a
// Read, the error must not tell the user to raise timeout=, which did not
// fire.
func TestCallerDeadlineNoTimeoutHint(t *testing.T) {
	t.Parallel()
	srv, _ := slowServer(t)
	d := openDriver(t, nil)
	tg := target(srv.URL+"/slow", 0)
	tg.Timeout = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	r := d.Read(ctx, tg)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.NotContains(t, r.Err.Error(), "timeout=1m0s")
}

// TestConfigHeaderControl: a Config.Header that net/http cannot send (a
// control character in a value, a bad name) is refused when the driver
// opens, at Bind, without quoting the value, instead of failing every
// request.
func TestConfigHeaderControl(t *testing.T) {
	t.Parallel()
	s, ok := sources.Lookup("http")
	require.True(t, ok)
	for _, h := range []nethttp.Header{{"X-Key": {"a\x01S3CRETb"}}, {"X Key": {"S3CRETvalue"}}} {
		_, err := s.Open(sources.Config{Value: Config{Header: h}})
		require.Error(t, err, "%v", h)
		require.NotContains(t, err.Error(), "S3CRET")
	}
	drv, err := s.Open(sources.Config{Value: Config{Header: nethttp.Header{"X-Key": {"ok value"}}}})
	require.NoError(t, err)
	require.NoError(t, drv.Close())
}
