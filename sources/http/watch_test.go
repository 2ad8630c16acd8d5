package http

import (
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

const poll = 10 * time.Millisecond

// waitRequests waits until the resource served at least n requests.
func waitRequests(tb testing.TB, r *resource, n int) {
	tb.Helper()
	eventually(tb, func() bool { got, _, _ := r.counts(); return got >= n }, fmt.Sprintf("%d requests", n))
}

func TestWatchETag(t *testing.T) {
	t.Parallel()
	for _, v := range []validators{withETag, withWeakETag} {
		t.Run(map[validators]string{withETag: "strong", withWeakETag: "weak"}[v], func(t *testing.T) {
			t.Parallel()
			res := newResource(t, `{"v":1}`, v)
			client, ct := newCountingClient(t)
			d := openDriver(t, Config{Client: client})
			w, last := startWatch(t, d, target(res.url(), poll))
			require.Equal(t, res.etag(), last.Version)
			readAfterRead := ct.read.Load()
			require.Equal(t, int64(len(`{"v":1}`)), readAfterRead)

			// Unchanged: every poll is a 304 whose body is not read, and the
			// first one already is conditional.
			waitRequests(t, res, 10)
			requests, notMod, bodyBytes := res.counts()
			require.Equal(t, requests-1, notMod, "every poll after Read is a 304")
			require.Equal(t, len(`{"v":1}`), bodyBytes, "only Read got a body")
			require.Equal(t, readAfterRead, ct.read.Load(), "no body bytes read on 304")
			h := res.lastHeader()
			require.Equal(t, res.etag(), h.Get("If-None-Match"), "ETag echoed exactly")
			require.Empty(t, h.Get("If-Modified-Since"), "no If-Modified-Since beside an ETag")
			require.Zero(t, w.Len())

			res.set(`{"v":2}`)
			r := w.wantData(t, `{"v":2}`)
			require.Equal(t, "application/json", r.Format)
			require.Equal(t, res.etag(), r.Version)
			waitRequests(t, res, requests+5)
			require.Equal(t, res.etag(), res.lastHeader().Get("If-None-Match"), "the new ETag is used")
			w.wantQuiet(t, 5*poll)
		})
	}
}

func TestWatchLastModified(t *testing.T) {
	t.Parallel()
	res := newResource(t, "a: 1\n", withLastModified)
	res.ctype = "application/yaml"
	client, ct := newCountingClient(t)
	d := openDriver(t, Config{Client: client})
	w, last := startWatch(t, d, target(res.url(), poll))
	require.NoError(t, last.Err)
	waitRequests(t, res, 5)
	requests, notMod, _ := res.counts()
	require.Equal(t, requests-1, notMod)
	require.Equal(t, int64(len("a: 1\n")), ct.read.Load())
	h := res.lastHeader()
	require.Equal(t, last.Version, h.Get("If-Modified-Since"))
	require.Empty(t, h.Get("If-None-Match"))

	res.set("a: 2\n")
	r := w.wantData(t, "a: 2\n")
	require.Equal(t, "application/yaml", r.Format)
	require.NotEqual(t, last.Version, r.Version)
	w.wantQuiet(t, 5*poll)
}

// A 304 refreshes the validators: a server that starts sending an ETag in
// its 304s gets it back in If-None-Match.
func TestWatch304RefreshesValidators(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("If-None-Match")+"|"+r.Header.Get("If-Modified-Since"))
		mu.Unlock()
		if r.Header.Get("If-Modified-Since") != "" || r.Header.Get("If-None-Match") != "" {
			w.Header().Set("ETag", `"fresh"`)
			w.WriteHeader(nethttp.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		fmt.Fprint(w, "x")
	}))
	t.Cleanup(srv.Close)
	w, _ := startWatch(t, openDriver(t, nil), target(srv.URL, poll))
	eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= 4 }, "4 requests")
	w.wantQuiet(t, poll)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"|", "|Mon, 02 Jan 2006 15:04:05 GMT", `"fresh"|`, `"fresh"|`}, seen[:4])
}

func TestWatchNoValidators(t *testing.T) {
	t.Parallel()
	res := newResource(t, "same", withNone)
	res.ctype = "text/plain; charset=utf-8"
	w, last := startWatch(t, openDriver(t, nil), target(res.url(), poll))
	require.Equal(t, "text/plain", last.Format)
	waitRequests(t, res, 10)
	require.Zero(t, w.Len(), "identical bodies report nothing")
	res.set("changed")
	r := w.wantData(t, "changed")
	require.Len(t, r.Version, 16, "a content hash")
	require.NotEqual(t, last.Version, r.Version)
	res.set("same")
	w.wantData(t, "same")
	w.wantQuiet(t, 5*poll)
}

