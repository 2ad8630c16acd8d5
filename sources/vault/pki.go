package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// PKI certificates (write=). A target with write= issues a certificate by
// writing its parameters to <mount>/issue/<role> of a PKI mount (PUT, as
// the CLI's `write`). A write is not idempotent: each one issues a new
// certificate (and, with generate_lease=true, a new lease), so it is sent
// once at Bind and then only when the certificate nears its end, 15-20% of
// its lifetime before (the rotation point of leases, see lease.go). PKI
// leases are not renewable: they are never renewed, only replaced.
//
// The whole answer's data is the value (certificate, issuing_ca,
// ca_chain, private_key, private_key_type, serial_number, expiration);
// like every vault value it is secret, and no error quotes it.

// issue writes the target's parameters to its issue path and returns the
// certificate with the lease Vault attached, if any.
func (d *driver) issue(ctx context.Context, r resolved) (*observation, envelope, *Error) {
	const op = "issue"
	req := d.client.NewRequest(http.MethodPut, "/v1/"+r.path)
	req.BodyBytes = []byte(r.body)
	// Logical().WriteRawWithContext cancels its context when it returns,
	// before the body is read (a read then fails with "context canceled"
	// now and then); ReadRawWithContext, which the reads use, sends through
	// RawRequestWithContext, which leaves the context to the caller.
	//lint:ignore SA1019 see above; the api's own ReadRawWithContext does the same
	resp, err := d.client.RawRequestWithContext(ctx, req) //nolint:staticcheck // SA1019, as above
	if resp != nil && resp.Body != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, envelope{}, d.fail(ctx, op, r.path, err)
	}
	status, body, aerr := d.answer(op, r.path, resp)
	if aerr != nil {
		return nil, envelope{}, aerr
	}
	obs, env, perr := parsePlainRead(body, status)
	if perr == nil && obs.missing {
		perr = fmt.Errorf("%w: no certificate in the answer", ErrMalformed)
	}
	if perr != nil {
		return nil, envelope{}, &Error{Op: op, Path: r.path, StatusCode: status, Err: perr}
	}
	d.warn(r.path, env.Warnings)
	return obs, env, nil
}

// certLease returns what follows an issued certificate: its lease, ended
// no later than the certificate's expiration, or, for a role without
// generate_lease, a lease-like timer from the certificate's "expiration"
// (Unix seconds). Without a lease its version is the serial number. A
// certificate with neither, or already expired, is an error: the driver
// would otherwise have to guess when to write again.
func certLease(env envelope, obs *observation, sent time.Time, rnd func() float64) (*lease, error) {
	exp, hasExp := unixField(obs, "expiration")
	var l *lease
	switch {
	case env.LeaseID != "":
		l = newLease(env.LeaseID, obs, leaseSeconds(env.LeaseDuration), env.Renewable, sent, rnd)
		if hasExp && exp.Before(l.expiry) {
			l.expiry = exp
		}
	case hasExp:
		versioned := *obs
		versioned.version = textField(obs, "serial_number")
		l = newLease("", &versioned, exp.Sub(sent), false, sent, rnd)
	default:
		return nil, fmt.Errorf("%w: the answer has neither a lease nor a data.expiration", ErrMalformed)
	}
	if !l.expiry.After(sent) {
		return nil, fmt.Errorf("%w: the certificate expired at %s, before it was issued", ErrMalformed, exp.UTC().Format(time.RFC3339))
	}
	return l, nil
}

// unixField reads a top-level field holding Unix seconds.
func unixField(obs *observation, name string) (time.Time, bool) {
	raw, ok := obs.fields[name]
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// textField reads a top-level string field, for fields that are not
// secret (serial_number); "" when absent or not a string.
func textField(obs *observation, name string) string {
	var s string
	if raw, ok := obs.fields[name]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// leaseName names a lease in an error: by its fingerprint (see leaseRef),
// or the certificate's expiration timer when it has none.
func leaseName(id string) string {
	if id == "" {
		return "the certificate's expiration"
	}
	return "lease " + leaseRef(id)
}

// leaseRef names a lease in an error or a log line without its id: "#"
// and the first 8 hex digits of the id's SHA-256. A lease id is kept from
// texts like the token (whoever holds it and a token with sys/leases
// rights can renew or revoke the credentials, and a faulty server could
// send megabytes of it); the fingerprint still tells leases apart and
// matches one log line to another.
func leaseRef(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	return "#" + hex.EncodeToString(sum[:4])
}
