package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livebind/livebind/internal/backoff"
	"github.com/livebind/livebind/sources"
)

// watcher follows one secret for every Watch of it: it polls KV secrets
// and secrets without a lease, and renews and rotates dynamic credentials.
type watcher struct {
	d    *driver
	key  watchKey
	spec spec      // the first subscriber's: what to resolve
	pre  *resolved // the secret, when it was resolved before the watcher started

	ctx    context.Context // canceled when the last subscriber leaves, or by Close
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	wake   chan struct{} // buffered(1): a subscriber joined, see kick

	mu   sync.Mutex
	subs map[*sub]struct{}
	seq  uint64 // looks started so far; numbers them
	kick bool   // a subscriber joined: look again at once

	metaDenied bool // KV v2 metadata is not readable: poll the data; run's own

	nextAt atomic.Int64 // unix nanoseconds when sleep ends, for NextPoll
}

// sub is one Watch of a watcher.
type sub struct {
	target   *sources.Target
	loc      location
	poll     time.Duration
	timeout  time.Duration
	firstSeq uint64 // answers to earlier looks predate this Watch: not for it

	emitMu  sync.Mutex // held while emit runs; stop takes it to wait for emit
	stopped bool
	last    sources.Result
	emit    func(sources.Result)
}

func newWatcher(d *driver, key watchKey, s spec) *watcher {
	w := &watcher{
		d:    d,
		key:  key,
		spec: s,
		done: make(chan struct{}),
		wake: make(chan struct{}, 1),
		subs: make(map[*sub]struct{}),
	}
	w.ctx, w.cancel = context.WithCancel(d.ctx)
	return w
}

// add subscribes sb. A subscriber joining a running watcher kicks it into
// looking again at once, so that sb compares its Read with a current answer.
func (w *watcher) add(sb *sub, kick bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sb.firstSeq = w.seq + 1
	w.subs[sb] = struct{}{}
	if !kick {
		return
	}
	w.kick = true
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// remove unsubscribes sb and reports whether no subscriber is left.
func (w *watcher) remove(sb *sub) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.subs, sb)
	return len(w.subs) == 0
}

// settings returns the smallest poll interval and the largest timeout among
// the subscribers: the most eager and the most patient decide.
func (w *watcher) settings() (poll, timeout time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	poll = time.Duration(math.MaxInt64)
	for sb := range w.subs {
		poll = min(poll, sb.poll)
		timeout = max(timeout, sb.timeout)
	}
	if len(w.subs) == 0 {
		return w.spec.poll, w.spec.timeout
	}
	return poll, timeout
}

// begin numbers a new look and clears the kick.
func (w *watcher) begin() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	w.kick = false
	return w.seq
}

// requestContext bounds one request.
func (w *watcher) requestContext() (context.Context, context.CancelFunc) {
	_, timeout := w.settings()
	return context.WithTimeout(w.ctx, timeout)
}

// sleep waits for d, for a kick or for the end. It reports whether the
// watcher is still running.
func (w *watcher) sleep(d time.Duration) bool {
	deadline := time.Now().Add(d)
	w.nextAt.Store(deadline.UnixNano())
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		w.mu.Lock()
		kicked := w.kick
		w.mu.Unlock()
		left := time.Until(deadline)
		if kicked || left <= 0 {
			return w.ctx.Err() == nil
		}
		timer.Reset(left)
		select {
		case <-timer.C:
		case <-w.wake: // maybe stale: the loop checks kick again
			timer.Stop()
		case <-w.ctx.Done():
			return false
		}
	}
}

// jitter spreads a poll interval by ±10%.
func (w *watcher) jitter(d time.Duration) time.Duration {
	return frac(d, 0.9, 1.1, w.d.rnd)
}

// failures are the two backoffs of a watcher.
type failures struct {
	transient, permanent backoff.Backoff
}

func newFailures(maxBackoff time.Duration) *failures {
	return &failures{
		transient: backoff.Backoff{Base: min(transientBase, maxBackoff), Max: maxBackoff},
		permanent: backoff.Backoff{Base: min(permanentBase, maxBackoff), Max: maxBackoff},
	}
}

