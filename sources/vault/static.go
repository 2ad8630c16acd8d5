package vault

import (
	"encoding/json"
	"strconv"
	"time"
)

// Static database roles (database/static-creds/<role>) answer without a
// lease: their data holds the password, "last_vault_rotation", and "ttl",
// the seconds until Vault rotates the password next. The driver reads them
// again when that ttl runs out instead of at the next poll, so a rotated
// password arrives within about a second of the rotation. Vault's rotation
// queue ticks every 5 s, so at ttl 0 the password may not have changed yet:
// the driver then looks again every staticRetry until it has.
const (
	staticMargin = 250 * time.Millisecond // read this long after the announced rotation
	staticRetry  = 500 * time.Millisecond // the shortest wait between two reads
	maxStaticTTL = 10 * 365 * 24 * 3600   // seconds; a larger ttl is not believed (and would overflow)
)

// staticRotation recognizes the answer of a static role: data with a
// numeric "ttl" and a "last_vault_rotation". It returns the observation
// without "ttl" (which changes every second and would make every read look
// like a change), versioned by last_vault_rotation, and when the next
// rotation is due on our clock (the request was sent at sent).
func staticRotation(obs *observation, sent time.Time) (*observation, time.Time, bool) {
	if obs == nil || obs.missing || obs.fields == nil {
		return obs, time.Time{}, false
	}
	rawTTL, hasTTL := obs.fields["ttl"]
	rawRot, hasRot := obs.fields["last_vault_rotation"]
	if !hasTTL || !hasRot {
		return obs, time.Time{}, false
	}
	ttl, err := strconv.ParseInt(string(rawTTL), 10, 64)
	var rotated string
	if err != nil || ttl < 0 || ttl > maxStaticTTL || json.Unmarshal(rawRot, &rotated) != nil {
		return obs, time.Time{}, false
	}
	fields := make(map[string]json.RawMessage, len(obs.fields)-1)
	for k, v := range obs.fields {
		if k != "ttl" {
			fields[k] = v
		}
	}
	raw, err := json.Marshal(fields) // sorted keys: the same data gives the same bytes
	if err != nil {
		return obs, time.Time{}, false
	}
	return &observation{fields: fields, raw: raw, version: rotated}, sent.Add(time.Duration(ttl) * time.Second), true
}

// staticDelay shortens a poll delay d so that the secret is read again
// just after its static rotation at (zero: not a static role). While the
// rotation is overdue (Vault answers ttl 0 with the old password; since
// overdue, zero if not), the re-reads every staticRetry slow down: each
// waits a quarter of the time overdue so far, up to d. Vault's queue
// rotates within one 5 s tick, so a due rotation is still seen within
// about a second; one that keeps failing (its database is down: Vault
// answers ttl 0 for the whole outage) no longer costs two reads a second.
func staticDelay(d time.Duration, at, overdue time.Time) time.Duration {
	if at.IsZero() {
		return d
	}
	u := time.Until(at) + staticMargin
	if u >= d {
		return d
	}
	wait := staticRetry
	if !overdue.IsZero() {
		wait = max(wait, time.Since(overdue)/4)
	}
	return max(u, staticRetry, min(wait, d))
}
