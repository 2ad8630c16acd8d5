package livebind

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	buffer   int  // queue bound; 0 means the Binding's default
	coalesce bool // merge queued value updates of one field instead of dropping

	mu        sync.Mutex
	queue     []event
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

// subscribers is the set of consumers of one Binding.
type subscribers struct {
	mu      sync.Mutex
	buffer  int
	set     map[*subscriber]struct{} // subscribed
	running map[*subscriber]struct{} // delivery goroutines not yet ended (unsubscribed ones included)
	closed  bool
	updates chan Update
	updOnce sync.Once

	log    *slog.Logger
	hide   bool          // the configuration holds secrets: panic values are not shown
	panics atomic.Uint64 // recovered callback panics, for Status
}

func (s *subscribers) init(buffer int, log *slog.Logger, hide bool) {
	s.buffer = buffer
	s.set = map[*subscriber]struct{}{}
	s.running = map[*subscriber]struct{}{}
	s.log, s.hide = log, hide
}

// add starts a subscriber. It returns nil once the Binding is closed.
func (s *subscribers) add(sub *subscriber) func() {
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
		return func() {}
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
	}
}

func (sub *subscriber) stop() {
	sub.once.Do(func() {
		sub.stopped.Store(true)
		close(sub.quit)
	})
}

// publish queues events for every subscriber; when a queue is full the
// oldest event is dropped and counted, and the subscriber is told how many.
func (s *subscribers) publish(evs []event) { s.publishExcept(evs, nil) }

