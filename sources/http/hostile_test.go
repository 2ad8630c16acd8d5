package http

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// nopJar is a cookie jar that keeps nothing.
type nopJar struct{}

func (nopJar) SetCookies(*url.URL, []*nethttp.Cookie) {}
func (nopJar) Cookies(*url.URL) []*nethttp.Cookie     { return nil }

// recorder is a server that records the headers of every request.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []nethttp.Header
}

func newRecorder(t *testing.T, h func(w nethttp.ResponseWriter, r *nethttp.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Header.Clone())
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) headers() []nethttp.Header {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]nethttp.Header(nil), rec.seen...)
}

// TestRedirectKeepsHeadersOnOrigin: configured headers (header= and
// Config.Header) go only to the scheme, host and port of the configured URL.
// Two servers on 127.0.0.1 are two origins: net/http itself would forward
// Authorization between them (same host name) and any other header
// anywhere. The second server must never see a configured header, nor the
// first URL's query credentials in a Referer.
func TestRedirectKeepsHeadersOnOrigin(t *testing.T) {
	t.Parallel()
	other := newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.URL.Path == "/back" { // send the chain home again
			nethttp.Redirect(w, r, r.URL.Query().Get("to"), nethttp.StatusFound)
			return
		}
		fmt.Fprint(w, "from other")
	})
	var home *recorder
	home = newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		switch r.URL.Path {
		case "/away":
			nethttp.Redirect(w, r, other.srv.URL+"/config", nethttp.StatusFound)
		case "/self":
			nethttp.Redirect(w, r, "/config", nethttp.StatusMovedPermanently)
		case "/roundtrip":
			nethttp.Redirect(w, r, other.srv.URL+"/back?to="+url.QueryEscape(home.srv.URL+"/config"), nethttp.StatusFound)
		default:
			fmt.Fprint(w, "from home")
		}
	})
	configured := []string{"Authorization", "X-Api-Key", "X-From-Config"}
	for _, tc := range []struct {
		name      string
		path      string
		header    string // header= option
		data      string // what the read returns
		homeSees  int    // requests to home that carry every configured header
		otherSeen int    // requests that reach other (none may carry one)
	}{
		{name: "cross-origin/Authorization", path: "/away", header: "Authorization: Bearer SECRET-TOKEN", data: "from other", homeSees: 1, otherSeen: 1},
		{name: "cross-origin/custom header", path: "/away", header: "X-Api-Key: SECRET-KEY", data: "from other", homeSees: 1, otherSeen: 1},
		{name: "same origin keeps them", path: "/self", header: "X-Api-Key: SECRET-KEY", data: "from home", homeSees: 2},
		{name: "back home through another host", path: "/roundtrip", header: "Authorization: Bearer SECRET-TOKEN", data: "from home", homeSees: 1, otherSeen: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the recorders are shared.
			home.mu.Lock()
			home.seen = nil
			home.mu.Unlock()
			other.mu.Lock()
			other.seen = nil
			other.mu.Unlock()
			d := openDriver(t, Config{Header: nethttp.Header{"X-From-Config": {"SECRET-CONFIG"}}})
			loc := home.srv.URL + tc.path + "?token=SECRET-QUERY"
			r := d.Read(t.Context(), target(loc, 0, "header="+tc.header))
			require.NoError(t, r.Err)
			require.Equal(t, tc.data, string(r.Data))
			name, _, _ := strings.Cut(tc.header, ":")
			want := map[string]bool{name: true, "X-From-Config": true}
			carrying := 0
			for _, h := range home.headers() {
				all := true
				for k := range want {
					all = all && h.Get(k) != ""
				}
				if all {
					carrying++
				}
			}
			require.Equal(t, tc.homeSees, carrying, "requests to the configured origin with every configured header")
			seen := other.headers()
			require.Len(t, seen, tc.otherSeen)
			for _, h := range seen {
				for _, k := range configured {
					require.Empty(t, h.Values(k), "%s forwarded to another origin", k)
				}
				require.NotContains(t, fmt.Sprint(h), "SECRET", "no credential reaches another origin, not even in Referer")
			}
		})
	}
}