// next returns the wait before retrying after err.
func (f *failures) next(err *Error) time.Duration {
	if err.transient() {
		return f.transient.Next()
	}
	return f.permanent.Next()
}

func (f *failures) reset() {
	f.transient.Reset()
	f.permanent.Reset()
}

// run resolves the secret (detecting its mount) and follows it until the
// last subscriber leaves or the driver closes.
func (w *watcher) run() {
	defer close(w.done)
	f := newFailures(w.d.maxBackoff)
	var r resolved
	if w.pre != nil {
		r = *w.pre
	}
	for w.pre == nil {
		seq := w.begin()
		ctx, cancel := w.requestContext()
		var err *Error
		r, err = w.d.resolve(ctx, w.spec)
		cancel()
		if w.ctx.Err() != nil {
			return
		}
		if err == nil {
			break
		}
		w.deliver(func(location) sources.Result { return sources.Result{Err: err} }, seq)
		if !w.sleep(f.next(err)) {
			return
		}
	}
	f.reset()
	st := w.d.state(r)
	if r.kind == kindGeneric {
		w.runGeneric(r, st, f)
		return
	}
	w.runPoll(r, st, f)
}

// runPoll polls a KV or unleased secret every poll interval (jittered),
// backing off after failures.
func (w *watcher) runPoll(r resolved, st *secretState, f *failures) {
	var failing *Error
	for first := true; ; first = false {
		var delay time.Duration
		switch {
		case first:
		case failing != nil:
			delay = f.next(failing)
		default:
			poll, _ := w.settings()
			delay = w.jitter(poll)
		}
		if !w.sleep(delay) {
			return
		}
		seq := w.begin()
		asOf := time.Now()
		ctx, cancel := w.requestContext()
		obs, err := w.look(ctx, r, st, asOf)
		cancel()
		if w.ctx.Err() != nil {
			return
		}
		if err != nil {
			failing = err
			w.deliver(func(location) sources.Result { return sources.Result{Err: err} }, seq)
			continue
		}
		failing = nil
		f.reset()
		w.deliver(obs.result, seq)
	}
}

// look observes the secret once. For KV v2 it reads the metadata (one
// request) and reads the data only when the current version differs from
// the one last read; when the metadata is not readable it reads the data
// every time.
func (w *watcher) look(ctx context.Context, r resolved, st *secretState, asOf time.Time) (*observation, *Error) {
	if r.kind != kindKV2 || w.metaDenied {
		return w.d.observe(ctx, r, st, asOf)
	}
	current, gone, exists, err := w.d.readMetadata(ctx, r)
	if err != nil {
		if err.StatusCode != http.StatusForbidden || errors.Is(err, ErrTokenInvalid) {
			return nil, err
		}
		// The token is valid but its policy denies the metadata: read the
		// data from now on (one request per poll as well).
		w.metaDenied = true
		w.d.logger.Debug("vault: the token may not read the metadata; polling the data instead", "path", r.meta)
		return w.d.observe(ctx, r, st, asOf)
	}
	version := ""
	if current > 0 {
		version = strconv.FormatInt(current, 10)
	}
	if !exists || gone {
		return &observation{missing: true, version: version}, nil
	}
	if o := st.latest(); o != nil && !o.missing && o.version == version {
		return o, nil
	}
	return w.d.observe(ctx, r, st, asOf)
}

