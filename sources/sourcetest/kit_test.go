package sourcetest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sourcetest"
)

// flaw is one contract violation a broken driver commits.
type flaw int

const (
	leaks             flaw = iota // Close returns without ending the watch goroutines
	ignoresContext                // Read waits for a stalled store whatever its context
	emitsAfterStop                // stop returns before the watch goroutine has finished emitting
	emptyForAbsent                // an absent key reads as empty data
	noDedupe                      // every notification is emitted, changed or not
	untypedErrors                 // failures are plain strings that quote the password
	readsAll                      // an oversized value is copied whole before the size check
	noFirstLook                   // a new watch waits for the next change before looking
	lastWatchWins                 // a second watch of a key takes over the first's emit
	stallUnclassed                // a Read that got no answer in time is not ErrUnreachable
	cancelUnreachable             // a Read the caller canceled is ErrUnreachable
)

// brokenDriver is a hand-written driver over Store, correct but for its
// flaw. It keeps its own lifecycle, the way drivers did before
// sources.Watches, so that each flaw is one small deviation.
type brokenDriver struct {
	store *Store
	flaw  flaw

	mu      sync.Mutex
	closed  bool
	wg      sync.WaitGroup
	cancels []context.CancelFunc
	byKey   map[string]*brokenWatch // for lastWatchWins
}

type brokenWatch struct {
	mu      sync.Mutex
	stopped bool
	last    sources.Result
	emit    func(sources.Result)
}

func (d *brokenDriver) Read(ctx context.Context, t *sources.Target) sources.Result {
	if d.flaw == ignoresContext {
		ctx = context.Background()
	}
	if d.flaw == cancelUnreachable && ctx.Err() != nil { // looks first, and calls it the server's fault
		return sources.Result{Err: &Error{Key: t.Location, Err: fmt.Errorf("%w: %w", sources.ErrUnreachable, ctx.Err())}}
	}
	r, _ := d.fetch(ctx, t.Location)
	return r
}

func (d *brokenDriver) fetch(ctx context.Context, key string) (sources.Result, <-chan struct{}) {
	v, ok, changed, err := d.store.get(ctx, key)
	switch {
	case err != nil && d.flaw == untypedErrors:
		return sources.Result{Err: errors.New("read " + key + " with password hunter2: " + err.Error())}, changed
	case err != nil && d.flaw == stallUnclassed:
		return sources.Result{Err: &Error{Key: key, Err: err}}, changed
	case err != nil:
		return sources.Result{Err: &Error{Key: key, Err: sources.Unreachable(err)}}, changed
	case !ok && d.flaw == emptyForAbsent:
		return sources.Result{Data: []byte{}}, changed
	case !ok:
		return sources.Result{Missing: true}, changed
	}
	if d.flaw == readsAll {
		v = bytes.Clone(v)
	}
	if len(v) > d.store.MaxSize {
		return sources.Result{Err: &Error{Key: key, Err: sources.ErrTooLarge}}, changed
	}
	return sources.Result{Data: v}, changed
}

func (d *brokenDriver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, sources.ErrClosed
	}
	w := &brokenWatch{last: last, emit: emit}
	if d.flaw == lastWatchWins {
		if old := d.byKey[t.Location]; old != nil {
			old.mu.Lock()
			old.emit = emit
			old.mu.Unlock()
			return func() {}, nil
		}
		d.byKey[t.Location] = w
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancels = append(d.cancels, cancel)
	done := make(chan struct{})
	if d.flaw != leaks {
		d.wg.Add(1)
	}
	go func() {
		defer close(done)
		if d.flaw != leaks {
			defer d.wg.Done()
		}
		d.follow(ctx, t.Location, w)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if d.flaw == emitsAfterStop || d.flaw == leaks {
				return
			}
			w.mu.Lock()
			w.stopped = true
			w.mu.Unlock()
			<-done
		})
	}, nil
}

func (d *brokenDriver) follow(ctx context.Context, key string, w *brokenWatch) {
	first := d.flaw != noFirstLook
	_, _, changed, _ := d.store.get(ctx, key)
	for {
		if !first {
			select {
			case <-changed:
			case <-ctx.Done():
				if d.flaw == leaks {
					<-make(chan struct{}) // never returns
				}
				return
			}
		}
		first = false
		var r sources.Result
		r, changed = d.fetch(ctx, key)
		if ctx.Err() != nil && d.flaw != emitsAfterStop {
			return
		}
		w.mu.Lock()
		if !w.stopped && (d.flaw == noDedupe || !sources.Same(w.last, r)) {
			w.last = r
			if d.flaw == emitsAfterStop {
				time.Sleep(time.Millisecond) // a slow emit, racing the stop
			}
			w.emit(r)
		}
		w.mu.Unlock()
	}
}

func (d *brokenDriver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	cancels := d.cancels
	d.mu.Unlock()
	for _, c := range cancels {
		c()
	}
	d.wg.Wait()
	return nil
}

// TestKitCatchesEachFlaw runs the kit, in a child process, against a driver
// with one flaw at a time, and checks that the check made for that flaw
// fails (and says why).
func TestKitCatchesEachFlaw(t *testing.T) {
	tests := []struct {
		flaw  flaw
		check string // the subtest that must fail
		says  string // in its failure message
	}{
		{leaks, "lifecycle", "goroutines left"},
		{ignoresContext, "context", "ignored its"},
		{emitsAfterStop, "stop", "emit after"},
		{emptyForAbsent, "read", "want {Missing}"},
		{noDedupe, "dedupe", "unexpected emit"},
		{untypedErrors, "errors", "holds a secret"},
		{readsAll, "oversize", "allocated"},
		{noFirstLook, "read-then-watch", "nothing emitted"},
		{lastWatchWins, "fan-out", "first watch"},
		{stallUnclassed, "context", "sources.ErrUnreachable"},
		{cancelUnreachable, "context", "caller's"},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			res := childtest.Run(t, childtest.Limits{Timeout: 90 * time.Second}, func(t *testing.T) {
				t.Helper()
				store := &Store{MaxSize: 512 << 10}
				h := memHarness(store)
				h.Settle = 2 * time.Second
				h.Open = func(cfg sources.Config) (sources.Driver, error) {
					s, _ := cfg.Value.(*Store)
					return &brokenDriver{store: s, flaw: tt.flaw, byKey: map[string]*brokenWatch{}}, nil
				}
				sourcetest.Run(t, h)
			})
			if res.OK() {
				t.Fatalf("the kit passed a driver that %s", tt.check)
			}
			fail := "--- FAIL: " + t.Name() + "/" + tt.check + " "
			if !strings.Contains(res.Output, fail) {
				t.Fatalf("subtest %s did not fail:\n%s", tt.check, res)
			}
			if !strings.Contains(res.Output, tt.says) {
				t.Fatalf("the failure does not say %q:\n%s", tt.says, res)
			}
		})
	}
}

// TestKitNeedsTheBasics checks that Run refuses a harness it cannot drive.
func TestKitNeedsTheBasics(t *testing.T) {
	res := childtest.Run(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) {
		t.Helper()
		sourcetest.Run(t, sourcetest.Harness{Scheme: "mem"})
	})
	if res.OK() || !strings.Contains(res.Output, "needs Target, Set and Remove") {
		t.Fatalf("want a failure naming the missing hooks:\n%s", res)
	}
}
