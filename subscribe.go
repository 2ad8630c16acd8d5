package livebind

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// event is an update as the applier produced it, with the raw values that
// typed watchers receive even for secret fields.
type event struct {
	u        Update
	f        *boundField
	old, new any
}

// update returns the update for one subscriber, with Old and New copied
// when they can alias the published snapshot (slices, maps, pointers), so
// that a subscriber that sorts or edits what it received changes nothing
// anybody else sees.
func (ev *event) update() Update {
	u := ev.u
	u.Old, u.New = ownCopy(u.Old), ownCopy(u.New)
	return u
}

// subscriber is one consumer with its own bounded queue and goroutine, so a
// slow consumer delays nobody else and never the applier.
type subscriber struct {
	filter   func(*event) bool
	deliver  func(event)
	onDone   func()
	buffer   int    // queue bound; 0 means DefaultBuffer
	coalesce bool   // merge queued value updates of one field instead of dropping
	replay   bool   // From was given: start right after generation after
	after    uint64 // see replay

	mu        sync.Mutex
	queue     eventQueue
	dropped   int
	coalesced int
	lastDrop  uint64 // generation of the newest dropped or coalesced update
	wake      chan struct{}
	quit      chan struct{}
	done      chan struct{} // closed when the delivery goroutine ends
	gid       atomic.Uint64 // the delivery goroutine's id, to recognize Close called from the callback
	stopped   atomic.Bool
	once      sync.Once
}

// subscribers is the set of consumers of one Binding, and the log of recent
// updates that [From] replays.
type subscribers struct {
	mu      sync.Mutex
	set     map[*subscriber]struct{} // subscribed
	running map[*subscriber]struct{} // delivery goroutines not yet ended (unsubscribed ones included)
	closed  bool
	recent  ring // the last DefaultBuffer published updates, for From

	logger *slog.Logger
	hide   bool          // the configuration holds secrets: panic values are not shown
	panics atomic.Uint64 // recovered callback panics, for Status
}

// logged is a published update with whether its batch made its generation
// (a value batch) or was reported after it (Error and Removed notes only).
type logged struct {
	ev   event
	made bool
}

// ring keeps the last DefaultBuffer logged updates in a fixed array, so
// that logging allocates nothing once it is full, and remembers the newest
// one it let go.
type ring struct {
	buf     []logged // allocated on first use
	head, n int      // oldest entry, count
	lost    logged   // the newest update overwritten, if hasLost
	hasLost bool
}

func (r *ring) add(l logged) {
	if r.buf == nil {
		r.buf = make([]logged, DefaultBuffer)
	}
	if r.n < len(r.buf) {
		r.buf[(r.head+r.n)%len(r.buf)] = l
		r.n++
		return
	}
	r.lost, r.hasLost = r.buf[r.head], true
	r.buf[r.head] = l
	r.head = (r.head + 1) % len(r.buf)
}

// each calls fn with every kept update, oldest first.
func (r *ring) each(fn func(logged)) {
	for i := range r.n {
		fn(r.buf[(r.head+i)%len(r.buf)])
	}
}

// follows reports whether an update of generation gen, in a batch that made
// gen or not, comes after generation after was made.
func follows(gen uint64, made bool, after uint64) bool {
	return gen > after || (gen == after && !made)
}

func (s *subscribers) init(log *slog.Logger, hide bool) {
	s.set = map[*subscriber]struct{}{}
	s.running = map[*subscriber]struct{}{}
	s.logger, s.hide = log, hide
}

