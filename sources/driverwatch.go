package sources

import "time"

// Helpers for the watch loops of push drivers (nats, redis, etcd), whose
// results come from a server between observations rather than from a
// request the loop times.

// ReportNow hands r to every subscriber, as one observation made now that
// needs no request: a pushed message, a lost connection, a failure to
// subscribe.
func (w *Watch[K, S]) ReportNow(r Result) {
	look := w.Begin(0, false)
	look.End()
	look.Report(r)
}

// ReportFailure reports err (the driver's typed error) with [Watch.ReportNow]
// and sleeps the wait retry gives for it, from the permanent backoff when
// permanent is true. It reports nothing and returns false when the watch
// has ended, and returns false when it ends during the wait.
func (w *Watch[K, S]) ReportFailure(retry *Retry, err error, permanent bool) bool {
	if w.Context().Err() != nil {
		return false
	}
	w.ReportNow(Result{Err: err})
	return w.Sleep(retry.Next(permanent))
}

// CapTransient returns r with its transient waits capped at most too, for
// a driver that must follow a server that comes back within about most
// whatever the configured cap of permanent waits.
func (r Retry) CapTransient(most time.Duration) Retry {
	r.Transient.Max = min(r.Transient.Max, most)
	return r
}
