package sources

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed reports a Watch on a driver that was closed.
var ErrClosed = errors.New("driver closed")

// Watches is the lifecycle a driver shares with every other driver: it runs
// one watch loop per identity K (a key, a query, a file), fans each
// loop's results out to every Watch of that identity, drops results that
// tell a subscriber nothing new (see [Same]), never emits after a stop has
// returned, and closes by canceling every loop and waiting for it.
//
// A driver keeps one Watches and implements only fetching and the loop that
// observes one identity (see [Watch]). Its Driver methods become:
//
//	func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
//		return d.watches.Subscribe(keyOf(t), sources.Sub[S]{Target: t, Last: last, Emit: emit}, d.run)
//	}
//	func (d *driver) Close() error { d.watches.Close(); return nil }
//
// S is what the driver keeps per subscriber (settings such as a poll
// interval, or the part of a shared document the subscriber reads); use
// struct{} when there is nothing. The zero value is ready to use. Watches
// is safe for concurrent use.
type Watches[K comparable, S any] struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	byKey  map[K]*Watch[K, S]
	closed bool
}

// Sub is one subscriber: one call of [Driver].Watch.
type Sub[S any] struct {
	// Target is the target given to Watch; NextPoll finds a watch by it.
	Target *Target
	// Value is the driver's per-subscriber data, given back by
	// [Watch.Values] and [Look.ReportEach].
	Value S
	// Last is what the subscriber saw last (the Read before Watch). Results
	// the same as it are not emitted.
	Last Result
	// Emit receives every result that differs from the previous one.
	Emit func(Result)
}

func (ws *Watches[K, S]) init() {
	ws.once.Do(func() {
		ws.ctx, ws.cancel = context.WithCancel(context.Background())
		ws.byKey = make(map[K]*Watch[K, S])
	})
}

// Context returns a context canceled by Close. A driver's Read joins it
// (see [Watches.ReadContext]) so that Close ends reads in flight too.
func (ws *Watches[K, S]) Context() context.Context {
	ws.init()
	return ws.ctx
}

// ReadContext returns the context of one Read: ctx bounded by timeout, and
// canceled by Close too, so that Close ends reads in flight. Call cancel
// when the Read returns.
func (ws *Watches[K, S]) ReadContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	stop := context.AfterFunc(ws.Context(), cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// Subscribe adds sub to the watch of key. When none runs, it starts run on
// a new goroutine, which observes key until the last subscriber stops or
// Close. When one runs already, it kicks it (see [Watch.Sleep] and
// [Watch.Begin]) so that it looks again at once: the newcomer's Read may be
// older than the watch's last answer.
//
// The returned stop removes sub: no emit reaches it once stop returns. When
// sub was the last subscriber, stop cancels the watch's context and waits
// for run to return. stop may be called more than once, also after Close.
// Emit must not call stop, nor Close. Subscribe fails with [ErrClosed]
// after Close.
func (ws *Watches[K, S]) Subscribe(key K, sub Sub[S], run func(*Watch[K, S])) (stop func(), err error) {
	ws.init()
	s := &subscriber[S]{Sub: sub}
	ws.mu.Lock()
	if ws.closed {
		ws.mu.Unlock()
		return nil, ErrClosed
	}
	w := ws.byKey[key]
	if w == nil {
		w = &Watch[K, S]{key: key, done: make(chan struct{}), wake: make(chan struct{}, 1), subs: make(map[*subscriber[S]]struct{})}
		w.ctx, w.cancel = context.WithCancel(ws.ctx)
		ws.byKey[key] = w
		w.add(s, false)
		go func() {
			defer close(w.done)
			run(w)
		}()
	} else {
		w.add(s, true)
	}
	ws.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { ws.stop(w, s) }) }, nil
}

func (ws *Watches[K, S]) stop(w *Watch[K, S], s *subscriber[S]) {
	ws.mu.Lock()
	empty := w.remove(s)
	if empty && ws.byKey[w.key] == w {
		delete(ws.byKey, w.key)
	}
	ws.mu.Unlock()
	s.mu.Lock() // waits for an emit in progress
	s.stopped = true
	s.mu.Unlock()
	if empty {
		w.cancel()
		<-w.done
	}
}

