package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// subValue is what a watch keeps per subscriber.
type subValue struct {
	loc     location
	poll    time.Duration
	timeout time.Duration
}

// watch is the shared watch of one secret; see [sources.Watches].
type watch = sources.Watch[watchKey, subValue]

// follower follows one secret for every Watch of it: it polls KV secrets
// and secrets without a lease, and renews and rotates dynamic credentials.
// It lives on its watch's goroutine.
type follower struct {
	d     *driver
	w     *watch
	spec  spec      // the first subscriber's: what to resolve
	pre   *resolved // the secret, when it was resolved before the watch started
	retry sources.Retry
	// refusals spaces out new credentials read because a field refused the
	// last ones (a new database user each time).
	refusals sources.Backoff

	metaDenied bool // KV v2 metadata is not readable: poll the data
}

// settings returns the smallest poll interval and the largest timeout among
// the subscribers: the most eager and the most patient decide.
func (w *follower) settings() (poll, timeout time.Duration) {
	vs := w.w.Values()
	if len(vs) == 0 {
		return w.spec.poll, w.spec.timeout
	}
	poll = time.Duration(math.MaxInt64)
	for _, v := range vs {
		poll = min(poll, v.poll)
		timeout = max(timeout, v.timeout)
	}
	return poll, timeout
}

// begin starts one look, bounded by the subscribers' timeout.
func (w *follower) begin() *sources.Look[watchKey, subValue] {
	_, timeout := w.settings()
	return w.w.Begin(timeout, false)
}

// sleep waits for d, for a kick or for the end. It reports whether the
// watch is still running.
func (w *follower) sleep(d time.Duration) bool { return w.w.Sleep(d) }

// jitter spreads a poll interval by ±10%.
func (w *follower) jitter(d time.Duration) time.Duration {
	return frac(d, 0.9, 1.1, w.d.rnd)
}

// next returns the wait before retrying after err.
func (w *follower) next(err *Error) time.Duration { return w.retry.Next(err.permanent()) }

// report hands each subscriber of look what result makes of an
// observation for its location.
func report(look *sources.Look[watchKey, subValue], result func(location) sources.Result) {
	look.ReportEach(func(v subValue) sources.Result { return result(v.loc) })
}

// run resolves the secret (detecting its mount) and follows it until the
// last subscriber leaves or the driver closes.
func (w *follower) run() {
	var r resolved
	if w.pre != nil {
		r = *w.pre
	}
	for w.pre == nil {
		look := w.begin()
		var err *Error
		r, err = w.d.resolve(look.Context(), w.spec)
		look.End()
		if w.w.Context().Err() != nil {
			return
		}
		if err == nil {
			break
		}
		look.Report(sources.Result{Err: err})
		if !w.sleep(w.next(err)) {
			return
		}
	}
	w.retry.Reset()
	st := w.d.state(r)
	if r.kind == kindKV2 { // KV v2 reads never carry a lease
		w.runPoll(r, st, false)
		return
	}
	w.runGeneric(r, st) // by the lease of each answer, else by polling
}

// runPoll polls a KV or unleased secret every poll interval (jittered),
// backing off after failures. Unless justLooked, it looks at once first.
func (w *follower) runPoll(r resolved, st *secretState, justLooked bool) {
	var failing *Error
	for first := true; ; first = false {
		var delay time.Duration
		switch {
		case first && !justLooked:
		case failing != nil:
			delay = w.next(failing)
		default:
			poll, _ := w.settings()
			at, overdue := st.nextRotation()
			delay = staticDelay(w.jitter(poll), at, overdue)
		}
		if !w.sleep(delay) {
			return
		}
		look := w.begin()
		asOf := time.Now()
		obs, err := w.look(look.Context(), r, st, asOf)
		look.End()
		if w.w.Context().Err() != nil {
			return
		}
		if err != nil {
			failing = err
			look.Report(sources.Result{Err: err})
			continue
		}
		failing = nil
		w.retry.Reset()
		report(look, obs.result)
	}
}

