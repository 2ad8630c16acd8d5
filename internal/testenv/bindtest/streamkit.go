package bindtest

import (
	"context"
	nethttp "net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// StreamKit is what the fault tests of a push source (sse=, ws=) share:
// drivers of Scheme opened with its typed Config C, watches followed with
// one bound on every wait, and failures checked to be its own error type E.
type StreamKit[C any, E error] struct {
	// Scheme is the registered scheme name.
	Scheme string
	// Settle bounds every wait for a result.
	Settle time.Duration
	// Prefix must stand in the text of every E the tests provoke, such as
	// "sse http://127.0.0.1": the scheme and the redacted location.
	Prefix string
	// Fast is the config that reconnects within milliseconds, for
	// [StreamKit.Watch] and [StreamKit.Harness].
	Fast C
	// Status returns the HTTP status an E holds, for [StreamKit.Fails].
	Status func(E) int
}

// Open opens a driver of the scheme with cfg, closed at the end of the test.
func (k StreamKit[C, E]) Open(t *testing.T, cfg C) sources.Driver {
	t.Helper()
	return fixture.OpenDriver(t, k.Scheme, cfg)
}

// Follow starts a watch of tg on d and returns its log of results.
func (k StreamKit[C, E]) Follow(t *testing.T, d sources.Driver, tg *sources.Target) *fixture.Log[sources.Result] {
	t.Helper()
	return fixture.Follow(t, d, tg, k.Settle)
}

// Typed fails unless err holds an E (errors.As) whose text contains
// Prefix, and returns that E.
func (k StreamKit[C, E]) Typed(t *testing.T, err error) E {
	t.Helper()
	var e E
	require.ErrorAs(t, err, &e)
	require.Contains(t, e.Error(), k.Prefix)
	return e
}

// ClosesWhileConnecting starts a watch of loc on a driver of the Fast
// config, lets its connect run for busy (a server that holds it: a body
// that never ends, a handshake never answered), then stops the watch and
// closes the driver, which must take under a second.
func (k StreamKit[C, E]) ClosesWhileConnecting(t *testing.T, loc string, busy time.Duration) {
	t.Helper()
	d := k.Open(t, k.Fast)
	stop, err := d.Watch(&sources.Target{Scheme: k.Scheme, Location: loc}, sources.Result{}, func(sources.Result) {})
	require.NoError(t, err)
	time.Sleep(busy)
	start := time.Now()
	stop()
	require.NoError(t, d.Close())
	require.Less(t, time.Since(start), time.Second, "Close is prompt")
}

// RefusalBodyStalls checks a server that refuses a connect (503) with a
// body it never finishes: a Read with timeout=200ms still ends within a
// second, as an E with that status wrapping sources.ErrHTTPStatus, and
// Close of a watch meanwhile is prompt. loc turns the test server's
// http:// URL into the source's location.
func (k StreamKit[C, E]) RefusalBodyStalls(t *testing.T, loc func(httpURL string) string) {
	t.Helper()
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(nethttp.StatusServiceUnavailable)
		_, _ = w.Write([]byte("overloaded"))
		w.(nethttp.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	where := loc(srv.URL) + "/cfg"
	start := time.Now()
	r := k.Open(t, k.Fast).Read(fixture.Context(t, 10*time.Second), &sources.Target{Scheme: k.Scheme, Location: where, Timeout: 200 * time.Millisecond})
	require.Less(t, time.Since(start), time.Second, "the Read is bounded by timeout=")
	k.Fails(t, r.Err, sources.ErrHTTPStatus, nethttp.StatusServiceUnavailable)

	k.ClosesWhileConnecting(t, where, 300*time.Millisecond) // the connect is draining the body
}

// ReadCanceled checks that the caller's own cancellation of a Read of loc
// (a server that connects and then sends nothing), before the request and
// once it waits for the first document, is context.Canceled and not
// sources.ErrUnreachable: the server did nothing wrong.
func (k StreamKit[C, E]) ReadCanceled(t *testing.T, loc string) {
	t.Helper()
	d := k.Open(t, k.Fast)
	for _, after := range []time.Duration{0, 200 * time.Millisecond} {
		ctx, cancel := context.WithCancel(t.Context())
		if after == 0 {
			cancel()
		} else {
			time.AfterFunc(after, cancel)
		}
		r := d.Read(ctx, &sources.Target{Scheme: k.Scheme, Location: loc})
		cancel()
		require.ErrorIs(t, r.Err, context.Canceled, "canceled after %s", after)
		require.NotErrorIs(t, r.Err, sources.ErrUnreachable, "canceled after %s: %v", after, r.Err)
	}
}
