package env

import (
	"context"
	"errors"
	"time"

	"github.com/livebind/livebind/sources"
)

// DefaultPoll is the poll interval of an env target whose tag has no poll=.
const DefaultPoll = time.Second

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

// driver polls every variable of one Binding, one loop per distinct name
// shared by every field that reads it.
type driver struct {
	lookup  func(string) (string, bool)
	watches sources.Watches[string, time.Duration] // per subscriber: its poll interval
}

// Read implements [sources.Driver].
func (d *driver) Read(_ context.Context, t *sources.Target) sources.Result {
	if t.Location == "" {
		return sources.Result{Err: ErrEmptyName}
	}
	v, ok := d.lookup(t.Location)
	if !ok {
		return sources.Result{Missing: true}
	}
	return sources.Result{Data: []byte(v)}
}

// Watch implements [sources.Driver]. The first check runs right away, so a
// change between Read and Watch is reported.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	every := t.Poll
	if every <= 0 {
		every = DefaultPoll
	}
	sub := sources.Sub[time.Duration]{Target: t, Value: every, Last: last, Emit: emit}
	return d.watches.Subscribe(t.Location, sub, func(w *sources.Watch[string, time.Duration]) {
		t := &sources.Target{Location: w.Key()}
		for delay := time.Duration(0); w.Sleep(delay); {
			look := w.Begin(0, false)
			look.Report(d.Read(look.Context(), t))
			look.End()
			delay = time.Duration(1<<63 - 1)
			for _, p := range w.Values() { // the most eager subscriber decides
				delay = min(delay, p)
			}
		}
	})
}

// NextPoll implements [sources.NextPoller].
func (d *driver) NextPoll(t *sources.Target) time.Time { return d.watches.NextPoll(t) }

// Close implements [sources.Driver]. It stops every poll loop and waits for
// them. It is safe to call more than once.
func (d *driver) Close() error {
	d.watches.Close()
	return nil
}
