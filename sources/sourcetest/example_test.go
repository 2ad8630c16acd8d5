package sourcetest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sourcetest"
)

// This file is the complete source of docs/writing-a-source.md: a "mem"
// scheme over an in-memory store that tells watchers about changes.

// Store is an in-memory key-value store, the "outside world" of the mem
// source. It is safe for concurrent use.
type Store struct {
	// MaxSize caps a value; a larger one is an error. Zero means 1 MiB.
	MaxSize int

	mu      sync.Mutex
	vals    map[string][]byte
	changed chan struct{} // closed and replaced on every change
	down    error         // when set, every read fails with it
	stall   chan struct{} // when set, reads wait for it to close
}

// Set stores value at key.
func (s *Store) Set(key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vals == nil {
		s.vals = map[string][]byte{}
	}
	s.vals[key] = append([]byte(nil), value...)
	s.notify()
}

// Delete removes key.
func (s *Store) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.vals, key)
	s.notify()
}

func (s *Store) notify() { // s.mu held
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// get returns key's value and a channel closed at the next change. It
// waits for a stall to end, or for ctx.
func (s *Store) get(ctx context.Context, key string) (value []byte, ok bool, changed <-chan struct{}, err error) {
	s.mu.Lock()
	stall := s.stall
	s.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-ctx.Done():
			return nil, false, nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	if s.down != nil {
		return nil, false, s.changed, s.down
	}
	v, ok := s.vals[key]
	return v, ok, s.changed, nil
}

// Error is a failure to read a key of the mem source.
type Error struct {
	Key string
	Err error
}

func (e *Error) Error() string { return "mem: key " + strconv.Quote(e.Key) + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func init() {
	sources.Register(sources.Scheme{Name: "mem", Local: true, Open: openMem})
}

// openMem opens a driver over the *Store given with
// livebind.WithSourceConfig("mem", store).
func openMem(cfg sources.Config) (sources.Driver, error) {
	store, ok := cfg.Value.(*Store)
	if !ok || store == nil {
		return nil, fmt.Errorf("mem: source config of type %T; want *Store", cfg.Value)
	}
	return &memDriver{store: store}, nil
}

// memDriver fetches and watches; sources.Watches does the rest.
type memDriver struct {
	store   *Store
	watches sources.Watches[string, struct{}] // one watch per key
}

// Read fetches a key once.
func (d *memDriver) Read(ctx context.Context, t *sources.Target) sources.Result {
	r, _ := d.fetch(ctx, t.Location)
	return r
}

// fetch observes key once and returns a channel closed at its next change.
func (d *memDriver) fetch(ctx context.Context, key string) (sources.Result, <-chan struct{}) {
	v, ok, changed, err := d.store.get(ctx, key)
	limit := d.store.MaxSize
	if limit <= 0 {
		limit = 1 << 20
	}
	switch {
	case err != nil: // no answer in time is sources.ErrUnreachable
		return sources.Result{Err: &Error{Key: key, Err: sources.Unreachable(err)}}, changed
	case !ok:
		return sources.Result{Missing: true}, changed
	case len(v) > limit:
		return sources.Result{Err: &Error{Key: key, Err: fmt.Errorf("%w: %d bytes, limit %d", sources.ErrTooLarge, len(v), limit)}}, changed
	}
	return sources.Result{Data: v}, changed
}

// Watch subscribes t to the one watch of its key.
func (d *memDriver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	sub := sources.Sub[struct{}]{Target: t, Last: last, Emit: emit}
	return d.watches.Subscribe(t.Location, sub, d.follow)
}

// follow is the watch loop of one key: look, report, wait for a change.
func (d *memDriver) follow(w *sources.Watch[string, struct{}]) {
	for {
		look := w.Begin(0, false)
		r, changed := d.fetch(look.Context(), w.Key())
		look.End()
		look.Report(r) // deduped, fanned out, never after a stop
		if !w.Wait(changed) {
			return
		}
	}
}

// Close stops every watch and waits for it.
func (d *memDriver) Close() error {
	d.watches.Close()
	return nil
}

// memHarness drives the mem source over store for the kit.
func memHarness(store *Store) sourcetest.Harness {
	var n atomic.Int64
	return sourcetest.Harness{
		Scheme: "mem",
		Config: func(*testing.T) sources.Config { return sources.Config{Value: store} },
		Target: func(*testing.T) *sources.Target {
			return &sources.Target{Scheme: "mem", Location: "key-" + strconv.FormatInt(n.Add(1), 10)}
		},
		Set:    func(_ *testing.T, tg *sources.Target, v []byte) { store.Set(tg.Location, v) },
		Remove: func(_ *testing.T, tg *sources.Target) { store.Delete(tg.Location) },
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			down := &Store{down: errors.New("store is down")}
			return sources.Config{Value: down}, &sources.Target{Scheme: "mem", Location: "app/db"}
		},
		ErrorAs: func(err error) bool { var e *Error; return errors.As(err, &e) },
		Secrets: []string{"hunter2"},
		Stall: func(*testing.T) (sources.Config, *sources.Target, func()) {
			stalled := &Store{stall: make(chan struct{})}
			var once sync.Once
			return sources.Config{Value: stalled}, &sources.Target{Scheme: "mem", Location: "slow"},
				func() { once.Do(func() { close(stalled.stall) }) }
		},
		Oversize: func(_ *testing.T, tg *sources.Target) { store.Set(tg.Location, make([]byte, 16*store.MaxSize)) },
		MaxSize:  store.MaxSize,
		Quiet:    100 * time.Millisecond,
	}
}

// TestMemConformance runs the kit against the mem source.
func TestMemConformance(t *testing.T) {
	sourcetest.Run(t, memHarness(&Store{MaxSize: 64 << 10}))
}