// A change of Content-Type alone is reported: the format may change.
func TestWatchContentTypeChange(t *testing.T) {
	t.Parallel()
	res := newResource(t, `{"a":1}`, withNone)
	res.ctype = "text/html"
	w, last := startWatch(t, openDriver(t, nil), target(res.url(), poll))
	require.Equal(t, "text/html", last.Format, "the driver passes the media type on; livebind decides")
	res.mu.Lock()
	res.ctype = "application/json"
	res.mu.Unlock()
	r := w.wantData(t, `{"a":1}`)
	require.Equal(t, "application/json", r.Format)
}

// A change between Read and Watch is reported by the first poll, even with
// a long poll interval; with an ETag that first poll is conditional.
func TestWatchChangeBeforeWatch(t *testing.T) {
	t.Parallel()
	for _, v := range []validators{withETag, withLastModified, withNone} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			t.Parallel()
			res := newResource(t, "one", v)
			d := openDriver(t, nil)
			tg := target(res.url(), time.Hour)
			last := d.Read(t.Context(), tg)
			res.set("two")
			w := watchFrom(t, d, tg, last)
			w.wantData(t, "two")
			h := res.lastHeader()
			switch v {
			case withETag:
				require.Equal(t, last.Version, h.Get("If-None-Match"))
			case withLastModified:
				require.Equal(t, last.Version, h.Get("If-Modified-Since"))
			default:
				require.Empty(t, h.Get("If-None-Match")+h.Get("If-Modified-Since"))
			}
		})
	}
}

func TestWatchFlapping5xx(t *testing.T) {
	t.Parallel()
	res := newResource(t, `{"v":1}`, withETag)
	w, _ := startWatch(t, openDriver(t, nil), target(res.url()+"?token=FLAPSECRET", poll))
	for round := range 3 {
		res.fail(nethttp.StatusInternalServerError)
		require.NotContains(t, w.wantErr(t, sources.ErrHTTPStatus), "FLAPSECRET")
		n, _, _ := res.counts()
		waitRequests(t, res, n+2) // retried, same error: not reported again
		res.fail(nethttp.StatusBadGateway)
		require.Contains(t, w.wantErr(t, sources.ErrHTTPStatus), "502")
		// Back: a 304 (the ETag is kept through the errors) reports the last
		// value again, so that livebind clears the error.
		res.fail(0)
		r := w.wantData(t, `{"v":1}`)
		require.Equal(t, res.etag(), r.Version, "round %d", round)
		require.Equal(t, "application/json", r.Format)
	}
	res.set(`{"v":2}`)
	w.wantData(t, `{"v":2}`)
}

func TestWatchMissing(t *testing.T) {
	t.Parallel()
	res := newResource(t, "x", withETag)
	w, _ := startWatch(t, openDriver(t, nil), target(res.url(), poll))
	res.fail(nethttp.StatusNotFound)
	w.wantMissing(t)
	res.fail(nethttp.StatusGone)
	w.wantQuiet(t, 5*poll)
	res.fail(0)
	w.wantData(t, "x")
	require.Empty(t, res.lastHeader().Get("If-None-Match"), "validators are dropped with the value")
}

func TestWatchRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		header func() []string
	}{
		{"429 seconds", nethttp.StatusTooManyRequests, func() []string { return []string{"Retry-After", "1"} }},
		{"503 http-date", nethttp.StatusServiceUnavailable, func() []string {
			now := time.Now().UTC().Truncate(time.Second)
			return []string{"Date", now.Format(nethttp.TimeFormat), "Retry-After", now.Add(time.Second).Format(nethttp.TimeFormat)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := newResource(t, "x", withETag)
			w, _ := startWatch(t, openDriver(t, nil), target(res.url(), poll))
			waitRequests(t, res, 3)
			res.fail(tt.status, tt.header()...)
			require.Contains(t, w.wantErr(t, sources.ErrHTTPStatus), fmt.Sprint(tt.status))
			failedAt := time.Now()
			n, _, _ := res.counts()
			res.fail(0)
			w.wantData(t, "x")
			require.GreaterOrEqual(t, time.Since(failedAt), 800*time.Millisecond, "Retry-After honored")
			got, _, _ := res.counts()
			require.Equal(t, n+1, got, "no request before Retry-After")
		})
	}
}

