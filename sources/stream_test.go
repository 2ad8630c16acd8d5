package sources_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// chanStream yields the documents sent on docs; closing docs ends it
// cleanly.
type chanStream struct{ docs chan []byte }

func (s *chanStream) Next(ctx context.Context) (sources.Result, *sources.StreamEnd) {
	select {
	case d, ok := <-s.docs:
		if !ok {
			return sources.Result{}, &sources.StreamEnd{}
		}
		return sources.Result{Data: d}, nil
	case <-ctx.Done():
		return sources.Result{}, &sources.StreamEnd{Result: sources.Result{Err: ctx.Err()}}
	}
}

func (s *chanStream) Close() error { return nil }

// follow subscribes emit to a FollowStream watch over dial.
func followStream(t *testing.T, ws *sources.Watches[string, struct{}], dial sources.Dialer, emit func(sources.Result)) func() {
	t.Helper()
	policy := sources.StreamPolicy{Timeout: time.Second, Retry: sources.NewRetry(10*time.Millisecond, 10*time.Millisecond, 50*time.Millisecond)}
	stop, err := ws.Subscribe("k", sources.Sub[struct{}]{Target: &sources.Target{}, Last: sources.Result{Missing: true}, Emit: emit},
		func(w *sources.Watch[string, struct{}]) { sources.FollowStream(w, policy, dial) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return stop
}

// A burst the subscriber cannot keep up with coalesces: it sees far fewer
// results than documents, and the last document last.
func TestFollowStreamCoalesces(t *testing.T) {
	var ws sources.Watches[string, struct{}]
	defer ws.Close()
	s := &chanStream{docs: make(chan []byte)}
	log := fixture.NewLog[sources.Result](5 * time.Second)
	followStream(t, &ws, func(context.Context) (sources.Stream, *sources.StreamEnd) { return s, nil }, func(r sources.Result) {
		time.Sleep(time.Millisecond) // a slow subscriber
		log.Add(r)
	})
	const n = 2000
	for i := range n {
		s.docs <- []byte(strconv.Itoa(i))
	}
	log.Until(t, "the last document", fixture.IsData(strconv.Itoa(n-1)))
	t.Logf("%d documents, %d results", n, log.Len())
	if log.Len() > n/4 {
		t.Errorf("%d results for %d documents: the burst did not coalesce", log.Len(), n)
	}
}

// A clean end reports nothing and reconnects; a failed reconnect is
// reported; Stop waits for a joining field before dialing again.
func TestFollowStreamEnds(t *testing.T) {
	var ws sources.Watches[string, struct{}]
	defer ws.Close()
	var dials atomic.Int64
	down := errors.New("server down")
	dial := func(context.Context) (sources.Stream, *sources.StreamEnd) {
		switch dials.Add(1) {
		case 1: // one document, then a clean end
			s := &chanStream{docs: make(chan []byte, 1)}
			s.docs <- []byte("doc")
			close(s.docs)
			return s, nil
		case 2:
			return nil, &sources.StreamEnd{Result: sources.Result{Err: down}}
		default:
			return nil, &sources.StreamEnd{Result: sources.Result{Err: errors.New("stop")}, Stop: true}
		}
	}
	log := fixture.NewLog[sources.Result](5 * time.Second)
	followStream(t, &ws, dial, log.Add)
	if r := log.Nth(t, 0); string(r.Data) != "doc" {
		t.Fatalf("first result %+v, want the document", r)
	}
	if r := log.Nth(t, 1); !errors.Is(r.Err, down) {
		t.Fatalf("second result %+v, want the failed reconnect (the clean end reports nothing)", r)
	}
	log.Nth(t, 2) // the stop
	time.Sleep(100 * time.Millisecond)
	if n := dials.Load(); n != 3 {
		t.Fatalf("%d dials after a Stop; want 3", n)
	}
	followStream(t, &ws, dial, func(sources.Result) {}) // a field joins
	deadline := time.Now().Add(5 * time.Second)
	for dials.Load() < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := dials.Load(); n != 4 {
		t.Fatalf("%d dials after a field joined a stopped watch; want 4", n)
	}
}

// ReadStream returns the first document, or the source's error when the
// stream ends before one.
func TestReadStream(t *testing.T) {
	t.Parallel()
	empty := &chanStream{docs: make(chan []byte)}
	close(empty.docs)
	ended := errors.New("ended before a document")
	r := sources.ReadStream(t.Context(), func(context.Context) (sources.Stream, *sources.StreamEnd) { return empty, nil }, func() error { return ended })
	if !errors.Is(r.Err, ended) {
		t.Fatalf("got %+v, want the ended error", r)
	}
	one := &chanStream{docs: make(chan []byte, 1)}
	one.docs <- []byte("x")
	r = sources.ReadStream(t.Context(), func(context.Context) (sources.Stream, *sources.StreamEnd) { return one, nil }, func() error { return ended })
	if string(r.Data) != "x" {
		t.Fatalf("got %+v, want the document", r)
	}
}

// A stream that stayed open a while was a healthy connection, even when it
// delivered nothing (an event stream resumed with a current Last-Event-ID
// has nothing new to send) before it ended: the next connect comes after
// the backoff's first wait, not a doubled one. A proxy that ends idle
// streams every minute must not push the reconnects of a quiet source
// toward the backoff's cap, leaving it disconnected most of the time.
// Streams that end at once still back off.
func TestFollowStreamHealthyStreamResetsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ws sources.Watches[string, struct{}]
		defer ws.Close()
		const base, maxWait = time.Second, 5 * time.Minute
		var (
			mu    sync.Mutex
			lived time.Duration // how long each stream stays open
			ends  []time.Time   // when each stream ended
			dials []time.Time
		)
		dial := func(ctx context.Context) (sources.Stream, *sources.StreamEnd) {
			mu.Lock()
			defer mu.Unlock()
			dials = append(dials, time.Now())
			return &timedStream{life: lived, ended: func() {
				mu.Lock()
				ends = append(ends, time.Now())
				mu.Unlock()
			}}, nil
		}
		gaps := func(from int) []time.Duration {
			mu.Lock()
			defer mu.Unlock()
			var g []time.Duration
			for i := from; i < len(ends) && i+1 < len(dials); i++ {
				g = append(g, dials[i+1].Sub(ends[i]))
			}
			return g
		}
		policy := sources.StreamPolicy{Timeout: time.Second, Retry: sources.NewRetry(base, base, maxWait)}
		stop, err := ws.Subscribe("k", sources.Sub[struct{}]{Target: &sources.Target{}, Last: sources.Result{Missing: true}, Emit: func(sources.Result) {}},
			func(w *sources.Watch[string, struct{}]) { sources.FollowStream(w, policy, dial) })
		if err != nil {
			t.Fatal(err)
		}
		defer stop()

		// Streams that end at once: the waits grow (1s, 2s, 4s, 8s bounds).
		time.Sleep(20 * time.Second)
		quick := gaps(0)
		if len(quick) < 4 || quick[3] < 4*time.Second {
			t.Fatalf("waits after streams that ended at once: %v; want them to grow past 4s", quick)
		}
		mu.Lock()
		lived, from := time.Minute, len(ends)
		mu.Unlock()
		// Streams that stay open a minute, then end cleanly with nothing
		// delivered: each next connect is within the first wait's bound.
		time.Sleep(10 * time.Minute)
		healthy := gaps(from + 1) // the first stream of a minute began under the grown backoff
		if len(healthy) < 5 {
			t.Fatalf("%d reconnects in 10 minutes of streams that live a minute: %v", len(healthy), healthy)
		}
		for i, g := range healthy {
			if g >= base {
				t.Fatalf("wait %d after a stream open for a minute: %v (all: %v); want under %v, the backoff's first wait", i, g, healthy, base)
			}
		}
	})
}