// TestRedirectUserPolicy: a user's CheckRedirect still decides, after the
// configured headers are gone from a cross-origin hop.
func TestRedirectUserPolicy(t *testing.T) {
	t.Parallel()
	other := newRecorder(t, func(w nethttp.ResponseWriter, _ *nethttp.Request) { fmt.Fprint(w, "from other") })
	home := newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, other.srv.URL+"/config", nethttp.StatusFound)
	})
	errStop := errors.New("no redirects here")
	var sawHeader []string
	client := &nethttp.Client{CheckRedirect: func(req *nethttp.Request, _ []*nethttp.Request) error {
		sawHeader = req.Header.Values("X-Api-Key")
		return errStop
	}}
	d := openDriver(t, Config{Client: client})
	r := d.Read(t.Context(), target(home.srv.URL+"/config", 0, "header=X-Api-Key: SECRET-KEY"))
	require.ErrorIs(t, r.Err, errStop)
	require.Empty(t, sawHeader, "the user's policy sees the request as it would be sent")
	require.Empty(t, other.headers(), "the user's policy stopped the redirect")
}

// TestEmptyBody: a value status with an empty body is an error wrapping
// sources.ErrEmpty in every format, text included; the watch reports it
// once, keeps polling, and reports the value again when it comes back.
func TestEmptyBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		code  int
		ctype string
	}{
		{"200 text/plain", 200, "text/plain"},
		{"200 json", 200, "application/json"},
		{"200 no type", 200, ""},
		{"203 yaml", 203, "application/yaml"},
		{"204", 204, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			body := "value"
			srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
				mu.Lock()
				b := body
				mu.Unlock()
				w.Header()["Content-Type"] = nil
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				if b == "" {
					w.WriteHeader(tc.code)
					return
				}
				fmt.Fprint(w, b)
			}))
			t.Cleanup(srv.Close)
			set := func(b string) {
				mu.Lock()
				body = b
				mu.Unlock()
			}
			d := openDriver(t, nil)
			loc := srv.URL + "/motd.txt?token=SECRET"
			tg := target(loc, poll)
			w, last := startWatch(t, d, tg)
			require.NoError(t, last.Err)
			require.Equal(t, "value", string(last.Data))

			set("")
			r := d.Read(t.Context(), target(loc, 0))
			require.ErrorIs(t, r.Err, sources.ErrEmpty)
			require.ErrorContains(t, r.Err, "empty body")
			require.NotContains(t, r.Err.Error(), "SECRET")
			require.Nil(t, r.Data)
			err := w.wantErr(t, sources.ErrEmpty)
			require.Contains(t, err, "empty body")

			set("value")
			w.wantData(t, "value")
		})
	}
}

// TestBadRedirectLocationHidesQuery: a server that redirects with a
// Location net/http cannot parse, keeping the request's query, makes
// net/http quote that Location in its error. The query's values (here an
// api key) are hidden from locations (sources.RedactURL): they must not come
// back through that quote, nor the user information's password.
func TestBadRedirectLocationHidesQuery(t *testing.T) {
	t.Parallel()
	const key, pw = "S3CRETapikey77", "S3CRETpass77"
	home := newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Location", "/next%zz?"+r.URL.RawQuery+"&u="+url.QueryEscape(pw))
		w.WriteHeader(nethttp.StatusFound)
	})
	d := openDriver(t, nil)
	loc := strings.Replace(home.srv.URL, "http://", "http://app:"+pw+"@", 1) + "/config?api_key=" + key
	r := d.Read(t.Context(), target(loc, 0))
	require.Error(t, r.Err)
	for _, text := range []string{r.Err.Error(), fmt.Sprintf("%+v", r.Err), fmt.Sprintf("%#v", r.Err)} {
		require.NotContains(t, text, key)
		require.NotContains(t, text, pw)
	}
	require.Contains(t, r.Err.Error(), "Location", "the error still says what went wrong")
}

// TestTransportErrorKeepsAsWhenQueryValueRecurs: a query value that
// recurs in the cause's text (here the port, repeated as ?port=) is
// scrubbed from that text, but errors.As must still reach a cause whose
// own text holds no credential (*net.OpError, as the Error docs promise).
func TestTransportErrorKeepsAsWhenQueryValueRecurs(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // a closed port: connection refused
	_, port, _ := net.SplitHostPort(addr)
	d := openDriver(t, nil)
	r := d.Read(t.Context(), target("http://"+addr+"/c.json?port="+port+"&key=S3CRETkey99", 0))
	require.Error(t, r.Err)
	require.NotContains(t, r.Err.Error(), "S3CRETkey99")
	var op *net.OpError
	require.ErrorAs(t, r.Err, &op, "%v", r.Err)
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
	require.ErrorIs(t, r.Err, sources.ErrTooLarge, "2 MiB of response headers")
	require.ErrorContains(t, r.Err, "response headers larger than http.MaxHeaderBytes (65536 bytes)")
}

