package livebind

import (
	"cmp"
	"fmt"
	"reflect"
	"time"
)

// workNote says what the applier is doing while it calls user code: the
// fields whose values are at stake, the sentinel and the name of what it
// calls, for a decode the target and the data, and the Reload or Rollback
// being served. run reports it if that code ends the applier goroutine
// with runtime.Goexit.
type workNote struct {
	fields   []*boundField
	sentinel error
	what     string
	target   *target // a decode: recorded as failing, so the same data is not decoded again
	data     []byte
	reply    chan<- error  // the Reload or Rollback being served, answered then
	buf      []*boundField // reused for fields by the Validate step (never a target's fields)
}

// doing records what the applier does next; the request it serves and
// the buffer stay.
func (b *Binding[T]) doing(n workNote) {
	n.reply, n.buf = b.work.reply, b.work.buf
	b.work = n
}

// validating records that the applier runs the configuration's methods on
// a candidate in which the fields fresh marks have new values.
func (b *Binding[T]) validating(fresh map[*boundField]bool) {
	buf := b.work.buf[:0]
	for _, f := range b.fields {
		if fresh[f] {
			buf = append(buf, f)
		}
	}
	b.doing(workNote{fields: buf, sentinel: ErrValidation, what: "a method of the configuration"})
	b.work.buf = buf
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
	if n.reply != nil {
		select {
		case n.reply <- first:
		default:
		}
	}
	b.self.busy.Store(false)
	go b.run()
}