// Errors that will not clear up soon are never retried hot: about one
// request in the first second even with poll=10ms.
func TestWatchNoStormOnPermanentErrors(t *testing.T) {
	t.Parallel()
	for _, code := range []int{400, 401, 403, 405, 501} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			res := newResource(t, "x", withNone)
			d := openDriver(t, nil)
			tg := target(res.url(), poll)
			last := d.Read(t.Context(), tg)
			res.fail(code)
			w := watchFrom(t, d, tg, last)
			require.Contains(t, w.wantErr(t, sources.ErrHTTPStatus), fmt.Sprint(code))
			time.Sleep(time.Second)
			got, _, _ := res.counts()
			require.LessOrEqual(t, got, 1+3, "requests in 1s after a %d", code)
			w.wantQuiet(t, 0)
		})
	}
}

// A too large body is reported, not truncated, and not fetched in a loop.
func TestWatchBodyTooLarge(t *testing.T) {
	t.Parallel()
	res := newResource(t, "small", withETag)
	w, _ := startWatch(t, openDriver(t, nil), target(res.url(), poll, "maxbytes=8"))
	res.set("far too large")
	require.Contains(t, w.wantErr(t, sources.ErrTooLarge), "maxbytes=8")
	res.set("ok again")
	w.wantData(t, "ok again")
}

func TestWatchSlowBody(t *testing.T) {
	t.Parallel()
	srv, _ := slowServer(t)
	d := openDriver(t, nil)
	tg := target(srv.URL, poll)
	tg.Timeout = 50 * time.Millisecond
	w := watchFrom(t, d, tg, sources.Result{Data: []byte("old")})
	r := w.Next(t)
	require.ErrorContains(t, r.Err, "timeout=50ms")
	w.Stop()
}

// Close returns at once while a slow-loris body is being read.
func TestCloseDuringSlowBody(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"close", "stop"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			srv, started := slowServer(t)
			s, _ := sources.Lookup("http")
			d, err := s.Open(sources.Config{})
			require.NoError(t, err)
			var emits atomic.Int32
			stop, err := d.Watch(target(srv.URL, poll), sources.Result{Data: []byte("old")}, func(sources.Result) { emits.Add(1) })
			require.NoError(t, err)
			select {
			case <-started:
			case <-time.After(waitFor):
				t.Fatal("request not started")
			}
			start := time.Now()
			if how == "stop" {
				stop()
			}
			require.NoError(t, d.Close())
			require.Less(t, time.Since(start), time.Second)
			stop() // after Close: harmless
			require.Zero(t, emits.Load(), "a canceled request reports nothing")
		})
	}
}

// stop is prompt while the watcher waits out a long backoff.
func TestStopDuringBackoff(t *testing.T) {
	t.Parallel()
	res := newResource(t, "x", withNone)
	res.fail(nethttp.StatusServiceUnavailable, "Retry-After", "3600")
	d := openDriver(t, nil)
	w := watchFrom(t, d, target(res.url(), poll), sources.Result{Data: []byte("x")})
	require.Contains(t, w.wantErr(t, sources.ErrHTTPStatus), "503")
	start := time.Now()
	w.Stop()
	require.Less(t, time.Since(start), 100*time.Millisecond)
	got, _, _ := res.counts()
	require.Equal(t, 1, got)
}

func TestWatchServerGoneThenBack(t *testing.T) {
	t.Parallel()
	var body atomic.Value
	body.Store("one")
	handler := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		fmt.Fprint(w, body.Load())
	})
	srv := httptest.NewServer(handler)
	addr := srv.Listener.Addr().String()
	w, _ := startWatch(t, openDriver(t, nil), target(srv.URL+"/x?session=GONESECRET", poll))
	srv.Close()
	err := w.Next(t).Err
	require.Error(t, err)
	require.NotContains(t, err.Error(), "GONESECRET")
	require.Contains(t, err.Error(), "session=xxxxx")

	ln, lerr := net.Listen("tcp", addr) // back on the same port
	if lerr != nil {
		t.Skipf("cannot listen on %s again: %v", addr, lerr)
	}
	body.Store("two")
	srv2 := &httptest.Server{Listener: ln, Config: &nethttp.Server{Handler: handler}}
	srv2.Start()
	t.Cleanup(srv2.Close)
	w.wantData(t, "two")
}

