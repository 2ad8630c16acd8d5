package consul

import (
	"context"
	"math"
	"time"

	"golang.org/x/time/rate"

	"github.com/livebind/livebind/sources"
)

// query is the watch of one blocking query, shared by every Watch of its
// key; each subscriber's value is its rate limit gap (0 = no limit).
type query = sources.Watch[queryKey, time.Duration]

// run is the blocking query loop. It follows Consul's documented rules: the
// index goes back to 0 (a non-blocking re-read) when an answer's index is
// lower than the last one, after any failure, after a subscriber joins,
// after any wait for a token or a retry (the agent may have restarted
// unseen meanwhile), and after an early answer with an unchanged index (an
// abandoned query);
// it is at least 1 after any other answer; every request takes a token
// from a bucket of RateBurst tokens (no fixed sleep); failures back off
// exponentially with jitter, a cap and no give-up time. A subscriber that
// joins interrupts a blocking request in flight: its Read may be newer.
func (d *driver) run(q *query) {
	k := q.Key()
	limiter := rate.NewLimiter(rate.Inf, RateBurst)
	retry := sources.Retry{
		Transient: sources.Backoff{Base: min(transientBase, d.maxBackoff), Max: min(TransientMaxBackoff, d.maxBackoff)},
		Permanent: sources.Backoff{Base: min(permanentBase, d.maxBackoff), Max: d.maxBackoff},
	}
	var (
		index   uint64 // 0: the next request is non-blocking
		failure *Error
	)
	for {
		var delay time.Duration
		if failure != nil {
			delay = retry.Next(failure.permanent())
		}
		setLimit(limiter, q.Values())
		res := limiter.Reserve() // a burst of RateBurst: never waits in the happy path
		wait := max(delay, res.Delay())
		if !q.Sleep(wait) {
			res.Cancel()
			return
		}
		if wait > 0 && q.Kicked() {
			res.Cancel() // a subscriber joined first: give the token back
		}

		look := q.Begin(0, true)
		idx := index
		if look.Joined() || wait > 0 {
			// A subscriber's Read may be newer. And after any pause the
			// agent may have restarted unseen (no request was in flight to
			// fail): its index starts lower, and blocking on our old,
			// higher index would sleep through every change until wait=
			// ends. So a request that waited reads without blocking; under
			// churn that is the coalescing poll the rate limit promises.
			idx = 0
		}
		timeout := nonBlockingTimeout
		if idx > 0 {
			timeout = k.wait + k.wait/16 + timeoutMargin
		}
		ctx, cancel := context.WithTimeout(look.Context(), timeout)
		sent := time.Now()
		r, newIndex, err := d.fetch(ctx, k, idx)
		cancel()
		look.End()
		if q.Context().Err() != nil {
			return
		}
		if err != nil {
			if look.Interrupted() {
				failure = nil // a subscriber joined, not a failure: go again at once
				continue
			}
			failure = err
			index = 0 // once the agent answers again, re-read: its index may have gone back
			look.Report(sources.Result{Err: err})
			continue
		}
		failure = nil
		retry.Reset()
		switch {
		case newIndex < idx:
			d.logger.Debug("consul: index went backwards; restarting the blocking query",
				"query", k.what(), "was", idx, "now", newIndex)
			index = 0
		case idx > 0 && newIndex == idx && time.Since(sent) < k.wait:
			// Woken early with nothing new: Consul abandons blocking queries
			// when a snapshot is restored, answering from the old state. The
			// restored index may be lower, and blocking on this one would
			// then wait out the whole wait: re-read without blocking.
			index = 0
			continue
		case idx > 0 && newIndex == idx:
			continue // the wait elapsed and nothing changed: no need to compare
		default:
			index = max(newIndex, 1)
		}
		look.Report(r)
	}
}

// setLimit applies the smallest rate limit gap among the subscribers: the
// most eager one decides.
func setLimit(l *rate.Limiter, gaps []time.Duration) {
	if len(gaps) == 0 {
		return
	}
	gap := time.Duration(math.MaxInt64)
	for _, g := range gaps {
		gap = min(gap, g)
	}
	if gap <= 0 {
		l.SetLimit(rate.Inf)
	} else {
		l.SetLimit(rate.Every(gap))
	}
}
