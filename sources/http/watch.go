package http

import (
	"bytes"
	"context"
	"encoding/hex"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	nethttp "net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livebind/livebind/internal/backoff"
	"github.com/livebind/livebind/sources"
)

// kind classifies an observation.
type kind uint8

const (
	kindData kind = iota
	kindMissing
	kindErr
)

// observation is one look at a target, as livebind sees it.
type observation struct {
	kind    kind
	data    []byte
	format  string   // media type of Content-Type
	etag    []string // validators the data came with, for its Version
	lastMod []string
	err     error
}

func dataObservation(r reply) observation {
	return observation{kind: kindData, data: r.data, format: r.ctype, etag: r.etag, lastMod: r.lastMod}
}

func (o observation) result() sources.Result {
	switch o.kind {
	case kindMissing:
		return sources.Result{Missing: true}
	case kindErr:
		return sources.Result{Err: o.err}
	default:
		return sources.Result{Data: o.data, Format: o.format, Version: o.version()}
	}
}

// version is the ETag, else the Last-Modified date, else a content hash.
func (o observation) version() string {
	switch {
	case len(o.etag) > 0:
		return o.etag[0]
	case len(o.lastMod) > 0:
		return o.lastMod[0]
	}
	h := fnv.New64a()
	_, _ = h.Write(o.data) // hash.Hash.Write never fails
	return hex.EncodeToString(h.Sum(nil))
}

// differs reports whether o must be reported after prev: other bytes or
// format, a change between present, missing and failing, or another error
// message. A value after an error is always reported, so that livebind
// clears the error.
func (o observation) differs(prev observation) bool {
	if o.kind != prev.kind {
		return true
	}
	switch o.kind {
	case kindData:
		return o.format != prev.format || !bytes.Equal(o.data, prev.data)
	case kindErr:
		return o.err.Error() != prev.err.Error()
	default:
		return false
	}
}

// observationOf turns the Result livebind last received into the starting
// point of the comparison. The validators of a value read by this driver
// are recovered from its Version: an ETag starts with a quote (or W/"), a
// Last-Modified is an HTTP date, and a content hash is neither.
func observationOf(r sources.Result) observation {
	switch {
	case r.Err != nil:
		return observation{kind: kindErr, err: r.Err}
	case r.Missing:
		return observation{kind: kindMissing}
	}
	o := observation{kind: kindData, data: r.Data, format: r.Format}
	switch v := r.Version; {
	case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `W/"`):
		o.etag = []string{v}
	case v != "":
		if _, err := nethttp.ParseTime(v); err == nil {
			o.lastMod = []string{v}
		}
	}
	return o
}

// watcher polls one target on its own goroutine.
type watcher struct {
	d      *driver
	s      *spec
	target *sources.Target
	emit   func(sources.Result)
	nextAt atomic.Int64 // unix nanoseconds of the next poll, for NextPoll

	ctx    context.Context // canceled by stop and by the driver's Close
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	once   sync.Once

	// Owned by the goroutine. One request, its context and its deadline
	// timer serve every poll until a poll is cut short (timeout=); then they
	// are built again. Reusing them saves allocations on the 304 path.
	req        *nethttp.Request // its Header carries the validators
	reqCancel  context.CancelCauseFunc
	deadline   *time.Timer // cancels req's context with context.DeadlineExceeded
	prev       observation // what livebind has
	good       observation // the last value seen, which a 304 confirms
	scratch    []byte      // a body buffer not handed to livebind, for reuse
	transient  backoff.Backoff
	permanent  backoff.Backoff
	maxBackoff time.Duration
}

func newWatcher(d *driver, s *spec, last sources.Result, emit func(sources.Result)) *watcher {
	w := &watcher{d: d, s: s, emit: emit, done: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancel(d.ctx)
	w.prev = observationOf(last)
	if w.prev.kind == kindData {
		w.good = w.prev
	}
	w.maxBackoff = max(MaxBackoff, s.poll)
	w.transient = backoff.Backoff{Base: min(transientBase, s.poll), Max: w.maxBackoff}
	w.permanent = backoff.Backoff{Base: max(permanentBase, s.poll), Max: w.maxBackoff}
	return w
}

// stop ends the watch, canceling a request in flight, and waits for the
// goroutine. It is idempotent; after it returns emit is not called again.
func (w *watcher) stop() {
	w.once.Do(func() {
		w.cancel()
		<-w.done
		w.d.remove(w)
	})
}

func (w *watcher) run() {
	defer close(w.done)
	// The first poll runs at once, so that a change between Read and Watch
	// is not lost.
	timer := time.NewTimer(0)
	defer timer.Stop()
	defer w.dropRequest()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-timer.C:
		}
		next := w.poll()
		if w.ctx.Err() != nil {
			return
		}
		w.nextAt.Store(time.Now().Add(next).UnixNano())
		timer.Reset(next)
	}
}