func TestWatchRedirect(t *testing.T) {
	t.Parallel()
	res := newResource(t, "moved", withETag)
	srv := httptest.NewServer(nethttp.RedirectHandler(res.url(), nethttp.StatusMovedPermanently))
	t.Cleanup(srv.Close)
	w, last := startWatch(t, openDriver(t, nil), target(srv.URL+"/old", poll))
	require.Equal(t, "moved", string(last.Data))
	waitRequests(t, res, 4)
	_, notMod, _ := res.counts()
	require.Positive(t, notMod, "validators survive the redirect")
	res.set("moved again")
	w.wantData(t, "moved again")
}

func TestWatchHeaderSecret(t *testing.T) {
	t.Parallel()
	res := newResource(t, "x", withNone)
	var logs strings.Builder
	var mu sync.Mutex
	d := openDriver(t, nil)
	d.logger = newLogger(&mu, &logs)
	w, _ := startWatch(t, d, target(res.url(), poll, "header=Authorization: Bearer HEADERSECRET"))
	require.Equal(t, "Bearer HEADERSECRET", res.lastHeader().Get("Authorization"))
	res.fail(nethttp.StatusForbidden)
	require.NotContains(t, w.wantErr(t, sources.ErrHTTPStatus), "HEADERSECRET")
	w.Stop()
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, logs.String(), "poll failed")
	require.NotContains(t, logs.String(), "HEADERSECRET")
}

// max-age longer than poll= stretches the interval, up to ten polls.
func TestWatchMaxAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		poll     time.Duration
		cc       string
		min, max int // watch requests in the 1.2s window: at 0, then every interval
	}{
		{"max-age 1s beats poll 200ms", 200 * time.Millisecond, "max-age=1", 1, 2},
		{"capped at ten polls", 50 * time.Millisecond, "public, max-age=86400", 2, 4},
		{"no-cache ignores it", 50 * time.Millisecond, "max-age=86400, no-cache", 12, 30},
		{"shorter than poll", 50 * time.Millisecond, "max-age=0", 12, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := newResource(t, "x", withETag)
			res.header.Set("Cache-Control", tt.cc)
			w, _ := startWatch(t, openDriver(t, nil), target(res.url(), tt.poll))
			time.Sleep(1200 * time.Millisecond)
			got, _, _ := res.counts()
			got-- // Read
			require.GreaterOrEqual(t, got, tt.min)
			require.LessOrEqual(t, got, tt.max)
			w.wantQuiet(t, 0)
		})
	}
}

// Watches started and stopped from many goroutines while the document
// changes, then a Close racing the last watches: run with -race; goleak
// checks the rest.
func TestConcurrentWatchStopClose(t *testing.T) {
	t.Parallel()
	res := newResource(t, "x", withETag)
	d := openDriver(t, nil)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 10 {
				stop, err := d.Watch(target(res.url(), time.Millisecond), sources.Result{Data: []byte("x")}, func(sources.Result) {})
				if err != nil {
					t.Error(err)
					return
				}
				res.set(fmt.Sprint(g, i))
				time.Sleep(time.Millisecond)
				stop()
			}
		})
	}
	wg.Wait()
	require.Zero(t, d.watches.Len())

	var started sync.WaitGroup
	for range 4 {
		started.Go(func() {
			for range 10 {
				if _, err := d.Watch(target(res.url(), time.Millisecond), sources.Result{}, func(sources.Result) {}); err != nil {
					require.ErrorIs(t, err, sources.ErrClosed)
					return
				}
			}
		})
	}
	require.NoError(t, d.Close())
	started.Wait()
	require.Zero(t, d.watches.Len())
}

// No emit once stop has returned, while the document changes constantly.
func TestNoEmitAfterStop(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		fmt.Fprint(w, n.Add(1))
	}))
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)
	for round := range 10 {
		var stopped atomic.Bool
		var emits atomic.Int64
		stop, err := d.Watch(target(srv.URL, time.Millisecond), sources.Result{}, func(sources.Result) {
			if stopped.Load() {
				t.Errorf("round %d: emit after stop returned", round)
			}
			emits.Add(1)
		})
		require.NoError(t, err)
		eventually(t, func() bool { return emits.Load() >= 3 }, "3 emits")
		stop()
		stopped.Store(true)
	}
}
