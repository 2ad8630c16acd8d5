package livebind

import (
	"cmp"
	"fmt"
	"reflect"
	"time"
)

// workNote says what the applier is doing while it calls user code: the
// fields whose values are at stake, the sentinel and the name of what it
// calls, and for a decode the target and the data. run reports it if that
// code ends the applier goroutine with runtime.Goexit.
type workNote struct {
	fields   []*boundField
	sentinel error
	what     string
	target   *target // a decode: recorded as failing, so the same data is not decoded again
	data     []byte
}

// afterGoexit runs in the deferred call of an applier goroutine that user
// code ended with runtime.Goexit (a t.FailNow in a test's Validate, say):
// Go cannot stop that, so it reports an Error update for each field at
// stake, keeps the last good snapshot, answers the Reload or Rollback under
// way, and starts the applier again. What was being built is dropped; a
// held-back value stays desired, as after a rejection.
func (b *Binding[T]) afterGoexit() {
	n := b.work
	b.work = workNote{}
	if n.sentinel == nil {
		n.sentinel, n.what = ErrValidation, "user code"
	}
	err := fmt.Errorf("%w: %s called runtime.Goexit", n.sentinel, n.what)
	cur := b.cur.Load()
	var notes []event
	var first error
	for _, f := range n.fields {
		fe := &FieldError{Field: f.plan.path, Source: f.target.String(), Key: f.key, Err: err}
		first = cmp.Or(first, error(fe))
		v := reflect.ValueOf(cur.v).Elem().FieldByIndex(f.plan.index).Interface()
		notes = append(notes, b.event(f, Error, v, v, fe))
	}
	first = cmp.Or(first, fmt.Errorf("livebind: %w", err))
	if t := n.target; t != nil {
		t.failing, t.failData = first, n.data
	} else {
		b.rejected = first
	}
	b.log.Error("livebind: user code called runtime.Goexit on the applier; the applier goes on", "error", first)
	b.publish(nil, nil, notes, 0, time.Now())
	if b.reply != nil {
		select {
		case b.reply <- first:
		default:
		}
		b.reply = nil
	}
	b.busy.Store(false)
	go b.run()
}
