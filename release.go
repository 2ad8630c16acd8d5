package livebind

import "fmt"

// Releaser is implemented by a configuration type whose update= methods
// build values that hold resources, such as a connection pool built from
// rotated credentials. It completes the two phases of a generation: an
// update= method builds the new resource on the candidate snapshot (phase
// one: connect, check, or fail and reject the generation), and Release
// lets go of whatever will never be published or is no longer published
// (phase two).
//
// livebind calls Release on the applier goroutine, after the fact, on the
// snapshot that stays, with the one that goes:
//   - after a generation is published: next.Release(previous). Close the
//     resources of previous that next does not share (the old pool).
//   - after a candidate is discarded (rejected by an update= method or
//     Validate, changing nothing, or built at Bind only to evaluate when=
//     conditions): current.Release(candidate). Close the resources of
//     candidate that current does not share (a pool built for credentials
//     that were then rejected).
//
// Compare the resources, as they are copied from snapshot to snapshot:
//
//	func (c *Config) Release(dropped *Config) {
//		if dropped.Pool != nil && dropped.Pool != c.Pool {
//			go dropped.Pool.Close() // waits for its queries in flight
//		}
//	}
//
// Release must not block for long: it holds up the next generation. A
// reader may still hold the dropped snapshot (from [Binding.Get]) for a
// moment, so close in a goroutine, after the queries in flight, or after a
// short grace. A panic in Release is logged and otherwise ignored. The
// snapshot published last is never released: close its resources after
// [Binding.Close]. Snapshots kept by [Binding.History] may hold resources
// that were released; Rollback does not restore untagged fields.
type Releaser[T any] interface {
	Release(dropped *T)
}

// release calls kept.Release(dropped) if T implements Releaser, recovering
// a panic. It runs on the applier (or in Bind before the applier starts).
func (b *Binding[T]) release(kept, dropped *T) {
	r, ok := any(kept).(Releaser[T])
	if !ok || dropped == nil || kept == dropped {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			if b.hasSecret {
				b.log.Error("livebind: the Release method panicked (value hidden: the configuration holds secrets)")
			} else {
				b.log.Error("livebind: the Release method panicked", "panic", fmt.Sprint(p))
			}
		}
	}()
	r.Release(dropped)
}
