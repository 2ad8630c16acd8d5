package livebind

import (
	"fmt"

	"github.com/livebind/livebind/sources"
)

// releaser is the optional Release method of a configuration type; the
// package documentation's "Releasing resources" section says when it is
// called and how to write one.
type releaser[T any] interface {
	Release(dropped *T)
}

// release calls kept.Release(dropped) if T has a Release method, recovering
// a panic. It runs on the applier (or in Bind before the applier starts).
func (b *Binding[T]) release(kept, dropped *T) {
	r, ok := any(kept).(releaser[T])
	if !ok || dropped == nil || kept == dropped {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			b.logPanic("the Release method", p)
		}
	}()
	r.Release(dropped)
}

// tellRefused tells the driver of f's target, if it is a [sources.Rejecter],
// that f's update= method refused the value it emitted, recovering a panic.
// It runs on the applier.
func (b *Binding[T]) tellRefused(f *boundField, err error) {
	if f == nil {
		return
	}
	r, ok := f.target.driver.(sources.Rejecter)
	if !ok {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			b.logPanic("a source's Rejected method", p, "source", f.target.String())
		}
	}()
	r.Rejected(&f.target.spec, err)
}

// logPanic logs that what panicked with p, hiding p when the configuration
// holds secrets (a panic value may quote one).
func (b *Binding[T]) logPanic(what string, p any, attrs ...any) {
	if b.hasSecret {
		b.log.Error("livebind: "+what+" panicked (value hidden: the configuration holds secrets)", attrs...)
		return
	}
	b.log.Error("livebind: "+what+" panicked", append(attrs, "panic", fmt.Sprint(p))...)
}