// add starts a subscriber, first queuing the logged updates it asked for
// with From. Once the Binding is closed it starts nothing.
func (s *subscribers) add(sub *subscriber) (func(), error) {
	sub.wake = make(chan struct{}, 1)
	sub.quit = make(chan struct{})
	sub.done = make(chan struct{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if sub.onDone != nil {
			sub.onDone()
		}
		close(sub.done)
		return func() {}, nil
	}
	if sub.replay {
		if l := s.recent.lost; s.recent.hasLost && follows(l.ev.u.Gen, l.made, sub.after) {
			s.mu.Unlock()
			return nil, fmt.Errorf("livebind: subscribe from gen %d: updates since then are no longer kept (the last %d are): %w", sub.after, DefaultBuffer, ErrNoGeneration)
		}
		s.recent.each(func(l logged) {
			if follows(l.ev.u.Gen, l.made, sub.after) {
				sub.push(&l.ev)
			}
		})
		if sub.queue.len() > 0 {
			sub.wake <- struct{}{}
		}
	}
	s.set[sub] = struct{}{}
	s.running[sub] = struct{}{}
	go s.run(sub)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.set, sub)
		s.mu.Unlock()
		sub.stop()
	}, nil
}

func (sub *subscriber) stop() {
	sub.once.Do(func() {
		sub.stopped.Store(true)
		close(sub.quit)
	})
}

// publish logs one batch of updates and queues it for every subscriber;
// made says whether the batch made its generation (see [From]).
func (s *subscribers) publish(evs []event, made bool) {
	if len(evs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		s.recent.add(logged{ev: ev, made: made})
	}
	s.queue(evs, made, nil)
}

// publishExcept queues evs, reported after their generation and not
// logged, for every subscriber but skip.
func (s *subscribers) publishExcept(evs []event, skip *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue(evs, false, skip)
}

// queue hands evs to every subscriber but skip; when a queue is full the
// oldest event is dropped and counted, and the subscriber is told how many.
// The caller holds s.mu.
func (s *subscribers) queue(evs []event, made bool, skip *subscriber) {
	for sub := range s.set {
		if sub == skip || len(evs) == 0 || (sub.replay && !follows(evs[0].u.Gen, made, sub.after)) {
			continue
		}
		queued := false
		sub.mu.Lock()
		for i := range evs {
			queued = sub.push(&evs[i]) || queued
		}
		sub.mu.Unlock()
		if queued {
			select {
			case sub.wake <- struct{}{}:
			default:
			}
		}
	}
}

// push queues ev if it passes the filter; it reports whether it did.
func (sub *subscriber) push(ev *event) bool {
	if sub.filter != nil && !sub.filter(ev) {
		return false
	}
	if sub.coalesce && sub.merge(*ev) {
		return true
	}
	limit := DefaultBuffer
	if sub.buffer > 0 {
		limit = sub.buffer
	}
	if sub.queue.len() >= limit {
		old, _ := sub.queue.pop()
		sub.lastDrop = old.u.Gen
		sub.dropped++
	}
	sub.queue.push(*ev)
	return true
}

// run delivers a subscriber's queue in order until it stops. A callback
// that ends the goroutine with runtime.Goexit (reported by deliver) does
// not end the subscription: run goes on on a new goroutine.
func (s *subscribers) run(sub *subscriber) {
	ended := false
	defer func() {
		if !ended && !sub.stopped.Load() {
			select { // what is still queued is delivered by the next goroutine
			case sub.wake <- struct{}{}:
			default:
			}
			go s.run(sub)
			return
		}
		if sub.onDone != nil {
			sub.onDone()
		}
		s.mu.Lock()
		delete(s.running, sub)
		s.mu.Unlock()
		close(sub.done)
	}()
	sub.gid.Store(goid())
	for {
		select {
		case <-sub.quit:
			ended = true
			return
		case <-sub.wake:
		}
		for {
			ev, ok := sub.next()
			if !ok {
				break
			}
			if sub.stopped.Load() {
				ended = true
				return
			}
			s.deliver(sub, ev)
		}
	}
}

// calledGoexit is what deliver reports as the panic value of a callback
// that called runtime.Goexit.
type calledGoexit struct{}

func (calledGoexit) String() string { return "the callback called runtime.Goexit" }

// deliver hands ev to the subscriber's callback, recovering a panic: user
// code must not kill the process, nor stop deliveries to anyone. A
// runtime.Goexit cannot be stopped; it is reported like a panic, and run
// starts a new delivery goroutine.
func (s *subscribers) deliver(sub *subscriber, ev event) {
	returned := false
	defer func() {
		if p := recover(); p != nil {
			s.reportPanic(sub, ev, p, debug.Stack())
		} else if !returned {
			s.reportPanic(sub, ev, calledGoexit{}, debug.Stack())
		}
	}()
	sub.deliver(ev)
	returned = true
}

