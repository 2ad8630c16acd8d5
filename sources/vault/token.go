package vault

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/livebind/livebind/sources"
)

// tokenState is what the driver knows of the client's token.
type tokenState struct {
	mu      sync.Mutex
	expiry  time.Time // when the token expires as last learned; zero: unknown or never
	checked time.Time // when a lookup-self last gave a verdict; zero: never
	valid   bool      // that verdict
}

func (t *tokenState) setExpiry(at time.Time) {
	t.mu.Lock()
	t.expiry = at
	t.mu.Unlock()
}

// checkedAt records a lookup-self's verdict on the token.
func (t *tokenState) checkedAt(at time.Time, valid bool) {
	t.mu.Lock()
	t.checked, t.valid = at, valid
	t.mu.Unlock()
}

// runToken keeps the client's token alive: it looks the token up, renews it
// (auth/token/renew-self) when about 2/3 of its TTL has passed, for as long
// as Vault extends it, and then waits for its expiry. A token that never
// expires ends the goroutine. A token that has expired, or that Vault
// refuses, is looked up again now and then (with the slow backoff, up to
// MaxBackoff apart), in case the program gave the client a new one. It
// runs from the first Watch until Close.
func (d *driver) runToken() {
	retry := sources.NewRetry(transientBase, permanentBase, d.maxBackoff)
	transient, denied := &retry.Transient, &retry.Permanent
	capped := "" // the accessor of a token whose renewals reached its max TTL
	for {
		info, err := d.lookupSelf()
		if err != nil {
			if d.ctx.Err() != nil {
				return
			}
			wait := transient.Next()
			if err.permanent() {
				if err.StatusCode == http.StatusForbidden {
					d.tok.checkedAt(time.Now(), false)
				}
				wait = denied.Next()
			}
			d.logger.Debug("vault: token lookup failed", "error", err)
			if !d.sleepUntil(time.Now().Add(wait)) {
				return
			}
			continue
		}
		transient.Reset()
		denied.Reset()
		d.tok.checkedAt(time.Now(), true)
		if !info.expires {
			d.tok.setExpiry(time.Time{})
			d.logger.Debug("vault: the token does not expire; nothing to renew")
			return
		}
		if info.accessor != "" && info.accessor == capped {
			info.renewable = false // renewing it again would not extend it
		}
		alive, wasCapped := d.followToken(info)
		if !alive {
			return
		}
		if wasCapped {
			capped = info.accessor
		}
		// The token has run out as far as the driver can tell (its TTL is
		// known to a second only) or Vault refused to renew it: look it
		// up again after a pause, in case the program gave the client a
		// new one.
		if !d.sleepUntil(time.Now().Add(denied.Next())) {
			return
		}
	}
}

// followToken renews the token while Vault extends it and then waits for
// its expiry. It reports whether the driver is still open and whether a
// renewal came back cut by the token's max TTL.
func (d *driver) followToken(info tokenInfo) (alive, capped bool) {
	expiry := info.sent.Add(info.ttl)
	d.tok.setExpiry(expiry)
	full := max(info.creationTTL, info.ttl) // a renewal shorter than this is capped by the max TTL
	renewable := info.renewable && d.renewToken
	next := info.sent.Add(frac(info.ttl, renewMin, renewMax, d.rnd))
	fails := sources.Backoff{Base: min(transientBase, d.maxBackoff), Max: d.maxBackoff}
	for renewable {
		if !d.sleepUntil(next) {
			return false, capped
		}
		sent := time.Now()
		ttl, err := d.renewSelf()
		if err != nil {
			if d.ctx.Err() != nil {
				return false, capped
			}
			d.logger.Warn("vault: renewing the token failed", "error", err, "expires_at", expiry)
			switch {
			case err.StatusCode == http.StatusForbidden:
				d.tok.checkedAt(time.Now(), false)
				return true, capped
			case errors.Is(err, sources.ErrHTTPStatus) && err.StatusCode == http.StatusBadRequest:
				renewable = false // not renewable after all
			default:
				next = time.Now().Add(fails.Next())
				if !next.Before(expiry) {
					renewable = false
				}
			}
			continue
		}
		fails.Reset()
		expiry = sent.Add(ttl)
		d.tok.setExpiry(expiry)
		next = sent.Add(frac(ttl, renewMin, renewMax, d.rnd))
		// A renewal shorter than the token's full TTL is capped by its max
		// TTL; one that grants nothing (0 s, from a hostile or faulty
		// server, or a token with no time left) cannot be followed by
		// another at once: renewing again would be a hot loop.
		if ttl < full || ttl <= 0 {
			renewable, capped = false, true
			d.logger.Debug("vault: token renewals are capped by its max TTL", "expires_at", expiry)
		} else {
			d.logger.Debug("vault: token renewed", "ttl", ttl)
		}
	}
	if !d.sleepUntil(expiry) {
		return false, capped
	}
	d.logger.Warn("vault: the client's token has expired; reads fail until the client has a new token",
		"expired_at", expiry)
	return true, capped
}

// sleepUntil waits until t or until the driver closes, and reports whether
// it is still open.
func (d *driver) sleepUntil(t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return d.ctx.Err() == nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-d.ctx.Done():
		return false
	}
}