// TestOversizedHeadersAreTooLarge: response headers over the transport's
// limit (MaxHeaderBytes for the driver's own, MaxResponseHeaderBytes of a
// Config.Client's) are an *Error wrapping sources.ErrTooLarge, like a body
// over maxbytes=, and wait on the slow backoff: a server that sends them
// will not stop by itself. net/http gives that failure no type, so it was
// a transport error retried on the fast backoff (from min(poll, 1s)).
func TestOversizedHeadersAreTooLarge(t *testing.T) {
	t.Parallel()
	const token = "Bearer header-limit-secret-token"
	handler := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n := MaxHeaderBytes + 16<<10 // just over the driver's limit
		switch r.URL.Path {
		case "/mid":
			n = 16 << 10 // under it, over the given clients'
		case "/many":
			// 16 KiB in many short headers: over HTTP/2, one header
			// longer than the limit is an hpack COMPRESSION_ERROR that
			// does not say why (left transient), a list over it is
			// the typed error.
			n = 0
			for i := range 400 {
				w.Header().Set(fmt.Sprintf("X-Junk-%03d", i), strings.Repeat("j", 30))
			}
		}
		w.Header().Set("X-Echo", r.Header.Get("Authorization")) // a server echoing the credential
		if n > 0 {
			w.Header().Set("X-Junk", strings.Repeat("j", n))
		}
		fmt.Fprint(w, `{"a":1}`)
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	h2 := httptest.NewUnstartedServer(handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	hdr := nethttp.Header{"Authorization": {token}}
	own := openDriver(t, Config{Header: hdr})
	tight := &nethttp.Transport{MaxResponseHeaderBytes: 8 << 10}
	t.Cleanup(tight.CloseIdleConnections)
	given := openDriver(t, Config{Client: &nethttp.Client{Transport: tight}, Header: hdr})
	h2c := h2.Client()
	h2t, ok := h2c.Transport.(*nethttp.Transport)
	require.True(t, ok)
	h2t.MaxResponseHeaderBytes = 8 << 10
	overH2 := openDriver(t, Config{Client: h2c, Header: hdr})
	for _, c := range []struct {
		name, url string
		d         *driver
	}{
		{"own transport", srv.URL + "/huge", own},
		{"given client", srv.URL + "/mid", given},
		{"given client over HTTP/2", h2.URL + "/many", overH2},
	} {
		var got []sources.Result
		w := newTestPoller(c.d, mustSpec(t, target(c.url, 10*time.Millisecond)), sources.Result{}, func(r sources.Result) { got = append(got, r) })
		next := w.poll()
		w.dropRequest()
		require.Len(t, got, 1, c.name)
		err := got[0].Err
		require.ErrorIs(t, err, sources.ErrTooLarge, "%s: %v", c.name, err)
		var e *Error
		require.ErrorAs(t, err, &e, c.name)
		require.Zero(t, e.Status, c.name)
		require.ErrorContains(t, err, "response headers", c.name)
		text := fmt.Sprintf("%v %+v %#v", err, err, err)
		require.NotContains(t, text, "header-limit-secret-token", c.name)
		require.GreaterOrEqual(t, next, 500*time.Millisecond, "%s: the slow backoff, not the fast one (poll=10ms)", c.name)
	}
	r := own.Read(t.Context(), target(srv.URL+"/mid", 0))
	require.NoError(t, r.Err, "16 KiB of headers are within MaxHeaderBytes")
}

// TestHeadersTooLargeText: only net/http's own errors for headers over
// the limit count, wrapped or joined, not a text of another error that
// quotes a server and holds the same words.
func TestHeadersTooLargeText(t *testing.T) {
	t.Parallel()
	h1 := errors.New(h1HeaderLimit + "65536 bytes; aborted")
	for _, err := range []error{
		&url.Error{Op: "Get", URL: "http://x", Err: fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", h1)},
		errors.Join(errors.New("other"), h1),
		errors.New("stream error: stream ID 1; PROTOCOL_ERROR; " + h2HeaderLimit),
	} {
		require.True(t, headersTooLarge(err), "%v", err)
	}
	for _, err := range []error{
		fmt.Errorf("malformed HTTP status code %q", h1HeaderLimit+"1 bytes"),
		fmt.Errorf("http2 server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=NO_ERROR, debug=%q", h2HeaderLimit),
		errors.New("connection error: COMPRESSION_ERROR"),
	} {
		require.False(t, headersTooLarge(err), "%v", err)
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