// reportPanic logs a recovered callback panic at Error level with its stack,
// counts it, and reports it as an Error update to every other subscriber.
// A panic while handling such a report is only logged and counted, so two
// subscribers that panic on everything cannot feed each other forever.
func (s *subscribers) reportPanic(sub *subscriber, ev event, p any, stack []byte) {
	s.panics.Add(1)
	value := "(value hidden: the configuration holds secrets)"
	st := string(stack)
	if s.hide {
		st = stackArgs.ReplaceAllString(st, "(...)") // argument words can be a secret's bytes
	} else {
		value = fmt.Sprint(p)
	}
	if g, ok := p.(calledGoexit); ok {
		value = g.String() // no value to hide
	}
	s.logger.Error("livebind: a callback panicked; recovered, deliveries go on",
		"field", ev.u.Field, "gen", ev.u.Gen, "panic", value, "stack", st)
	if errors.Is(ev.u.Err, ErrCallbackPanic) {
		return
	}
	err := &deliveryError{Field: ev.u.Field, Gen: ev.u.Gen, Panic: value, panicked: true}
	u := Update{Kind: Error, Field: ev.u.Field, Source: ev.u.Source, Gen: ev.u.Gen, Time: time.Now(), Err: err, Secret: ev.u.Secret}
	s.publishExcept([]event{{u: u, f: ev.f}}, sub)
}

// stackArgs matches the argument words of a traceback's call lines.
var stackArgs = regexp.MustCompile(`(?m)\([^()]*\)$`)

// goid returns the calling goroutine's id, parsed from its traceback. It
// only tells whether Close, Reload or Rollback runs on a goroutine of the
// Binding (a callback's, the applier's), which would otherwise wait for
// itself; it costs a microsecond or two and is never on the update path.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// merge folds a value update into the queued update of the same field, if
// the newest queued update of that field is a value update: the queued one
// is taken out and the merged one (older Old, newer New and generation)
// appended, so the queue stays in generation order. Error updates are never
// merged, and nothing is merged across one.
func (sub *subscriber) merge(ev event) bool {
	if ev.u.Kind == Error || ev.f == nil {
		return false
	}
	queued := sub.queue.pending()
	for i := len(queued) - 1; i >= 0; i-- {
		q := queued[i]
		if q.f != ev.f {
			continue
		}
		if q.u.Kind == Error {
			return false
		}
		sub.lastDrop = q.u.Gen
		kind := ev.u.Kind
		if q.u.Kind == Added && kind == Updated {
			kind = Added
		}
		merged := ev
		merged.u.Kind, merged.old, merged.u.Old = kind, q.old, q.u.Old
		sub.queue.remove(i)
		sub.queue.push(merged)
		sub.coalesced++
		return true
	}
	return false
}

// next takes the next event to deliver: a drop notice first if events were
// dropped, then the queue in order.
func (sub *subscriber) next() (event, bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.dropped > 0 || sub.coalesced > 0 {
		err := &deliveryError{Dropped: sub.dropped, Coalesced: sub.coalesced}
		sub.dropped, sub.coalesced = 0, 0
		return event{u: Update{Kind: Error, Gen: sub.lastDrop, Time: time.Now(), Err: err}}, true
	}
	return sub.queue.pop()
}

// delivering reports whether the goroutine gid delivers to a subscriber,
// that is, whether the caller runs inside a callback.
func (s *subscribers) delivering(gid uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.running {
		if sub.gid.Load() == gid {
			return true
		}
	}
	return false
}

// stopAll stops every subscriber and returns the delivery goroutines still
// running, for wait.
func (s *subscribers) stopAll() []*subscriber {
	s.mu.Lock()
	s.closed = true
	s.set = nil
	subs := slices.Collect(maps.Keys(s.running))
	s.mu.Unlock()
	for _, sub := range subs {
		sub.stop()
	}
	return subs
}

