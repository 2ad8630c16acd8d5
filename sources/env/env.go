package env

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/livebind/livebind/sources"
)

// DefaultPoll is the poll interval of an env target whose tag has no poll=.
// At 100 ms an in-process os.Setenv shows within about a tenth of a second
// (sub-second with a wide margin), and an idle Binding costs one wake-up
// and one lookup per variable each tick: BenchmarkIdleCost measures it.
const DefaultPoll = 100 * time.Millisecond

// ErrLookupPanicked reports that the lookup function given with
// livebind.WithLookupEnv panicked. The panic value is not shown: it may hold
// a variable's value.
var ErrLookupPanicked = errors.New("env: the lookup function panicked")

// ErrEmptyName reports an env target with no variable name, such as
// live:"env=${UNSET}" after expansion.
var ErrEmptyName = errors.New("env: empty variable name")

func init() {
	sources.Register(sources.Scheme{Name: "env", Poll: true, Local: true, Check: check, Open: open})
}

// check rejects an empty variable name at Bind.
func check(t *sources.Target) error {
	if t.Location == "" {
		return ErrEmptyName
	}
	return nil
}

func open(cfg sources.Config) (sources.Driver, error) {
	if cfg.LookupEnv == nil {
		return nil, errors.New("env: sources.Config.LookupEnv is nil")
	}
	return &driver{lookup: cfg.LookupEnv}, nil
}

// driver polls every variable of one Binding from a single loop, each field
// at its own interval.
type driver struct {
	lookup  func(string) (string, bool)
	watches sources.Watches[struct{}, *field] // one watch: the poll loop
}

// field is one watched env field. next and last belong to the poll loop.
type field struct {
	name  string
	every time.Duration
	next  time.Time      // zero: due now
	last  sources.Result // the last lookup, reported again while not due
}

// Read implements [sources.Driver].
func (d *driver) Read(_ context.Context, t *sources.Target) sources.Result {
	if t.Location == "" {
		return sources.Result{Err: ErrEmptyName}
	}
	v, ok, err := d.safeLookup(t.Location)
	switch {
	case err != nil:
		return sources.Result{Err: err}
	case !ok:
		return sources.Result{Missing: true}
	}
	return sources.Result{Data: []byte(v)}
}

// safeLookup calls the user's lookup function, turning a panic into an
// error: user code must not kill the process or the poll loop.
func (d *driver) safeLookup(name string) (v string, ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, ok, err = "", false, fmt.Errorf("%w (variable %s)", ErrLookupPanicked, name)
		}
	}()
	v, ok = d.lookup(name)
	return v, ok, nil
}

// Watch implements [sources.Driver]. The first check runs right away, so a
// change between Read and Watch is reported.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	f := &field{name: t.Location, every: t.Poll, last: last}
	if f.every <= 0 {
		f.every = DefaultPoll
	}
	return d.watches.Subscribe(struct{}{}, sources.Sub[*field]{Target: t, Value: f, Last: last, Emit: emit}, d.poll)
}

// poll looks up every due field, then sleeps until the next one is due or
// a field joins.
func (d *driver) poll(w *sources.Watch[struct{}, *field]) {
	for delay := time.Duration(0); w.Sleep(delay); {
		look := w.Begin(0, false)
		now := time.Now()
		look.ReportEach(func(f *field) sources.Result {
			if !f.next.After(now) {
				f.last, f.next = d.Read(look.Context(), &sources.Target{Location: f.name}), now.Add(f.every)
			}
			return f.last
		})
		look.End()
		var next time.Time
		for _, f := range w.Values() {
			if next.IsZero() || f.next.Before(next) {
				next = f.next
			}
		}
		delay = time.Until(next)
	}
}

// NextPoll implements [sources.NextPoller]: when the poll loop of the
// Binding's env fields wakes next.
func (d *driver) NextPoll(t *sources.Target) time.Time { return d.watches.NextPoll(t) }

// Close implements [sources.Driver]. It stops every poll loop and waits for
// them. It is safe to call more than once.
func (d *driver) Close() error {
	d.watches.Close()
	return nil
}