// Close cancels every watch and waits for each to return. Later Subscribes
// fail with [ErrClosed]. It is safe to call more than once.
func (ws *Watches[K, S]) Close() {
	ws.init()
	ws.mu.Lock()
	if ws.closed {
		ws.mu.Unlock()
		return
	}
	ws.closed = true
	all := make([]*Watch[K, S], 0, len(ws.byKey))
	for _, w := range ws.byKey {
		all = append(all, w)
	}
	clear(ws.byKey)
	ws.mu.Unlock()
	ws.cancel()
	for _, w := range all {
		<-w.done
	}
}

// NextPoll implements [NextPoller] for a driver whose loops wait with
// [Watch.Sleep]: when the watch that t subscribes to wakes next, or the zero
// time.
func (ws *Watches[K, S]) NextPoll(t *Target) time.Time {
	ws.init()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, w := range ws.byKey {
		w.mu.Lock()
		found := false
		for s := range w.subs {
			found = found || s.Target == t
		}
		w.mu.Unlock()
		if found {
			if n := w.nextAt.Load(); n != 0 {
				return time.Unix(0, n)
			}
			return time.Time{}
		}
	}
	return time.Time{}
}

// Len returns the number of watches running: the number of distinct
// identities watched.
func (ws *Watches[K, S]) Len() int {
	ws.init()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.byKey)
}

// subscriber is a Sub with its emit guard.
type subscriber[S any] struct {
	Sub[S]
	first uint64 // looks numbered below it began before this Subscribe

	mu      sync.Mutex // held while Emit runs; stop takes it to wait for Emit
	stopped bool
}

func (s *subscriber[S]) deliver(r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || Same(s.Last, r) {
		return
	}
	s.Last = r
	s.Emit(r)
}

// Watch is one running watch loop: the goroutine that observes one identity
// for all its subscribers. The run function given to [Watches.Subscribe]
// owns it and typically loops:
//
//	for w.Sleep(delay) {
//		look := w.Begin(timeout, false)
//		r := fetch(look.Context())
//		look.End()
//		look.Report(r)
//	}
type Watch[K comparable, S any] struct {
	key    K
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{} // buffered(1): a subscriber joined

	mu        sync.Mutex
	subs      map[*subscriber[S]]struct{}
	seq       uint64             // looks begun so far
	kick      bool               // a subscriber joined: look again at once
	interrupt context.CancelFunc // cancels an interruptible look in flight

	nextAt atomic.Int64 // unix nanoseconds when Sleep ends, for NextPoll
}

func (w *Watch[K, S]) add(s *subscriber[S], kick bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s.first = w.seq + 1
	w.subs[s] = struct{}{}
	if kick {
		w.poke(true)
	}
}

// poke makes the loop look again at once: it sets the kick, wakes a Sleep
// or Wait and, with interrupt, cancels an interruptible look in flight.
// w.mu is held.
func (w *Watch[K, S]) poke(interrupt bool) {
	w.kick = true
	if interrupt && w.interrupt != nil {
		w.interrupt()
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Watch[K, S]) remove(s *subscriber[S]) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.subs, s)
	return len(w.subs) == 0
}

// Key returns the identity this watch observes.
func (w *Watch[K, S]) Key() K { return w.key }

// Context is canceled when the last subscriber stops or the driver closes.
// The loop must return soon after.
func (w *Watch[K, S]) Context() context.Context { return w.ctx }

// Values returns the Value of every current subscriber, so that the loop can
// follow the most eager poll interval, for example.
func (w *Watch[K, S]) Values() []S {
	w.mu.Lock()
	defer w.mu.Unlock()
	vs := make([]S, 0, len(w.subs))
	for s := range w.subs {
		vs = append(vs, s.Value)
	}
	return vs
}

// Kicked reports that a subscriber joined since the last [Watch.Begin]: the
// loop should look again now rather than wait.
func (w *Watch[K, S]) Kicked() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.kick
}

// Sleep waits for d, for a kick or for the end of the watch, and records
// when it ends for [Watches.NextPoll]. It reports whether the watch still
// runs. A d <= 0 returns at once. Polling drivers loop on it.
func (w *Watch[K, S]) Sleep(d time.Duration) bool {
	if d <= 0 {
		return w.ctx.Err() == nil
	}
	w.nextAt.Store(time.Now().Add(d).UnixNano())
	timer := time.NewTimer(d)
	defer timer.Stop()
	return w.wait(nil, timer.C)
}

