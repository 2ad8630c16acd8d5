package consul

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/livebind/livebind/internal/backoff"
	"github.com/livebind/livebind/sources"
)

// query is one blocking query loop, shared by every Watch of its key.
type query struct {
	d       *driver
	key     queryKey
	limiter *rate.Limiter // safe for concurrent use; its limit follows the subscribers

	ctx    context.Context // canceled when the last subscriber leaves, or by Close
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	wake   chan struct{} // buffered(1): a subscriber joined, see kick

	mu        sync.Mutex
	subs      map[*sub]struct{}
	reqs      uint64             // requests started so far; numbers them
	kick      bool               // the next request goes out at once, non-blocking
	cancelReq context.CancelFunc // cancels the request in flight, or nil
}

// sub is one Watch of a query.
type sub struct {
	rateLimit time.Duration // 0 = no limit
	firstReq  uint64        // answers to earlier requests predate this Watch: not for it

	emitMu  sync.Mutex // held while emit runs; stop takes it to wait for emit
	stopped bool
	last    sources.Result
	emit    func(sources.Result)
}

func newQuery(d *driver, k queryKey) *query {
	q := &query{
		d:       d,
		key:     k,
		limiter: rate.NewLimiter(rate.Inf, RateBurst),
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		subs:    make(map[*sub]struct{}),
	}
	q.ctx, q.cancel = context.WithCancel(d.ctx)
	return q
}

// add subscribes sb. A subscriber joining a running query kicks it: the
// request in flight (which began before this Watch's Read may have seen a
// newer value) is canceled and a non-blocking one goes out at once, so that
// sb compares its Read with a current answer.
func (q *query) add(sb *sub, kick bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	sb.firstReq = q.reqs + 1
	q.subs[sb] = struct{}{}
	q.setLimit()
	if !kick {
		return
	}
	q.kick = true
	if q.cancelReq != nil {
		q.cancelReq()
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// remove unsubscribes sb and reports whether no subscriber is left.
func (q *query) remove(sb *sub) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.subs, sb)
	q.setLimit()
	return len(q.subs) == 0
}

// setLimit applies the smallest rate limit gap among the subscribers: the
// most eager one decides. q.mu must be held.
func (q *query) setLimit() {
	gap := time.Duration(math.MaxInt64)
	for sb := range q.subs {
		gap = min(gap, sb.rateLimit)
	}
	switch {
	case len(q.subs) == 0:
	case gap <= 0:
		q.limiter.SetLimit(rate.Inf)
	default:
		q.limiter.SetLimit(rate.Every(gap))
	}
}

// run is the blocking query loop. It follows Consul's documented rules: the
// index goes back to 0 (a non-blocking re-read) when an answer's index is
// lower than the last one, after any failure, and after an early answer
// with an unchanged index (an abandoned query); it is at least 1 after any
// other answer; every request takes a token from a bucket of RateBurst
// tokens (no fixed sleep); failures back off exponentially with jitter, a
// cap and no give-up time.
func (q *query) run() {
	defer close(q.done)
	var (
		index     uint64 // 0: the next request is non-blocking
		failure   *Error
		transient = backoff.Backoff{Base: min(transientBase, q.d.maxBackoff), Max: q.d.maxBackoff}
		permanent = backoff.Backoff{Base: min(permanentBase, q.d.maxBackoff), Max: q.d.maxBackoff}
		timer     = time.NewTimer(time.Hour)
	)
	timer.Stop()
	defer timer.Stop()
	for {
		var delay time.Duration
		switch {
		case failure == nil:
		case failure.permanent():
			delay = permanent.Next()
		default:
			delay = transient.Next()
		}
		res := q.limiter.Reserve() // burst 2: never waits in the happy path
		if !q.sleep(timer, max(delay, res.Delay())) {
			res.Cancel() // a kick (or the end) came first: give the token back
		}
		if q.ctx.Err() != nil {
			return
		}

		q.mu.Lock()
		q.reqs++
		seq, kicked := q.reqs, q.kick
		q.kick = false
		idx := index
		if kicked {
			idx = 0
		}
		timeout := nonBlockingTimeout
		if idx > 0 {
			timeout = q.key.wait + q.key.wait/16 + timeoutMargin
		}
		ctx, cancel := context.WithTimeout(q.ctx, timeout)
		q.cancelReq = cancel
		q.mu.Unlock()

		sent := time.Now()
		r, newIndex, err := q.d.fetch(ctx, q.key, idx)

		q.mu.Lock()
		q.cancelReq = nil
		rekicked := q.kick
		q.mu.Unlock()
		cancel()
		if q.ctx.Err() != nil {
			return
		}
		if err != nil {
			if rekicked && errors.Is(ctx.Err(), context.Canceled) {
				failure = nil // interrupted by a kick, not a failure: go again at once
				continue
			}
			failure = err
			index = 0 // once the agent answers again, re-read: its index may have gone back
			q.deliver(sources.Result{Err: err}, seq)
			continue
		}
		failure = nil
		transient.Reset()
		permanent.Reset()
		switch {
		case newIndex < idx:
			q.d.logger.Debug("consul: index went backwards; restarting the blocking query",
				"query", q.key.what(), "was", idx, "now", newIndex)
			index = 0
		case idx > 0 && newIndex == idx && time.Since(sent) < q.key.wait:
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
		q.deliver(r, seq)
	}
}

// sleep waits for d, for a kick or for the end. It reports whether the full
// wait elapsed.
func (q *query) sleep(timer *time.Timer, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	deadline := time.Now().Add(d)
	for {
		q.mu.Lock()
		kicked := q.kick
		q.mu.Unlock()
		if kicked {
			return false
		}
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		timer.Reset(left)
		select {
		case <-timer.C:
			return true
		case <-q.wake: // maybe stale: the loop checks kick again
			timer.Stop()
		case <-q.ctx.Done():
			timer.Stop()
			return false
		}
	}
}

// deliver hands r, the answer to request seq, to every subscriber that
// joined before that request began.
func (q *query) deliver(r sources.Result, seq uint64) {
	q.mu.Lock()
	subs := make([]*sub, 0, len(q.subs))
	for sb := range q.subs {
		if sb.firstReq <= seq {
			subs = append(subs, sb)
		}
	}
	q.mu.Unlock()
	for _, sb := range subs {
		sb.deliver(r)
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
