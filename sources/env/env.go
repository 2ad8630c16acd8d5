package env

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/livebind/livebind/sources"
)

// DefaultPoll is the poll interval of an env target whose tag has no poll=.
const DefaultPoll = time.Second

// errClosed reports a Watch on a closed driver.
var errClosed = errors.New("env: driver closed")

func init() {
	sources.Register(sources.Scheme{Name: "env", Poll: true, Local: true, Open: open})
}

func open(cfg sources.Config) (sources.Driver, error) {
	if cfg.LookupEnv == nil {
		return nil, errors.New("env: sources.Config.LookupEnv is nil")
	}
	return &driver{lookup: cfg.LookupEnv, targets: make(map[*watch]struct{}), wake: make(chan struct{}, 1)}, nil
}

// driver polls every env target of one Binding from a single goroutine.
type driver struct {
	lookup func(string) (string, bool)
	wake   chan struct{} // buffered(1): the set of targets changed, recompute the next deadline

	mu      sync.Mutex
	targets map[*watch]struct{} // each watch's next is guarded by mu too
	loop    *loop               // nil when no poll goroutine runs
	closed  bool
}

// loop is one run of the poll goroutine. It ends when quit is closed (the
// last target was stopped, or Close); done is closed when it has returned.
type loop struct {
	quit, done chan struct{}
}

// watch is one Watch call.
type watch struct {
	target *sources.Target
	name   string
	every  time.Duration
	next   time.Time // guarded by driver.mu; zero means due now

	last sources.Result // only the poll goroutine touches it once the watch is published

	emitMu  sync.Mutex // held while emit runs; stop takes it to wait for emit
	stopped bool       // guarded by emitMu
	emit    func(sources.Result)
}

// observe reads one variable.
func (d *driver) observe(name string) sources.Result {
	if name == "" {
		return sources.Result{Err: errors.New("env: empty variable name")}
	}
	v, ok := d.lookup(name)
	if !ok {
		return sources.Result{Missing: true}
	}
	return sources.Result{Data: []byte(v)}
}

// Read implements sources.Driver.
func (d *driver) Read(_ context.Context, t *sources.Target) sources.Result {
	return d.observe(t.Location)
}

// Watch implements sources.Driver. The first check runs on the poll
// goroutine right away, so a change between Read and Watch is reported.
// emit must not call the returned stop, nor Close.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	every := t.Poll
	if every <= 0 {
		every = DefaultPoll
	}
	w := &watch{target: t, name: t.Location, every: every, last: last, emit: emit}

	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, errClosed
	}
	d.targets[w] = struct{}{}
	if d.loop == nil {
		d.loop = &loop{quit: make(chan struct{}), done: make(chan struct{})}
		go d.run(d.loop)
	}
	d.mu.Unlock()
	d.poke()

	var once sync.Once
	return func() { once.Do(func() { d.stop(w) }) }, nil
}

// NextPoll implements sources.NextPoller.
func (d *driver) NextPoll(t *sources.Target) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	for w := range d.targets {
		if w.target == t {
			return w.next
		}
	}
	return time.Time{}
}

// stop removes w. When it was the last target the poll goroutine ends and
// stop waits for it; in any case emit is not called once stop returns.
func (d *driver) stop(w *watch) {
	d.mu.Lock()
	delete(d.targets, w)
	var l *loop
	if len(d.targets) == 0 && d.loop != nil {
		l, d.loop = d.loop, nil
		close(l.quit)
	}
	d.mu.Unlock()
	d.poke()

	w.emitMu.Lock()
	w.stopped = true
	w.emitMu.Unlock()
	if l != nil {
		<-l.done
	}
}

// Close implements sources.Driver. It stops the poll goroutine and waits for
// it. It is safe to call more than once.
func (d *driver) Close() error {
	d.mu.Lock()
	d.closed = true
	l := d.loop
	d.loop = nil
	if l != nil {
		close(l.quit)
	}
	d.mu.Unlock()
	if l != nil {
		<-l.done
	}
	return nil
}

func (d *driver) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run checks every due target, then sleeps until the earliest next deadline
// or until the set of targets changes.
func (d *driver) run(l *loop) {
	defer close(l.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var due []*watch
	for {
		d.mu.Lock()
		select {
		case <-l.quit:
			d.mu.Unlock()
			return
		default:
		}
		now := time.Now()
		due = due[:0]
		var next time.Time
		for w := range d.targets {
			if !w.next.After(now) {
				due = append(due, w)
				w.next = now.Add(w.every)
			}
			if next.IsZero() || w.next.Before(next) {
				next = w.next
			}
		}
		d.mu.Unlock()

		if len(due) > 0 {
			for i, w := range due {
				d.check(w)
				due[i] = nil
			}
			continue // checks took time: recompute
		}

		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-fire:
		case <-d.wake:
			timer.Stop()
		case <-l.quit:
			return
		}
	}
}

// check observes w once and emits when presence or value changed.
func (d *driver) check(w *watch) {
	r := d.observe(w.name)
	if same(w.last, r) {
		return
	}
	w.emitMu.Lock()
	defer w.emitMu.Unlock()
	if w.stopped {
		return
	}
	w.last = r
	w.emit(r)
}

func same(a, b sources.Result) bool {
	if a.Err != nil || b.Err != nil {
		return a.Err != nil && b.Err != nil && a.Err.Error() == b.Err.Error()
	}
	return a.Missing == b.Missing && bytes.Equal(a.Data, b.Data)
}