// publishExcept is publish for every subscriber but skip.
func (s *subscribers) publishExcept(evs []event, skip *subscriber) {
	if len(evs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.set {
		if sub == skip {
			continue
		}
		queued := false
		sub.mu.Lock()
		limit := s.buffer
		if sub.buffer > 0 {
			limit = sub.buffer
		}
		for i := range evs {
			if sub.filter != nil && !sub.filter(&evs[i]) {
				continue
			}
			queued = true
			if sub.coalesce && sub.merge(evs[i]) {
				continue
			}
			if len(sub.queue) >= limit {
				sub.lastDrop = sub.queue[0].u.Gen
				sub.queue = sub.queue[1:]
				sub.dropped++
			}
			sub.queue = append(sub.queue, evs[i])
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

// run delivers a subscriber's queue in order until it stops.
func (s *subscribers) run(sub *subscriber) {
	defer func() {
		s.mu.Lock()
		delete(s.running, sub)
		s.mu.Unlock()
		close(sub.done)
	}()
	sub.gid.Store(goid())
	if sub.onDone != nil {
		defer sub.onDone()
	}
	for {
		select {
		case <-sub.quit:
			return
		case <-sub.wake:
		}
		for {
			ev, ok := sub.next()
			if !ok {
				break
			}
			if sub.stopped.Load() {
				return
			}
			s.deliver(sub, ev)
		}
	}
}

// deliver hands ev to the subscriber's callback, recovering a panic: user
// code must not kill the process, nor stop deliveries to anyone.
func (s *subscribers) deliver(sub *subscriber, ev event) {
	defer func() {
		if p := recover(); p != nil {
			s.reportPanic(sub, ev, p, debug.Stack())
		}
	}()
	sub.deliver(ev)
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
	s.log.Error("livebind: a callback panicked; recovered, deliveries go on",
		"field", ev.u.Field, "gen", ev.u.Gen, "panic", value, "stack", st)
	if errors.Is(ev.u.Err, ErrCallbackPanic) {
		return
	}
	err := &CallbackPanicError{Field: ev.u.Field, Gen: ev.u.Gen, Value: value}
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
	for i := len(sub.queue) - 1; i >= 0; i-- {
		q := sub.queue[i]
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
		sub.queue = append(sub.queue[:i], sub.queue[i+1:]...)
		sub.queue = append(sub.queue, merged)
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
		err := &DroppedError{Count: sub.dropped, Coalesced: sub.coalesced}
		sub.dropped, sub.coalesced = 0, 0
		return event{u: Update{Kind: Error, Gen: sub.lastDrop, Time: time.Now(), Err: err}}, true
	}
	if len(sub.queue) == 0 {
		return event{}, false
	}
	ev := sub.queue[0]
	sub.queue[0] = event{}
	sub.queue = sub.queue[1:]
	return ev, true
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
	subs := make([]*subscriber, 0, len(s.running))
	for sub := range s.running {
		subs = append(subs, sub)
	}
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

// OnChange calls fn with every update, in generation order, on a goroutine
// of its own: fn may be slow without delaying the binding, up to the buffer
// set by [WithBuffer], beyond which the oldest updates are dropped and fn
// receives an Error update wrapping [ErrDropped]. Secret values are
// redacted; slices, maps and pointers in Old and New are fn's own copies. A
// panic in fn is recovered, logged and reported to the other subscribers
// (see [ErrCallbackPanic]); fn keeps receiving updates. The returned
// function unsubscribes without waiting, so it may be called from fn; a
// delivery already under way may still complete.
func (b *Binding[T]) OnChange(fn func(Update)) (unsubscribe func()) {
	return b.subs.add(&subscriber{deliver: func(ev event) { fn(ev.update()) }})
}

// Updates returns the stream of updates, in generation order, with the same
// buffering and drop reporting as [Binding.OnChange]. Every call returns the
// same channel; it is closed by [Binding.Close].
func (b *Binding[T]) Updates() <-chan Update {
	b.subs.updOnce.Do(func() {
		ch := make(chan Update)
		b.subs.updates = ch
		var sub *subscriber
		sub = &subscriber{
			deliver: func(ev event) {
				select {
				case ch <- ev.update():
				case <-sub.quit:
				}
			},
			onDone: func() { close(ch) },
		}
		b.subs.add(sub)
	})
	return b.subs.updates
}

// FieldChange is a typed update for one field, delivered by [WatchField].
// Unlike [Update], Old and New hold the actual values even for secret
// fields; String and fmt verbs still redact them.
type FieldChange[F any] struct {
	// Kind says what happened; see [Kind].
	Kind Kind
	// Field is the field's path.
	Field string
	// Source names the source as scheme:location.
	Source string
	// Old and New are the values before and after; for Error and for
	// Removed that keeps the value, both are the kept value.
	Old, New F
	// Gen is the generation that holds the result.
	Gen uint64
	// Time is when the generation was applied.
	Time time.Time
	// Err is set for Error changes.
	Err error
	// Secret reports a secret field.
	Secret bool
}

// update is the change as an Update, redacted like one.
func (c FieldChange[F]) update() Update {
	u := Update{Kind: c.Kind, Field: c.Field, Source: c.Source, Old: c.Old, New: c.New, Gen: c.Gen, Time: c.Time, Err: c.Err, Secret: c.Secret}
	if c.Secret {
		u.Old, u.New = Redacted{}, Redacted{}
	}
	return u
}

// String formats the change like [Update.String], redacting secrets.
func (c FieldChange[F]) String() string { return c.update().String() }

// LogValue makes slog log the change like an [Update], redacting secrets.
func (c FieldChange[F]) LogValue() slog.Value { return c.update().LogValue() }

// MarshalJSON encodes the change with Old and New redacted for secrets.
func (c FieldChange[F]) MarshalJSON() ([]byte, error) { return json.Marshal(c.update()) }

// Format makes every fmt verb print [FieldChange.String].
func (c FieldChange[F]) Format(f fmt.State, verb rune) {
	s := c.String()
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = f.Write([]byte(s))
}

// WatchField calls fn with every change to the field at path (such as
// "DB.Password"), typed. It fails at registration with an error wrapping
// [ErrUnknownField] if no tagged field has that path, or [ErrFieldType] if F
// is not exactly the field's type. Delivery, ordering and buffering are as
// for [Binding.OnChange]; a drop notice arrives as an Error change.
func WatchField[F, T any](b *Binding[T], path string, fn func(FieldChange[F])) (unsubscribe func(), err error) {
	f, ok := b.byPath[path]
	if !ok {
		return nil, &FieldError{Field: path, Err: fmt.Errorf("%w (tagged fields: %s)", ErrUnknownField, b.plan.fieldNames())}
	}
	if want := reflect.TypeFor[F](); want != f.plan.typ {
		return nil, &FieldError{Field: path, Err: fmt.Errorf("%w: field is %s, watcher wants %s", ErrFieldType, f.plan.typ, want)}
	}
	sub := &subscriber{
		filter: func(ev *event) bool { return ev.f == f },
		deliver: func(ev event) {
			c := FieldChange[F]{Kind: ev.u.Kind, Field: path, Source: f.target.String(), Gen: ev.u.Gen, Time: ev.u.Time, Err: ev.u.Err, Secret: f.secret}
			if v, ok := ownCopy(ev.old).(F); ok {
				c.Old = v
			}
			if v, ok := ownCopy(ev.new).(F); ok {
				c.New = v
			}
			fn(c)
		},
	}
	return b.subs.add(sub), nil
}

// A SubscribeOption configures [Binding.Subscribe] and [Stream].
type SubscribeOption interface{ applySub(*subOptions) }

type subOptions struct {
	fields   []string
	kinds    []Kind
	buffer   int
	coalesce bool
}

type subOptionFunc func(*subOptions)

func (f subOptionFunc) applySub(o *subOptions) { f(o) }

// Fields limits a subscription to updates of the fields with these paths.
// A path that names no tagged field is an error at subscription.
func Fields(paths ...string) SubscribeOption {
	return subOptionFunc(func(o *subOptions) { o.fields = append(o.fields, paths...) })
}

// Kinds limits a subscription to updates of these kinds.
func Kinds(kinds ...Kind) SubscribeOption {
	return subOptionFunc(func(o *subOptions) { o.kinds = append(o.kinds, kinds...) })
}

// Buffer sets how many updates this subscriber may fall behind, instead of
// [WithBuffer]'s value.
func Buffer(n int) SubscribeOption {
	return subOptionFunc(func(o *subOptions) { o.buffer = max(n, 0) })
}

// Coalesce makes a subscriber that falls behind receive, for each field,
// one update that spans the ones it missed (the oldest Old, the newest New
// and generation) instead of all of them. Error updates are never merged.
// The subscriber is told how many updates were merged by an Error update
// whose error is a [*DroppedError] with Coalesced set, so nothing is lost
// silently; past the buffer, the oldest updates are dropped and counted as
// usual.
func Coalesce() SubscribeOption {
	return subOptionFunc(func(o *subOptions) { o.coalesce = true })
}

// subscriber builds a subscriber from options; drop notices always pass
// the filters.
func (b *Binding[T]) subscriber(opts []SubscribeOption, deliver func(event)) (*subscriber, error) {
	var o subOptions
	for _, opt := range opts {
		opt.applySub(&o)
	}
	fields := map[*boundField]bool{}
	for _, p := range o.fields {
		f, ok := b.byPath[p]
		if !ok {
			return nil, &FieldError{Field: p, Err: fmt.Errorf("%w (tagged fields: %s)", ErrUnknownField, b.plan.fieldNames())}
		}
		fields[f] = true
	}
	sub := &subscriber{deliver: deliver, buffer: o.buffer, coalesce: o.coalesce}
	if len(fields) > 0 || len(o.kinds) > 0 {
		kinds := o.kinds
		sub.filter = func(ev *event) bool {
			return (len(fields) == 0 || fields[ev.f]) && (len(kinds) == 0 || slices.Contains(kinds, ev.u.Kind))
		}
	}
	return sub, nil
}

// Subscribe is [Binding.OnChange] with options: only some fields or kinds,
// a buffer of its own, coalescing instead of dropping. It fails only for a
// field path that names no tagged field.
func (b *Binding[T]) Subscribe(fn func(Update), opts ...SubscribeOption) (unsubscribe func(), err error) {
	sub, err := b.subscriber(opts, func(ev event) { fn(ev.update()) })
	if err != nil {
		return nil, err
	}
	return b.subs.add(sub), nil
}

// Stream maps updates to values of type R on the subscriber's own goroutine
// and sends them on the returned channel; fn returning false skips an
// update. The channel is closed by stop or by [Binding.Close]. A consumer
// that falls behind never blocks the binding: the options' buffer and drop
// or coalescing policy apply, and fn sees the drop notices (Error updates
// wrapping [ErrDropped]) so it can map them too.
func Stream[R, T any](b *Binding[T], fn func(Update) (R, bool), opts ...SubscribeOption) (values <-chan R, stop func(), err error) {
	ch := make(chan R)
	var sub *subscriber
	sub, err = b.subscriber(opts, func(ev event) {
		r, ok := fn(ev.update())
		if !ok {
			return
		}
		select {
		case ch <- r:
		case <-sub.quit:
		}
	})
	if err != nil {
		return nil, nil, err
	}
	sub.onDone = func() { close(ch) }
	return ch, b.subs.add(sub), nil
}