// wait waits for the delivery goroutines of subs until deadline, except the
// one of goroutine self (Close called from that callback: it ends when the
// callback returns). It returns how many it abandoned.
func (s *subscribers) wait(subs []*subscriber, self uint64, deadline time.Time) int {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for i, sub := range subs {
		if sub.gid.Load() == self {
			continue
		}
		select {
		case <-sub.done:
		case <-timer.C:
			n := 0
			for _, sub := range subs[i:] {
				select {
				case <-sub.done:
				default:
					if sub.gid.Load() != self {
						n++
					}
				}
			}
			return n
		}
	}
	return 0
}

// FieldChange is a typed update for one field, delivered by [WatchField].
// The embedded [Update] is what [Binding.Subscribe] would deliver, secrets
// redacted, and gives FieldChange its String, Format, LogValue and JSON form;
// Old and New hold the actual typed values, even for secret fields, and are
// left out of every printed, logged or encoded form.
type FieldChange[F any] struct {
	Update
	// Old and New are the values before and after; for Error and for
	// Removed that keeps the value, both are the kept value.
	Old, New F `json:"-"`
}

// WatchField calls fn with every change to the field at path (such as
// "DB.Password"), typed. It fails at registration with an error wrapping
// [ErrUnknownField] if no tagged field has that path, or [ErrFieldType] if F
// is not exactly the field's type. Delivery, ordering and buffering are as
// for [Binding.Subscribe]; a drop notice arrives as an Error change. Options
// apply as for Subscribe ([From], [Buffer], [Coalesce], [Kinds]); [Fields]
// is implied.
func WatchField[F, T any](b *Binding[T], path string, fn func(FieldChange[F]), opts ...Option) (unsubscribe func(), err error) {
	f, ok := b.byPath[path]
	if !ok {
		return nil, &FieldError{Field: path, Err: fmt.Errorf("%w (tagged fields: %s)", ErrUnknownField, b.plan.fieldNames())}
	}
	if want := reflect.TypeFor[F](); want != f.plan.typ {
		return nil, &FieldError{Field: path, Err: fmt.Errorf("%w: field is %s, watcher wants %s", ErrFieldType, f.plan.typ, want)}
	}
	opts = append(opts[:len(opts):len(opts)], Fields(path))
	return b.subscribe(opts, func(ev event) {
		c := FieldChange[F]{Update: ev.u}
		if ev.f != nil { // not a drop notice
			c.Source = f.target.String()
		}
		if v, ok := ownCopy(ev.old).(F); ok {
			c.Old = v
		}
		if v, ok := ownCopy(ev.new).(F); ok {
			c.New = v
		}
		if !c.Secret { // the callback's own copies, shared by both views
			c.Update.Old, c.Update.New = c.Old, c.New
		}
		fn(c)
	})
}

type subOptions struct {
	fields   []string
	kinds    []Kind
	buffer   int
	coalesce bool
	from     uint64
	replay   bool
}

// subOptionFunc is an [Option] of a subscription.
type subOptionFunc func(*subOptions)

func (subOptionFunc) apply(*options) bool           { return false }
func (f subOptionFunc) applySub(o *subOptions) bool { f(o); return true }

// Fields limits a subscription to updates of the fields with these paths.
// A path that names no tagged field is an error at subscription.
func Fields(paths ...string) Option {
	return subOptionFunc(func(o *subOptions) { o.fields = append(o.fields, paths...) })
}

// Kinds limits a subscription to updates of these kinds.
func Kinds(kinds ...Kind) Option {
	return subOptionFunc(func(o *subOptions) { o.kinds = append(o.kinds, kinds...) })
}

// Buffer sets how many updates this subscriber may fall behind before the
// oldest are dropped (and the subscriber told so); the default is
// [DefaultBuffer].
func Buffer(n int) Option {
	return subOptionFunc(func(o *subOptions) { o.buffer = max(n, 0) })
}