// SleepOrWait is [Watch.Sleep] that a notification on notify also ends:
// for a driver that checks again with backoff for something its
// notifications may announce sooner. It reports whether the watch still
// runs.
func (w *Watch[K, S]) SleepOrWait(d time.Duration, notify <-chan struct{}) bool {
	if d <= 0 {
		return w.ctx.Err() == nil
	}
	w.nextAt.Store(time.Now().Add(d).UnixNano())
	timer := time.NewTimer(d)
	defer timer.Stop()
	return w.wait(notify, timer.C)
}

// Wait waits for a notification on notify, for a kick or for the end of
// the watch, and reports whether the watch still runs. Drivers whose
// source pushes changes (a file watcher, a subscription, a stream) loop on
// it.
func (w *Watch[K, S]) Wait(notify <-chan struct{}) bool {
	w.nextAt.Store(0)
	return w.wait(notify, nil)
}

func (w *Watch[K, S]) wait(notify <-chan struct{}, timer <-chan time.Time) bool {
	for {
		if w.Kicked() {
			return w.ctx.Err() == nil
		}
		select {
		case <-timer:
			return w.ctx.Err() == nil
		case <-notify:
			return w.ctx.Err() == nil
		case <-w.wake: // maybe stale: check the kick again
		case <-w.ctx.Done():
			return false
		}
	}
}

// Begin starts one observation and clears the kick. Its context ends with
// the watch, after timeout when it is > 0, and, when interruptible, as soon
// as a subscriber joins (use it for a long blocking request whose answer a
// newcomer cannot wait for; [Look.Interrupted] then tells this from a
// failure). Only subscribers that joined before Begin receive its reports.
func (w *Watch[K, S]) Begin(timeout time.Duration, interruptible bool) *Look[K, S] {
	l := &Look[K, S]{w: w}
	if timeout > 0 {
		l.ctx, l.cancel = context.WithTimeout(w.ctx, timeout)
	} else {
		l.ctx, l.cancel = context.WithCancel(w.ctx)
	}
	w.mu.Lock()
	w.seq++
	l.seq = w.seq
	l.joined, w.kick = w.kick, false
	if interruptible {
		w.interrupt = l.cancel
	}
	w.mu.Unlock()
	return l
}

// Look is one observation begun by [Watch.Begin].
type Look[K comparable, S any] struct {
	w      *Watch[K, S]
	seq    uint64
	joined bool
	ctx    context.Context
	cancel context.CancelFunc
}

// Joined reports that a subscriber joined since the previous observation
// began: a driver that keeps state between observations (a blocking
// query's index, a cached version) starts afresh for it.
func (l *Look[K, S]) Joined() bool { return l.joined }

// Context bounds the observation's requests.
func (l *Look[K, S]) Context() context.Context { return l.ctx }

// End releases the observation's context. Call it once the request is done.
func (l *Look[K, S]) End() {
	l.w.mu.Lock()
	l.w.interrupt = nil
	l.w.mu.Unlock()
	l.cancel()
}

// Interrupted reports that a subscriber joined while the observation ran
// and canceled it: not a failure, look again at once.
func (l *Look[K, S]) Interrupted() bool {
	return l.w.ctx.Err() == nil && l.w.Kicked() && errors.Is(l.ctx.Err(), context.Canceled)
}

// Report hands r to every subscriber that joined before the observation
// began, unless it is the same as what the subscriber saw last.
func (l *Look[K, S]) Report(r Result) {
	l.ReportEach(func(S) Result { return r })
}

// ReportEach hands each subscriber that joined before the observation began
// what result makes of it for that subscriber's Value.
func (l *Look[K, S]) ReportEach(result func(S) Result) {
	l.w.mu.Lock()
	subs := make([]*subscriber[S], 0, len(l.w.subs))
	for s := range l.w.subs {
		if s.first <= l.seq {
			subs = append(subs, s)
		}
	}
	l.w.mu.Unlock()
	for _, s := range subs {
		s.deliver(result(s.Value))
	}
}

// Same reports whether b tells a watcher nothing new after a: the same
// presence, bytes and format, or the same error text. Versions are ignored:
// a new index or ETag over the same bytes is no change.
func Same(a, b Result) bool {
	switch {
	case a.Err != nil || b.Err != nil:
		return a.Err != nil && b.Err != nil && a.Err.Error() == b.Err.Error()
	case a.Missing || b.Missing:
		return a.Missing == b.Missing
	}
	return bytes.Equal(a.Data, b.Data) && a.Format == b.Format
}