// look observes the secret once. For KV v2 it reads the metadata (one
// request) and reads the data only when the current version differs from
// the one last read; when the metadata is not readable it reads the data
// every time.
func (w *follower) look(ctx context.Context, r resolved, st *secretState, asOf time.Time) (*observation, *Error) {
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

// runGeneric follows a KV v1 secret or a secret of another engine: by its
// lease when the answer carries one, else by polling.
func (w *follower) runGeneric(r resolved, st *secretState) {
	var failing *Error
	for justLooked := false; ; {
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
		refused := l != nil && st.refused.Swap(false)
		if plain && l == nil {
			w.runPoll(r, st, justLooked)
			return
		}
		justLooked = false
		if refused {
			// A field refused these credentials (its pool cannot log in
			// with them): read new ones soon rather than at the rotation
			// point, while the published ones' lease still runs.
			w.d.logger.Debug("vault: the credentials were refused; reading new ones", "path", r.path, "lease", leaseRef(l.id))
			w.begin().End() // clears the kick of Rejected, so that the wait below is kept
			if !w.sleep(w.refusals.Next()) {
				return
			}
			st.mu.Lock()
			if st.lease == l { // never hand these out again, nor renew them
				l.noRenew, l.lead = true, time.Until(l.expiry)
				st.noteLease()
			}
			st.mu.Unlock()
			fresh = false
		}
		if !fresh {
			if failing != nil && !w.sleep(w.next(failing)) {
				return
			}
			look := w.begin()
			asOf := time.Now()
			obs, err := w.d.observe(look.Context(), r, st, asOf)
			look.End()
			if w.w.Context().Err() != nil {
				return
			}
			if err != nil {
				failing = err
				if l != nil && !time.Now().Before(expiry) {
					err = expired(err, l.id, expiry)
				}
				look.Report(sources.Result{Err: err})
				continue
			}
			failing = nil
			justLooked = true
			report(look, obs.result)
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
				if !w.sleep(w.retry.Transient.Next()) {
					return
				}
			default:
				w.retry.Reset()
				if !refused {
					w.refusals.Reset()
				}
				if l != nil {
					w.d.logger.Debug("vault: credentials rotated", "path", r.path, "old_lease", leaseRef(l.id),
						"old_expires_in", time.Until(expiry).String(), "planned_lead", expiry.Sub(rotA).String())
				}
			}
			continue
		}
		look := w.begin()
		look.End()
		report(look, l.obs.result) // the current credentials, for subscribers that joined
		if st.refused.Load() {
			// Rejected stores the flag, then kicks: a refusal whose kick
			// the begin above cleared is seen here, and a later one's
			// kick ends the sleep below.
			continue
		}
		if !w.sleep(time.Until(at)) {
			return
		}
		if time.Now().Before(at) { // kicked
			continue
		}
		if renew {
			if err := w.renew(r, st, l); err != nil {
				look := w.begin()
				look.End()
				look.Report(sources.Result{Err: err})
			}
		}
	}
}

// renew renews the lease l once and records the outcome. It returns an
// error to report when Vault no longer knows the lease (revoked or
// expired): the credentials are read anew at once.
func (w *follower) renew(r resolved, st *secretState, l *lease) *Error {
	_, timeout := w.settings()
	ctx, cancel := context.WithTimeout(w.w.Context(), timeout)
	sent := time.Now()
	ttl, data, err := w.d.renewLease(ctx, r.path, l)
	cancel()
	if w.w.Context().Err() != nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	defer st.noteLease()
	if st.lease != l { // a Read replaced the credentials meanwhile
		return nil
	}
	var report *Error
	if err == errRenewedNothing { // a sentinel of this package, never wrapped
		l.noRenew = true // the secret behind the lease is gone: read it again now
		l.lead = time.Until(l.expiry)
		w.d.logger.Debug("vault: a lease renewal came back empty; reading the secret again", "path", r.path, "lease", leaseRef(l.id))
		return nil
	}
	if err != nil {
		switch {
		case leaseGone(err):
			l.noRenew = true // Vault no longer knows the lease: new credentials now
			l.expiry = time.Now()
			e := *err
			e.Err = fmt.Errorf("%w: Vault no longer knows the lease (revoked?); reading new credentials: %w", ErrLeaseExpired, err.Err)
			report = &e
		case err.StatusCode == http.StatusForbidden, strings.Contains(err.Err.Error(), "lease is not renewable"):
			l.noRenew = true // rotate before it expires
		default:
			l.renewAt = time.Now().Add(w.next(err))
		}
		w.d.logger.Warn("vault: renewing a lease failed", "path", r.path, "lease", leaseRef(l.id),
			"expires_at", l.expiry, "error", err)
		return report
	}
	w.retry.Reset()
	l.renewed(sent, ttl, w.d.rnd)
	// A leased KV secret's renewal returns its current data: a change is
	// seen at each renewal, with no request of its own. (Only for KV: other
	// engines' renewals carry no credentials.)
	if r.kind == kindKV1 && data != nil && !bytes.Equal(data, l.obs.raw) {
		if obs, perr := newObservation(data, l.id); perr == nil && !bytes.Equal(obs.raw, l.obs.raw) {
			l.obs = obs
			st.obs, st.sent = obs, sent
			w.d.logger.Debug("vault: the data changed at a lease renewal", "path", r.path, "lease", leaseRef(l.id))
		}
	}
	w.d.logger.Debug("vault: lease renewed", "path", r.path, "lease", leaseRef(l.id), "ttl", ttl, "capped", l.capped)
	return nil
}

// leaseGone reports whether a renewal failed because Vault no longer knows
// the lease: 404, or 400 "lease not found" / "invalid lease" (revoked,
// expired, or forgotten by a restarted dev server). Other 400s are the
// engine failing to renew (the database engine answers 400 "failed to
// renew entry" while PostgreSQL is down): the lease still holds, and the
// renewal is retried until the rotation point.
func leaseGone(err *Error) bool {
	switch err.StatusCode {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		msg := err.Err.Error()
		return strings.Contains(msg, "lease not found") || strings.Contains(msg, "invalid lease")
	}
	return false
}

// expired adds to a failure to read new credentials that the current ones
// have run out.
func expired(err *Error, leaseID string, at time.Time) *Error {
	e := *err
	e.Err = fmt.Errorf("%w; %w (%s, at %s)", err.Err, ErrLeaseExpired, leaseName(leaseID), at.UTC().Format(time.RFC3339))
	return &e
}