// Coalesce makes a subscriber that falls behind receive, for each field,
// one update that spans the ones it missed (the oldest Old, the newest New
// and generation) instead of all of them. Error updates are never merged.
// The subscriber is told how many updates were merged by an Error update
// whose error wraps [ErrDropped] and counts them, so nothing is lost
// silently; past the buffer, the oldest updates are dropped and counted as
// usual.
func Coalesce() Option {
	return subOptionFunc(func(o *subOptions) { o.coalesce = true })
}

// From makes the subscription start right after generation gen: every
// update published since that generation was made (value updates of later
// generations, and Error updates reported after it) is replayed first, in
// order, then live updates follow with no gap and no repeat. Pair it with
// [Binding.Snapshot] to follow a snapshot exactly, or pass 1 to see every
// change since Bind:
//
//	cfg, gen := b.Snapshot()
//	stop, err := b.Subscribe(fn, livebind.From(gen))
//
// The binding keeps the last [DefaultBuffer] updates for replay. Subscribe
// fails with an error wrapping [ErrNoGeneration] when gen is newer than the
// current generation or when updates after gen are no longer kept: take a
// new snapshot then.
func From(gen uint64) Option {
	return subOptionFunc(func(o *subOptions) { o.from, o.replay = gen, true })
}

// subscribe builds a subscriber from options and starts it.
func (b *Binding[T]) subscribe(opts []Option, deliver func(event)) (func(), error) {
	sub, err := b.subscriber(opts, deliver)
	if err != nil {
		return nil, err
	}
	return b.subs.add(sub)
}

// subscriber builds a subscriber from options; drop notices always pass
// the filters.
func (b *Binding[T]) subscriber(opts []Option, deliver func(event)) (*subscriber, error) {
	var o subOptions
	for i, opt := range opts {
		if !opt.applySub(&o) {
			return nil, fmt.Errorf("livebind: option %d configures Bind (With...), not a subscription: pass it to Bind", i+1)
		}
	}
	fields := map[*boundField]bool{}
	for _, p := range o.fields {
		f, ok := b.byPath[p]
		if !ok {
			return nil, &FieldError{Field: p, Err: fmt.Errorf("%w (tagged fields: %s)", ErrUnknownField, b.plan.fieldNames())}
		}
		fields[f] = true
	}
	sub := &subscriber{deliver: deliver, buffer: o.buffer, coalesce: o.coalesce, replay: o.replay, after: o.from}
	if len(fields) > 0 || len(o.kinds) > 0 {
		kinds := o.kinds
		sub.filter = func(ev *event) bool {
			return (len(fields) == 0 || fields[ev.f]) && (len(kinds) == 0 || slices.Contains(kinds, ev.u.Kind))
		}
	}
	if o.replay {
		if cur := b.cur.Load().gen; o.from > cur {
			return nil, fmt.Errorf("livebind: subscribe from gen %d, current is %d: %w", o.from, cur, ErrNoGeneration)
		}
	}
	return sub, nil
}

// Subscribe calls fn with every update, in generation order, on a goroutine
// of its own: fn may be slow without delaying the binding, up to the
// subscriber's buffer ([Buffer], default [DefaultBuffer]), beyond which the
// oldest updates are dropped and fn receives an Error update wrapping
// [ErrDropped] (or, with [Coalesce], merged). Options limit the updates to
// some fields or kinds, and [From] replays what happened since a generation,
// so that no change made after a snapshot (or after Bind) is missed.
//
// Secret values are redacted; slices, maps and pointers in Old and New are
// fn's own copies. A panic in fn is recovered, logged and reported to the
// other subscribers (see [ErrCallbackPanic]); fn keeps receiving updates.
// The returned function unsubscribes without waiting, so it may be called
// from fn; a delivery already under way may still complete. Subscribe fails
// only for a field path that names no tagged field, or a [From] generation
// whose updates are not kept. After Close it succeeds and delivers nothing.
//
// A channel of updates is three lines (see the package example):
//
//	ch := make(chan livebind.Update, 16)
//	stop, _ := b.Subscribe(func(u livebind.Update) { ch <- u })
func (b *Binding[T]) Subscribe(fn func(Update), opts ...Option) (unsubscribe func(), err error) {
	return b.subscribe(opts, func(ev event) { fn(ev.update()) })
}
