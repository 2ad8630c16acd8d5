// Package throttle delays and coalesces the values a source emits before
// livebind applies them: a debounce with an optional cap, and a token bucket.
// livebind puts one [Gate] per target between the driver's emit and the
// applier, for sources that do not debounce natively and for the throttle=
// and burst= options of any source.
package throttle

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config says how a [Gate] delays values. The zero Config passes every value
// through at once.
type Config struct {
	// Debounce is how long to wait after the last Push before passing the
	// latest value on (0 = no debounce).
	Debounce time.Duration
	// MaxWait caps how long a steady stream of pushes can postpone a value:
	// it passes at the latest MaxWait after the first Push of a burst
	// (0 = no cap). Without Debounce it has no effect.
	MaxWait time.Duration
	// Every is the token bucket's refill period: one value may pass per
	// Every on average (0 = unthrottled).
	Every time.Duration
	// Burst is the bucket size: how many values may pass back to back
	// (default 1 when Every > 0).
	Burst int
}

// Gate delays and coalesces values of type V before passing them to out.
//
// The latest pushed value wins: a value still waiting when a new one is
// pushed is replaced. Values are never lost in the sense that the last value
// pushed is always delivered eventually, unless the gate is stopped. out is
// never called concurrently with itself, and values reach it in push order.
// out must not call Stop.
type Gate[V any] struct {
	out      func(V)
	debounce time.Duration
	maxWait  time.Duration
	lim      *rate.Limiter // nil when unthrottled
	quit     chan struct{} // closed by Stop; wakes a sleeping goroutine

	mu      sync.Mutex
	val     V
	pending bool      // val has not been delivered yet
	first   time.Time // first Push of the current burst (only with debounce)
	last    time.Time // latest Push (only with debounce)
	busy    bool      // a Push or the gate's goroutine is delivering; it owns one count of wg
	stopped bool
	wg      sync.WaitGroup
}

// New returns a gate that passes values to out according to cfg. Negative
// durations count as zero.
func New[V any](cfg Config, out func(V)) *Gate[V] {
	g := &Gate[V]{out: out, quit: make(chan struct{})}
	if cfg.Debounce > 0 {
		g.debounce = cfg.Debounce
		g.maxWait = max(cfg.MaxWait, 0)
	}
	if cfg.Every > 0 {
		g.lim = rate.NewLimiter(rate.Every(cfg.Every), max(cfg.Burst, 1))
	}
	return g
}

// Push offers v to the gate. It never waits for a timer. When v may pass at
// once (no debounce and a token available) and no other delivery is running,
// Push calls out itself before returning; with the zero Config this is always
// so unless another Push is delivering concurrently, in which case that Push
// delivers v too. Otherwise v waits, replacing any value still waiting, and
// the gate's goroutine delivers it. Push after Stop does nothing.
func (g *Gate[V]) Push(v V) {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return
	}
	g.val = v
	if g.debounce > 0 {
		now := time.Now()
		if !g.pending {
			g.first = now
		}
		g.last = now
	}
	g.pending = true
	if g.busy {
		g.mu.Unlock()
		return
	}
	g.busy = true
	g.wg.Add(1)

	// Deliver synchronously while values may pass at once.
	for g.pending && !g.stopped && g.debounce == 0 && (g.lim == nil || g.lim.Allow()) {
		v := g.takeLocked()
		g.mu.Unlock()
		g.out(v)
		g.mu.Lock()
	}
	if g.pending && !g.stopped {
		// Hand the pending value, busy and the wg count to a goroutine.
		g.mu.Unlock()
		go g.run()
		return
	}
	g.busy = false
	g.mu.Unlock()
	g.wg.Done()
}

// Stop discards any waiting value and waits until no out call is running.
// out is not called after Stop returns. Stop is safe to call more than once.
func (g *Gate[V]) Stop() {
	g.mu.Lock()
	if !g.stopped {
		g.stopped = true
		g.pending = false
		var zero V
		g.val = zero
		close(g.quit)
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// takeLocked returns the waiting value and clears it. g.mu must be held.
func (g *Gate[V]) takeLocked() V {
	v := g.val
	var zero V
	g.val = zero
	g.pending = false
	return v
}

// run delivers waiting values once their debounce has elapsed and a token is
// available, and returns when nothing waits. It owns g.busy and one count of
// g.wg.
func (g *Gate[V]) run() {
	defer g.wg.Done()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var tokenAt time.Time // when the reserved token may be used
	reserved := false

	g.mu.Lock()
	for {
		if g.stopped || !g.pending {
			g.busy = false
			g.mu.Unlock()
			return
		}
		now := time.Now()
		var wait time.Duration
		if g.debounce > 0 {
			due := g.last.Add(g.debounce)
			if g.maxWait > 0 {
				if c := g.first.Add(g.maxWait); c.Before(due) {
					due = c
				}
			}
			wait = due.Sub(now)
		}
		if wait <= 0 && g.lim != nil {
			if !reserved {
				// Burst >= 1, so a reservation of one token is always OK.
				tokenAt = now.Add(g.lim.ReserveN(now, 1).DelayFrom(now))
				reserved = true
			}
			wait = tokenAt.Sub(now)
		}
		if wait > 0 {
			// Pushes only move the debounce deadline later, so sleeping
			// until the current one and then re-checking is enough.
			g.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-g.quit:
				return
			}
			g.mu.Lock()
			continue
		}
		v := g.takeLocked()
		reserved = false
		g.mu.Unlock()
		g.out(v)
		g.mu.Lock()
	}
}