// runGeneric follows a secret of another engine: by its lease when it has
// one, else by polling.
func (w *watcher) runGeneric(r resolved, st *secretState, f *failures) {
	var failing *Error
	for {
		st.mu.Lock()
		l, plain := st.lease, st.plain
		var (
			fresh        bool
			at           time.Time
			renew        bool
			expiry, rotA time.Time
		)
		if l != nil {
			fresh = l.fresh(time.Now())
			at, renew = l.plan()
			expiry, rotA = l.expiry, l.rotateAt()
		}
		st.mu.Unlock()
		if plain && l == nil {
			w.runPoll(r, st, f)
			return
		}
		if !fresh {
			if failing != nil && !w.sleep(f.next(failing)) {
				return
			}
			seq := w.begin()
			asOf := time.Now()
			ctx, cancel := w.requestContext()
			obs, err := w.d.observe(ctx, r, st, asOf)
			cancel()
			if w.ctx.Err() != nil {
				return
			}
			if err != nil {
				failing = err
				if l != nil && !time.Now().Before(expiry) {
					err = expired(err, l.id, expiry)
				}
				w.deliver(func(location) sources.Result { return sources.Result{Err: err} }, seq)
				continue
			}
			failing = nil
			w.deliver(obs.result, seq)
			st.mu.Lock()
			stale := st.lease == nil || !st.lease.fresh(time.Now())
			st.mu.Unlock()
			switch {
			case obs.missing: // no credentials (the role is gone): look again later
				poll, _ := w.settings()
				if !w.sleep(w.jitter(poll)) {
					return
				}
			case stale && !st.isPlain(): // a lease too short for the time its read took: no hot loop
				if !w.sleep(f.transient.Next()) {
					return
				}
			default:
				f.reset()
				if l != nil {
					w.d.logger.Debug("vault: credentials rotated", "path", r.path, "old_lease_id", l.id,
						"old_expires_in", time.Until(expiry).String(), "planned_lead", expiry.Sub(rotA).String())
				}
			}
			continue
		}
		seq := w.begin()
		w.deliver(l.obs.result, seq) // the current credentials, for subscribers that joined
		if !w.sleep(time.Until(at)) {
			return
		}
		if time.Now().Before(at) { // kicked
			continue
		}
		if renew {
			w.renew(r, st, l, f)
		}
	}
}

// renew renews the lease l once and records the outcome.
func (w *watcher) renew(r resolved, st *secretState, l *lease, f *failures) {
	ctx, cancel := w.requestContext()
	sent := time.Now()
	ttl, err := w.d.renewLease(ctx, r.path, l)
	cancel()
	if w.ctx.Err() != nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.lease != l { // a Read replaced the credentials meanwhile
		return
	}
	if err != nil {
		switch err.StatusCode {
		case http.StatusBadRequest, http.StatusNotFound:
			l.noRenew = true // Vault no longer knows the lease: new credentials now
			l.expiry = time.Now()
		case http.StatusForbidden:
			l.noRenew = true // rotate before it expires
		default:
			l.renewAt = time.Now().Add(f.next(err))
		}
		w.d.logger.Warn("vault: renewing a lease failed", "path", r.path, "lease_id", l.id,
			"expires_at", l.expiry, "error", err)
		return
	}
	f.reset()
	l.renewed(sent, ttl, w.d.rnd)
	w.d.logger.Debug("vault: lease renewed", "path", r.path, "lease_id", l.id, "ttl", ttl, "capped", l.capped)
}

// expired adds to a failure to read new credentials that the current ones
// have run out.
func expired(err *Error, leaseID string, at time.Time) *Error {
	e := *err
	e.Err = fmt.Errorf("%w; %w (lease %s, at %s)", err.Err, ErrLeaseExpired, leaseID, at.UTC().Format(time.RFC3339))
	return &e
}

// deliver hands each subscriber that joined before look seq began what
// result makes of the observation for its location.
func (w *watcher) deliver(result func(location) sources.Result, seq uint64) {
	w.mu.Lock()
	subs := make([]*sub, 0, len(w.subs))
	for sb := range w.subs {
		if sb.firstSeq <= seq {
			subs = append(subs, sb)
		}
	}
	w.mu.Unlock()
	for _, sb := range subs {
		sb.deliver(result(sb.loc))
	}
}

// deliver emits r unless it tells this subscriber nothing new or the
// subscriber has stopped.
func (sb *sub) deliver(r sources.Result) {
	sb.emitMu.Lock()
	defer sb.emitMu.Unlock()
	if sb.stopped || same(sb.last, r) {
		return
	}
	sb.last = r
	sb.emit(r)
}

// same reports whether b tells a watcher nothing new after a: the same
// presence and bytes, or the same error text. Versions are ignored: a new
// KV version with the same data, or new credentials equal to the old, is no
// change.
func same(a, b sources.Result) bool {
	switch {
	case a.Err != nil || b.Err != nil:
		return a.Err != nil && b.Err != nil && a.Err.Error() == b.Err.Error()
	case a.Missing || b.Missing:
		return a.Missing == b.Missing
	}
	return bytes.Equal(a.Data, b.Data) && a.Format == b.Format
}
