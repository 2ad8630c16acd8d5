package sources_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// emitWait bounds the wait for an emit; emitQuiet is how long none must
// come.
const emitWait, emitQuiet = 5 * time.Second, 50 * time.Millisecond

// TestWatchesShareOneLoop: two subscribers of one key share one run; each
// is told only what differs from what it saw; the loop ends with the last.
func TestWatchesShareOneLoop(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var ws sources.Watches[string, int]
	var runs atomic.Int32
	values := make(chan []byte) // what the loop reports next
	run := func(w *sources.Watch[string, int]) {
		runs.Add(1)
		for {
			select {
			case v := <-values:
				look := w.Begin(0, false)
				look.ReportEach(func(n int) sources.Result { return sources.Result{Data: append(v, byte('0'+n))} })
				look.End()
			case <-w.Context().Done():
				return
			}
		}
	}
	a := fixture.NewCollector[sources.Result]()
	b := fixture.NewCollector[sources.Result]()
	stopA, err := ws.Subscribe("k", sources.Sub[int]{Value: 1, Last: sources.Result{Data: []byte("x1")}, Emit: a.Add}, run)
	if err != nil {
		t.Fatal(err)
	}
	stopB, err := ws.Subscribe("k", sources.Sub[int]{Value: 2, Emit: b.Add}, run)
	if err != nil {
		t.Fatal(err)
	}
	if ws.Len() != 1 {
		t.Fatalf("Len = %d, want 1 watch for one key", ws.Len())
	}
	values <- []byte("x")
	if got := b.Next(t, emitWait); string(got.Data) != "x2" {
		t.Fatalf("b got %q, want x2", got.Data)
	}
	a.Quiet(t, emitQuiet) // x1 is what a saw already: deduped
	values <- []byte("y")
	if got := a.Next(t, emitWait); string(got.Data) != "y1" {
		t.Fatalf("a got %q, want y1", got.Data)
	}
	b.Next(t, emitWait)
	stopA()
	stopA()
	values <- []byte("z")
	b.Next(t, emitWait)
	a.Quiet(t, emitQuiet)
	stopB()
	if ws.Len() != 0 || runs.Load() != 1 {
		t.Fatalf("after the last stop: Len = %d, runs = %d; want 0 and 1", ws.Len(), runs.Load())
	}
	ws.Close()
	ws.Close()
	if _, err := ws.Subscribe("k", sources.Sub[int]{Emit: a.Add}, run); !errors.Is(err, sources.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
	}
}

// TestWatchesJoinInterrupts: a subscriber joining a running watch kicks it
// out of Sleep and cancels an interruptible look, which reports Interrupted
// and Joined rather than a failure; the newcomer gets only answers to looks
// begun after it joined.
func TestWatchesJoinInterrupts(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var ws sources.Watches[string, struct{}]
	defer ws.Close()
	type outcome struct{ interrupted, joined bool }
	outcomes := make(chan outcome, 4)
	started := make(chan struct{}, 4)
	run := func(w *sources.Watch[string, struct{}]) {
		for w.Sleep(0) {
			look := w.Begin(time.Hour, true)
			started <- struct{}{}
			<-look.Context().Done() // a blocking request that only a join or the end cuts short
			look.End()
			if w.Context().Err() != nil {
				return
			}
			outcomes <- outcome{look.Interrupted(), look.Joined()}
			look = w.Begin(0, false)
			look.Report(sources.Result{Data: []byte("fresh")})
			look.End()
			if !w.Sleep(time.Hour) {
				return
			}
		}
	}
	a := fixture.NewCollector[sources.Result]()
	if _, err := ws.Subscribe("k", sources.Sub[struct{}]{Emit: a.Add}, run); err != nil {
		t.Fatal(err)
	}
	<-started
	b := fixture.NewCollector[sources.Result]()
	if _, err := ws.Subscribe("k", sources.Sub[struct{}]{Emit: b.Add}, run); err != nil {
		t.Fatal(err)
	}
	if o := <-outcomes; !o.interrupted {
		t.Fatalf("a join canceled the look but Interrupted() = false (%+v)", o)
	}
	a.Next(t, emitWait)
	b.Next(t, emitWait)
	c := fixture.NewCollector[sources.Result]()
	if _, err := ws.Subscribe("k", sources.Sub[struct{}]{Emit: c.Add}, run); err != nil {
		t.Fatal(err)
	}
	<-started // the Sleep(time.Hour) was cut short by the third join
	d := fixture.NewCollector[sources.Result]()
	if _, err := ws.Subscribe("k", sources.Sub[struct{}]{Emit: d.Add}, run); err != nil {
		t.Fatal(err)
	}
	if o := <-outcomes; !o.interrupted || !o.joined {
		t.Fatalf("a look begun after a join, then cut by another: %+v, want interrupted and joined", o)
	}
	c.Next(t, emitWait)
	d.Next(t, emitWait)
	a.Quiet(t, emitQuiet) // same "fresh" again: deduped
}

