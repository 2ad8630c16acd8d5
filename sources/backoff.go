package sources

import (
	"math/rand/v2"
	"time"
)

// Defaults for the zero values of [Backoff]'s fields.
const (
	// DefaultBackoffBase is the first wait's upper bound when Base is zero.
	DefaultBackoffBase = time.Second
	// DefaultBackoffMax caps the waits when Max is zero.
	DefaultBackoffMax = 5 * time.Minute
)

// Backoff yields the waits between the retries of a long-running watch:
// capped exponential backoff with "equal jitter" and no give-up time.
//
// The n-th wait after a success (n = 0, 1, 2 ...) is drawn uniformly from
// [d/2, d), where d = min(Max, Base·2ⁿ). Half of each wait is fixed, so a
// retry never comes sooner than Base/2, and half is random, so that clients
// that failed together do not retry together. The sequence never ends: a
// watch keeps retrying at the cap until [Backoff.Reset], which it calls
// after any successful contact.
//
// The zero value is ready to use with [DefaultBackoffBase] and
// [DefaultBackoffMax]. A Backoff is not safe for concurrent use: each watch
// owns one.
type Backoff struct {
	// Base bounds the first wait: it is drawn from [Base/2, Base).
	Base time.Duration
	// Max caps every wait's upper bound. It is raised to Base if smaller.
	Max time.Duration
	// Rand, when set, supplies the jitter (tests seed it). Otherwise the
	// math/rand/v2 global source is used.
	Rand *rand.Rand

	cur time.Duration // upper bound of the next wait; 0 after Reset
}

// Next returns the wait before the next retry and doubles the following
// one's bound, up to Max.
func (b *Backoff) Next() time.Duration {
	base, ceil := b.bounds()
	if b.cur == 0 {
		b.cur = base
	}
	d := b.cur
	if b.cur < ceil {
		b.cur = min(ceil, 2*b.cur) // b.cur <= ceil, so 2*b.cur cannot overflow for sane caps
		if b.cur <= 0 {            // overflow on an absurd cap
			b.cur = ceil
		}
	}
	half := d / 2
	return half + b.jitter(d-half)
}

// Reset starts the sequence again from Base, after a success.
func (b *Backoff) Reset() { b.cur = 0 }

func (b *Backoff) bounds() (base, ceil time.Duration) {
	base, ceil = b.Base, b.Max
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if ceil <= 0 {
		ceil = DefaultBackoffMax
	}
	return base, max(base, ceil)
}

// jitter returns a uniform duration in [0, n), or 0 when n <= 0.
func (b *Backoff) jitter(n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	if b.Rand != nil {
		return time.Duration(b.Rand.Int64N(int64(n)))
	}
	return time.Duration(rand.Int64N(int64(n)))
}

// Retry holds the two backoffs of a watch that tells failures that may
// clear up soon (no answer, 5xx, 429) from failures that will not clear up
// until someone acts (403, other 4xx, a malformed answer), which must not
// be retried hot.
type Retry struct {
	Transient, Permanent Backoff
}

// NewRetry returns a Retry whose transient waits start at transient, its
// permanent waits at permanent, and both are capped at maxWait.
func NewRetry(transient, permanent, maxWait time.Duration) Retry {
	return Retry{
		Transient: Backoff{Base: min(transient, maxWait), Max: maxWait},
		Permanent: Backoff{Base: min(permanent, maxWait), Max: maxWait},
	}
}

// Next returns the wait before retrying after a failure.
func (r *Retry) Next(permanent bool) time.Duration {
	if permanent {
		return r.Permanent.Next()
	}
	return r.Transient.Next()
}

// Reset starts both sequences again, after any successful contact.
func (r *Retry) Reset() {
	r.Transient.Reset()
	r.Permanent.Reset()
}
