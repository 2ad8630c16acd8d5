package vault

import (
	"time"
)

// Timing of lease renewal and rotation, as fractions of a lease.
//
// A renewable lease is renewed when 60-70% of its remaining TTL has passed
// (about 2/3, jittered so that many clients do not renew together), the
// timing of api.LifetimeWatcher. New credentials are read 15-20% of the
// lease's length before it expires ("rotation"): when renewals stop
// extending the lease (its max TTL is near), when it is not renewable, or
// when renewing fails. LifetimeWatcher hands over at a grace of 10-20%,
// which leaves less than the 10% lead this driver promises once the read
// of new credentials takes any time; 15-20% leaves room for a failed
// first attempt and a retry.
//
// Once renewals can no longer extend a lease (not renewable, capped by its
// max TTL, or refused), the lead is at least leadFloor, at most half the
// lease: what follows the rotation point (Vault creating a database user,
// the application connecting and checking a pool in its update= method,
// the generation being published) takes about the same time whatever the
// lease's length, so 15% of a short lease leaves too little of it on a
// loaded machine. A CI run on 2 busy cores had 4 queries fail when the old
// user of a 5 s lease (lead 0.75-1 s) was dropped just before the new pool
// was published. While renewals still extend a lease the floor does not
// apply, so that a short renewable lease is still renewed at 60-70%.
const (
	renewMin, renewMax = 0.60, 0.70
	leadMin, leadMax   = 0.15, 0.20
	leadFloor          = 2 * time.Second
)

// maxLeaseSeconds caps a lease_duration or TTL from Vault, in seconds: a
// larger value (from a hostile or faulty server) would overflow
// time.Duration (about 292 years) into a negative lease that has already
// expired, and every look would then read new credentials. Ten years is
// far beyond any max TTL Vault allows by default (32 days).
const maxLeaseSeconds = 10 * 365 * 24 * 3600

// leaseSeconds turns whole seconds from Vault into a duration, clamped to
// [0, maxLeaseSeconds].
func leaseSeconds(n int64) time.Duration {
	return time.Duration(min(max(n, 0), maxLeaseSeconds)) * time.Second
}

// frac returns a duration drawn uniformly from [lo·d, hi·d).
func frac(d time.Duration, lo, hi float64, rnd func() float64) time.Duration {
	return time.Duration(float64(d) * (lo + (hi-lo)*rnd()))
}

// lease is the lease of one set of dynamic credentials.
type lease struct {
	id        string
	obs       *observation  // the credentials; version = id
	ttl       time.Duration // lease_duration when read: the lease's length
	renewable bool
	expiry    time.Time     // when the lease ends unless renewed, on our clock
	lead      time.Duration // rotate this long before expiry
	renewAt   time.Time
	capped    bool // a renewal came back shorter than ttl: the max TTL is near
	noRenew   bool // renewing was refused or denied: only rotation is left
}

// newLease starts a lease read by a request sent at sent. Vault counts the
// TTL from when it answered, so expiry is never later than Vault's.
func newLease(id string, obs *observation, ttl time.Duration, renewable bool, sent time.Time, rnd func() float64) *lease {
	return &lease{
		id: id, obs: obs, ttl: ttl, renewable: renewable,
		expiry:  sent.Add(ttl),
		lead:    frac(ttl, leadMin, leadMax, rnd),
		renewAt: sent.Add(frac(ttl, renewMin, renewMax, rnd)),
	}
}

// rotateAt is when new credentials are read.
func (l *lease) rotateAt() time.Time {
	lead := l.lead
	if !l.renewable || l.capped || l.noRenew {
		lead = max(lead, min(leadFloor, l.ttl/2))
	}
	return l.expiry.Add(-lead)
}

// fresh reports whether the credentials may still be handed out at now
// rather than read anew.
func (l *lease) fresh(now time.Time) bool { return now.Before(l.rotateAt()) }

// plan returns when to act next and whether that act is a renewal (else it
// is a rotation).
func (l *lease) plan() (at time.Time, renew bool) {
	rotate := l.rotateAt()
	if l.renewable && !l.capped && !l.noRenew && l.renewAt.Before(rotate) {
		return l.renewAt, true
	}
	return rotate, false
}

// renewed records a renewal sent at sent that Vault answered with a TTL of
// d. A TTL shorter than the lease's length means the max TTL cut it: no
// renewal will extend the lease further.
func (l *lease) renewed(sent time.Time, d time.Duration, rnd func() float64) {
	l.expiry = sent.Add(d)
	l.capped = d < l.ttl
	l.renewAt = sent.Add(frac(d, renewMin, renewMax, rnd))
}