// TestWatchesNoEmitAfterStop: stop waits for an emit in progress.
func TestWatchesNoEmitAfterStop(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var ws sources.Watches[int, struct{}]
	defer ws.Close()
	for round := range 20 {
		var stopped atomic.Bool
		emitted := make(chan struct{}, 1)
		emit := func(sources.Result) {
			time.Sleep(100 * time.Microsecond)
			if stopped.Load() {
				t.Errorf("round %d: emit after stop returned", round)
			}
			select {
			case emitted <- struct{}{}:
			default:
			}
		}
		keep, err := ws.Subscribe(round, sources.Sub[struct{}]{Emit: func(sources.Result) {}}, func(w *sources.Watch[int, struct{}]) {
			for i := 0; w.Sleep(0); i++ {
				look := w.Begin(0, false)
				look.Report(sources.Result{Data: []byte{byte(i)}})
				look.End()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		stop, err := ws.Subscribe(round, sources.Sub[struct{}]{Emit: emit}, nil)
		if err != nil {
			t.Fatal(err)
		}
		<-emitted
		stop()
		stopped.Store(true)
		time.Sleep(time.Millisecond)
		keep()
	}
}

// TestWatchesCloseWaits: Close cancels every watch and returns only once
// each run has returned; NextPoll follows Sleep.
func TestWatchesCloseWaits(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var ws sources.Watches[int, struct{}]
	var running atomic.Int32
	tg := &sources.Target{}
	for k := range 3 {
		target := &sources.Target{}
		if k == 0 {
			target = tg
		}
		_, err := ws.Subscribe(k, sources.Sub[struct{}]{Target: target, Emit: func(sources.Result) {}}, func(w *sources.Watch[int, struct{}]) {
			running.Add(1)
			defer running.Add(-1)
			for w.Sleep(time.Hour) {
			}
			time.Sleep(10 * time.Millisecond) // a slow shutdown Close must wait for
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for ws.NextPoll(tg).IsZero() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if np := ws.NextPoll(tg); time.Until(np) < 59*time.Minute {
		t.Fatalf("NextPoll = %v, want about an hour from now", np)
	}
	if !ws.NextPoll(&sources.Target{}).IsZero() {
		t.Fatal("NextPoll of a target not watched is not zero")
	}
	ws.Close()
	if n := running.Load(); n != 0 {
		t.Fatalf("%d runs still running after Close returned", n)
	}
	if ctx := ws.Context(); ctx.Err() != context.Canceled {
		t.Fatalf("Context after Close: %v, want canceled", ctx.Err())
	}
}

func TestSame(t *testing.T) {
	t.Parallel()
	data := func(s, v string) sources.Result { return sources.Result{Data: []byte(s), Version: v} }
	tests := []struct {
		name string
		a, b sources.Result
		same bool
	}{
		{"version/only", data("a", "1"), data("a", "2"), true},
		{"data/differs", data("a", "1"), data("b", "1"), false},
		{"missing/both", sources.Result{Missing: true, Version: "3"}, sources.Result{Missing: true}, true},
		{"empty/not-missing", data("", "1"), sources.Result{Missing: true}, false},
		{"format/differs", data("1", ""), sources.Result{Data: []byte("1"), Format: "application/json"}, false},
		{"error/same-text", sources.Result{Err: errors.New("x")}, sources.Result{Err: errors.New("x")}, true},
		{"error/other-text", sources.Result{Err: errors.New("x")}, sources.Result{Err: errors.New("y")}, false},
		{"error/vs-data", sources.Result{Err: errors.New("x")}, data("x", ""), false},
	}
	for _, tt := range tests {
		if got := sources.Same(tt.a, tt.b); got != tt.same {
			t.Errorf("%s: Same = %v, want %v", tt.name, got, tt.same)
		}
	}
}

// TestWatchesReadContext: a Read's context ends at its timeout, at Close,
// or when its cancel is called, whichever comes first.
func TestWatchesReadContext(t *testing.T) {
	t.Parallel()
	var ws sources.Watches[string, struct{}]
	ctx, cancel := ws.ReadContext(t.Context(), 20*time.Millisecond)
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("after the timeout: %v, want DeadlineExceeded", ctx.Err())
	}
	cancel()

	ctx, cancel = ws.ReadContext(t.Context(), time.Hour)
	cancel()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("after cancel: %v, want Canceled", ctx.Err())
	}

	ctx, cancel = ws.ReadContext(t.Context(), time.Hour)
	defer cancel()
	if ctx.Err() != nil {
		t.Fatalf("before Close: %v", ctx.Err())
	}
	ws.Close()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a Read's context")
	}
}