// poll sends one request, reports what changed and returns the wait before
// the next one.
func (w *watcher) poll() time.Duration {
	req := w.request()
	conditional := w.setValidators()
	w.deadline.Reset(w.s.timeout)
	r := w.d.fetch(req, w.s, w.scratch, conditional)
	if !w.deadline.Stop() {
		w.dropRequest() // the deadline canceled the request's context
	}
	if w.ctx.Err() != nil {
		return 0 // stopped: the request was canceled, report nothing
	}
	switch r.class {
	case classData:
		w.transient.Reset()
		w.permanent.Reset()
		o := dataObservation(r)
		if w.report(o) {
			w.good, w.scratch = o, nil // livebind owns the bytes now
		} else {
			w.good.etag, w.good.lastMod = o.etag, o.lastMod
			w.scratch = r.data // same bytes as good: reuse the buffer
		}
		return w.interval(r.fresh)
	case classNotModified:
		w.transient.Reset()
		w.permanent.Reset()
		// RFC 9111 §4.3.4: a 304 updates the stored validators.
		if len(r.etag) > 0 {
			w.good.etag = r.etag
		}
		if len(r.lastMod) > 0 {
			w.good.lastMod = r.lastMod
		}
		w.report(w.good) // reports only after an error
		return w.interval(r.fresh)
	case classEmpty:
		// The server works: poll at the usual pace. The last good value and
		// its validators stay, so that a 304 to them later restores it.
		w.transient.Reset()
		w.permanent.Reset()
		w.scratch = r.data
		w.report(observation{kind: kindErr, err: r.err})
		return w.interval(r.fresh)
	case classMissing:
		w.transient.Reset()
		w.permanent.Reset()
		w.good = observation{}
		w.report(observation{kind: kindMissing})
		return w.interval(0)
	case classTransient:
		next := w.transient.Next()
		if r.retryAfter > 0 {
			next = max(next, min(r.retryAfter, w.maxBackoff))
		}
		w.fail(r.err, next)
		return next
	default:
		next := max(jitter(w.s.poll), w.permanent.Next())
		w.fail(r.err, next)
		return next
	}
}

// request returns the request of the next poll, building it (with its
// context and deadline timer) when there is none.
func (w *watcher) request() *nethttp.Request {
	if w.req != nil {
		return w.req
	}
	ctx, cancel := context.WithCancelCause(w.ctx)
	w.req, w.reqCancel = w.d.newRequest(ctx, w.s), cancel
	w.deadline = time.AfterFunc(time.Hour, func() { cancel(context.DeadlineExceeded) })
	w.deadline.Stop()
	return w.req
}

// dropRequest releases the request's context and timer.
func (w *watcher) dropRequest() {
	if w.req == nil {
		return
	}
	w.deadline.Stop()
	w.reqCancel(context.Canceled)
	w.req, w.reqCancel, w.deadline = nil, nil, nil
}

// setValidators puts the ETag in If-None-Match, or else the Last-Modified
// date in If-Modified-Since (never both: RFC 9110 §13.1.3), and reports
// whether the request is conditional.
func (w *watcher) setValidators() bool {
	h := w.req.Header
	switch {
	case w.good.kind != kindData:
	case len(w.good.etag) > 0:
		h["If-None-Match"] = w.good.etag
		delete(h, "If-Modified-Since")
		return true
	case len(w.good.lastMod) > 0:
		h["If-Modified-Since"] = w.good.lastMod
		delete(h, "If-None-Match")
		return true
	}
	delete(h, "If-None-Match")
	delete(h, "If-Modified-Since")
	return false
}

// fail reports a failed poll.
func (w *watcher) fail(err error, next time.Duration) {
	w.d.logger.LogAttrs(w.ctx, slog.LevelDebug, "http: poll failed",
		slog.String("url", w.s.loc), slog.Any("err", err), slog.Duration("retry_in", next))
	w.report(observation{kind: kindErr, err: err})
}

// report emits o when it differs from what livebind has.
func (w *watcher) report(o observation) bool {
	if !o.differs(w.prev) {
		return false
	}
	w.prev = o
	w.emit(o.result())
	return true
}

// interval is the wait after a successful poll: poll=, or the response's
// freshness when longer, up to maxAgeFactor polls; jittered by ±10%.
func (w *watcher) interval(fresh time.Duration) time.Duration {
	iv := w.s.poll
	if fresh > iv {
		iv = min(fresh, maxAgeFactor*min(w.s.poll, math.MaxInt64/maxAgeFactor))
	}
	return jitter(iv)
}

// jitter spreads d uniformly over [0.9d, 1.1d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}
