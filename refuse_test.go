package livebind

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources"
)

// refuser is a source that hands out the values the test emits and records
// what livebind tells it it refused (sources.Rejecter). Only
// TestRejecterHearsRefusedValues binds its scheme.
var refuser = &refusingDriver{}

type refusingDriver struct {
	mu      sync.Mutex
	emit    func(sources.Result)
	refused []error
	panics  bool
}

func init() {
	sources.Register(sources.Scheme{Name: "refusetest", Open: func(sources.Config) (sources.Driver, error) { return refuser, nil }})
}

func (d *refusingDriver) Read(context.Context, *sources.Target) sources.Result {
	return sources.Result{Data: []byte("a")}
}

func (d *refusingDriver) Watch(_ *sources.Target, _ sources.Result, emit func(sources.Result)) (func(), error) {
	d.mu.Lock()
	d.emit = emit
	d.mu.Unlock()
	return func() {}, nil
}

func (d *refusingDriver) Close() error { return nil }

func (d *refusingDriver) Rejected(t *sources.Target, err error) {
	d.mu.Lock()
	d.refused = append(d.refused, err)
	panics := d.panics
	d.mu.Unlock()
	if t.Location != "pool" {
		panic("Rejected for the wrong target: " + t.Location)
	}
	if panics {
		panic("rejected")
	}
}

func (d *refusingDriver) send(v string) {
	d.mu.Lock()
	emit := d.emit
	d.mu.Unlock()
	emit(sources.Result{Data: []byte(v)})
}

func (d *refusingDriver) heard() []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]error(nil), d.refused...)
}

type refuseConfig struct {
	Name string     `live:"refusetest=pool; update=SetName"`
	Res  *resource  `live:"-"`
	Rs   *resources `live:"-"`
}

func (c *refuseConfig) SetName(next string) error {
	if next == c.Rs.fail {
		return errors.New("cannot connect")
	}
	c.Name, c.Res = next, c.Rs.open(next)
	return nil
}

func (c *refuseConfig) Validate() error {
	if c.Name == "invalid" {
		return errors.New("invalid name")
	}
	return nil
}

// TestRejecterHearsRefusedValues: a source that is a sources.Rejecter hears
// of each value the field's update= method refused (with the error the
// Error update carries), and not of values Validate refused; a panicking
// Rejected is contained and the binding goes on. In a child process:
// Rejected runs on the applier, so an unrecovered panic kills the test
// binary.
func TestRejecterHearsRefusedValues(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		cfg := refuseConfig{Rs: &resources{fail: "broken"}}
		b := mustBind(t, &cfg)
		rec := record(t, b)

		refuser.send("broken") // update= refuses: the source hears of it
		u, _ := rec.until(t, wait, func(u Update) bool { return u.Kind == Error })
		require.ErrorIs(t, u.Err, ErrUpdate)
		assert.Equal(t, 1, strings.Count(u.Err.Error(), "field Name"), "the field is named once: %v", u.Err)
		heard := refuser.heard()
		require.Len(t, heard, 1)
		require.ErrorIs(t, heard[0], ErrUpdate)
		assert.Equal(t, u.Err.Error(), heard[0].Error(), "the error of the Error update")
		assert.Equal(t, "a", b.Get().Name, "the last good value stays")

		refuser.send("invalid") // Validate refuses the generation: not the source's value alone
		u, _ = rec.until(t, wait, func(u Update) bool { return u.Kind == Error })
		require.ErrorIs(t, u.Err, ErrValidation)
		assert.Len(t, refuser.heard(), 1, "no Rejected for a Validate refusal")

		refuser.mu.Lock()
		refuser.panics = true
		refuser.mu.Unlock()
		refuser.send("broken")
		rec.until(t, wait, func(u Update) bool { return u.Kind == Error })
		assert.Len(t, refuser.heard(), 2)
		refuser.send("b") // the binding goes on after the panic
		rec.until(t, wait, func(u Update) bool { return u.Kind == Updated && u.Field == "Name" })
		assert.Equal(t, "b", b.Get().Name)
	})
}
