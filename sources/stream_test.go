package sources_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
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