// timedStream delivers nothing and ends cleanly after life.
type timedStream struct {
	life  time.Duration
	ended func()
}

func (s *timedStream) Next(ctx context.Context) (sources.Result, *sources.StreamEnd) {
	t := time.NewTimer(s.life)
	defer t.Stop()
	select {
	case <-t.C:
		s.ended()
		return sources.Result{}, &sources.StreamEnd{}
	case <-ctx.Done():
		return sources.Result{}, &sources.StreamEnd{Result: sources.Result{Err: ctx.Err()}}
	}
}

func (s *timedStream) Close() error { return nil }

// resumedStream is a chanStream that says it resumes where its watch left
// off (an event stream requested with Last-Event-ID).
type resumedStream struct{ chanStream }

func (*resumedStream) Resumed() bool { return true }

// A stream owes its first document when the policy says so (Ended set, as
// sse= and ws= set it): a clean end before one is a failed attempt,
// reported as Ended's error once while it repeats, and a first document
// that does not come within Timeout of the connect ends the stream with
// Late's error; both reconnect on the backoff, keeping the end's After.
// Once a document came, a quiet stream or a clean end is no failure, and
// a resumed stream owes nothing. This is the rule sse= and ws= each kept a
// copy of (TestEmptyStreamWithoutLastEventID, TestStreamWithoutFirstEvent,
// TestCleanCloseBeforeFirstMessage, TestConnectionWithoutFirstMessage).
func TestFollowStreamOwesFirstDocument(t *testing.T) {
	ended := errors.New("ended before a document")
	late := func(d time.Duration) error { return fmt.Errorf("no document within timeout=%v of the connect", d) }
	const timeout = time.Second
	closed := func() *chanStream { s := &chanStream{docs: make(chan []byte)}; close(s.docs); return s }
	silent := func() *chanStream { return &chanStream{docs: make(chan []byte)} }
	oneThen := func(end bool) *chanStream {
		s := &chanStream{docs: make(chan []byte, 1)}
		s.docs <- []byte("doc")
		if end {
			close(s.docs)
		}
		return s
	}
	for name, c := range map[string]struct {
		stream func() sources.Stream
		after  time.Duration // the stream's end asks for this wait
		want   string        // the one result reported; "" for none
		dials  int           // dials in 10s
	}{
		"clean-end":          {stream: func() sources.Stream { return closed() }, want: ended.Error(), dials: 11},
		"clean-end-after":    {stream: func() sources.Stream { return &afterStream{closed(), 4 * time.Second} }, want: ended.Error(), dials: 3},
		"silent":             {stream: func() sources.Stream { return silent() }, want: late(timeout).Error(), dials: 10},
		"doc-then-silent":    {stream: func() sources.Stream { return oneThen(false) }, want: "doc", dials: 1},
		"doc-then-clean-end": {stream: func() sources.Stream { return oneThen(true) }, want: "doc", dials: 11},
		"resumed-clean-end":  {stream: func() sources.Stream { return &resumedStream{*closed()} }, dials: 11},
		"resumed-silent":     {stream: func() sources.Stream { return &resumedStream{*silent()} }, dials: 1},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var ws sources.Watches[string, struct{}]
				defer ws.Close()
				var (
					mu      sync.Mutex
					results []sources.Result
					dials   int
				)
				dial := func(context.Context) (sources.Stream, *sources.StreamEnd) {
					mu.Lock()
					defer mu.Unlock()
					dials++
					return c.stream(), nil
				}
				policy := sources.StreamPolicy{
					Timeout: timeout,
					Retry:   sources.NewRetry(time.Second, time.Second, time.Second), // waits in [0.5s, 1s)
					Ended:   func() error { return ended },
					Late:    late,
				}
				emit := func(r sources.Result) { mu.Lock(); results = append(results, r); mu.Unlock() }
				stop, err := ws.Subscribe("k", sources.Sub[struct{}]{Target: &sources.Target{}, Last: sources.Result{Missing: true}, Emit: emit},
					func(w *sources.Watch[string, struct{}]) { sources.FollowStream(w, policy, dial) })
				if err != nil {
					t.Fatal(err)
				}
				defer stop()
				time.Sleep(10 * time.Second)
				synctest.Wait()
				mu.Lock()
				defer mu.Unlock()
				var got []string
				for _, r := range results {
					if r.Err != nil {
						got = append(got, r.Err.Error())
					} else {
						got = append(got, string(r.Data))
					}
				}
				t.Logf("%d dials, results %q", dials, got)
				switch {
				case c.want == "" && len(got) != 0:
					t.Errorf("results %q; want none", got)
				case c.want != "" && (len(got) != 1 || got[0] != c.want):
					t.Errorf("results %q; want only %q", got, c.want)
				case c.want == ended.Error() && !errors.Is(results[0].Err, ended):
					t.Errorf("result %v does not wrap Ended's error", results[0].Err)
				}
				// Streams that end at once: one dial, then one per wait of
				// [0.5s, 1s); a stream held for timeout: one per 1.5-2s.
				lo, hi := c.dials, c.dials
				switch c.dials {
				case 11:
					lo, hi = 10, 21
				case 10:
					lo, hi = 5, 7
				}
				if dials < lo || dials > hi {
					t.Errorf("%d dials in 10s; want %d to %d", dials, lo, hi)
				}
			})
		})
	}
}

// afterStream ends as its chanStream does, asking for a wait of after
// before the next connect.
type afterStream struct {
	*chanStream
	after time.Duration
}

func (s *afterStream) Next(ctx context.Context) (sources.Result, *sources.StreamEnd) {
	r, end := s.chanStream.Next(ctx)
	if end != nil {
		end.After = s.after
	}
	return r, end
}
