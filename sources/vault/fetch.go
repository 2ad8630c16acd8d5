package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/livebind/livebind/sources"
)

// get sends GET /v1/<path> and returns the status and body of a 2xx or 404
// answer; any other answer or failure is an *Error.
func (d *driver) get(ctx context.Context, op, path string) (int, []byte, *Error) {
	resp, err := d.client.Logical().ReadRawWithContext(ctx, path)
	if resp != nil && resp.Body != nil {
		defer resp.Body.Close()
	}
	notFound := resp != nil && resp.StatusCode == http.StatusNotFound
	if err != nil && !notFound {
		return 0, nil, d.fail(ctx, op, path, err)
	}
	return d.answer(op, path, resp)
}

// answer reads the body of an answer, at most maxBody bytes.
func (d *driver) answer(op, path string, resp *api.Response) (int, []byte, *Error) {
	if resp == nil || resp.Body == nil {
		return 0, nil, &Error{Op: op, Path: path, Err: fmt.Errorf("%w: no answer", ErrMalformed)}
	}
	tooLarge := func() *Error {
		return &Error{
			Op: op, Path: path, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("%w: the answer is larger than %d bytes", sources.ErrTooLarge, maxBody),
		}
	}
	if resp.ContentLength > maxBody { // announced: do not read it at all
		return 0, nil, tooLarge()
	}
	body, rerr := sources.ReadAtMost(resp.Body, maxBody)
	switch {
	case errors.Is(rerr, sources.ErrTooLarge):
		return 0, nil, tooLarge()
	case rerr != nil:
		return 0, nil, classify(op, path, rerr, d.client.Token())
	}
	return resp.StatusCode, body, nil
}

// fail turns an error of the api client into an *Error, telling an invalid
// token from a policy that denies the path. ctx is the failed request's:
// it bounds the lookup that tells them apart.
func (d *driver) fail(ctx context.Context, op, path string, err error) *Error {
	e := classify(op, path, err, d.client.Token())
	if e.StatusCode == http.StatusForbidden {
		e.Err = d.explain403(ctx, e.Err)
	}
	return e
}

// explain403 finds out whether a 403 came from an invalid token: Vault
// answers 403 "permission denied" both to a token its policies do not
// allow and to an expired or revoked token. A lookup-self tells them
// apart (every valid token may look itself up). A verdict that the token
// is invalid is reused for tokenCheckGap, so that a burst of 403s from a
// dead token costs one lookup; a token found valid is checked again at the
// next 403, so that a revocation is named as soon as it happens. The
// lookup ends with ctx (the failed request's: a Read's own context and
// timeout=, or a watch's look, which Close cancels), at most lookupTimeout
// later; a lookup that cannot finish in time leaves the 403 unexplained.
func (d *driver) explain403(ctx context.Context, cause error) error {
	d.tok.mu.Lock()
	expiry, valid, checked := d.tok.expiry, d.tok.valid, d.tok.checked
	d.tok.mu.Unlock()
	now := time.Now()
	if valid || checked.IsZero() || now.Sub(checked) >= tokenCheckGap {
		ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		_, err := d.client.Auth().Token().LookupSelfWithContext(ctx)
		cancel()
		var re *api.ResponseError
		switch {
		case err == nil:
			valid = true
		case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
			valid = false
		default:
			return cause // cannot tell
		}
		d.tok.checkedAt(now, valid)
	}
	switch {
	case valid:
		return cause
	case !expiry.IsZero() && !now.Before(expiry):
		return fmt.Errorf("%w: its TTL ran out at about %s (403 %w); give the client a new token",
			ErrTokenInvalid, expiry.UTC().Format(time.RFC3339), sources.ErrAuth)
	default:
		return fmt.Errorf("%w (403 %w); give the client a new token", ErrTokenInvalid, sources.ErrAuth)
	}
}

// readKV2 reads the latest version of a KV v2 secret (path is
// <mount>data/<name>). A deleted or destroyed latest version is missing.
func (d *driver) readKV2(ctx context.Context, path string) (*observation, *Error) {
	status, body, err := d.get(ctx, "read", path)
	if err != nil {
		return nil, err
	}
	obs, warnings, perr := parseKV2Read(body, status)
	if perr != nil {
		return nil, &Error{Op: "read", Path: path, StatusCode: status, Err: perr}
	}
	if status == http.StatusNotFound && obs.version == "" && len(warnings) > 0 {
		return nil, notFoundWarning(path, warnings, d.client.Token())
	}
	d.warn(path, warnings)
	return obs, nil
}

// readMetadata reads <mount>metadata/<name> and returns the secret's
// current version and whether that version is gone (deleted by now or
// destroyed); exists is false for a secret without metadata.
func (d *driver) readMetadata(ctx context.Context, r resolved) (current int64, gone, exists bool, err *Error) {
	status, body, err := d.get(ctx, "read metadata", r.meta)
	if err != nil {
		return 0, false, false, err
	}
	if status == http.StatusNotFound {
		return 0, false, false, nil
	}
	current, gone, perr := parseMetadata(body, time.Now())
	if perr != nil {
		return 0, false, false, &Error{Op: "read metadata", Path: r.meta, StatusCode: status, Err: perr}
	}
	return current, gone, true, nil
}

// readPlain reads a KV v1 secret or a secret of another engine and returns
// it with the lease Vault attached, if any.
func (d *driver) readPlain(ctx context.Context, path string) (*observation, envelope, *Error) {
	status, body, err := d.get(ctx, "read", path)
	if err != nil {
		return nil, envelope{}, err
	}
	obs, env, perr := parsePlainRead(body, status)
	if perr != nil {
		return nil, envelope{}, &Error{Op: "read", Path: path, StatusCode: status, Err: perr}
	}
	if status == http.StatusNotFound && len(env.Warnings) > 0 {
		return nil, envelope{}, notFoundWarning(path, env.Warnings, d.client.Token())
	}
	d.warn(path, env.Warnings)
	return obs, env, nil
}

// notFoundWarning is a 404 that Vault explained: a path the engine does
// not serve, such as a KV v1 read of a KV v2 mount. The warnings are
// scrubbed of the token and cut, as Vault's error messages are.
func notFoundWarning(path string, warnings []string, token string) *Error {
	return &Error{
		Op: "read", Path: path, StatusCode: http.StatusNotFound,
		Err: fmt.Errorf("%w 404: %s", sources.ErrHTTPStatus, warningText(warnings, token)),
	}
}

// warningText joins the warnings of an answer for an error or a log line:
// the token scrubbed, cut to sources.MaxServerText bytes. Vault's warnings
// hold no secret data, but a faulty server or proxy could echo anything,
// and megabytes of it in every poll's log line.
func warningText(warnings []string, token string) string {
	return sources.ServerText(strings.Join(warnings, "; "), token)
}

// warn logs the warnings of an answer, scrubbed and cut (see warningText).
func (d *driver) warn(path string, warnings []string) {
	if len(warnings) > 0 {
		d.logger.Warn("vault: warnings in an answer", "path", path, "count", len(warnings),
			"warnings", warningText(warnings, d.client.Token()))
	}
}

// errRenewedNothing is a renewal that Vault answered without a lease: the
// secret behind the lease is gone (a deleted leased KV secret answers so).
// It is never reported: the secret is read again at once.
var errRenewedNothing = &Error{Op: "renew the lease of", StatusCode: http.StatusNoContent, Err: fmt.Errorf("%w: no lease in the answer", sources.ErrHTTPStatus)}

// renewLease renews a lease by its own length (Vault caps it at the max
// TTL) and returns the TTL Vault granted, and the data of the answer as
// JSON when it has any (a leased KV secret's renewal reads the secret
// again and returns its current data).
func (d *driver) renewLease(ctx context.Context, path string, l *lease) (time.Duration, []byte, *Error) {
	const op = "renew the lease of"
	sec, err := d.client.Sys().RenewWithContext(ctx, l.id, int(l.ttl/time.Second))
	if err != nil {
		return 0, nil, d.fail(ctx, op, path, err)
	}
	if sec == nil { // 204: the engine renewed nothing (a leased KV secret that was deleted)
		return 0, nil, errRenewedNothing
	}
	if sec.LeaseDuration < 0 {
		return 0, nil, &Error{Op: op, Path: path, StatusCode: http.StatusOK, Err: fmt.Errorf("%w: no lease_duration", ErrMalformed)}
	}
	if len(sec.Warnings) > 0 {
		d.logger.Debug("vault: lease renewal warnings", "path", path, "lease", leaseRef(l.id), "count", len(sec.Warnings),
			"warnings", warningText(sec.Warnings, d.client.Token()))
	}
	var data []byte
	if len(sec.Data) > 0 {
		data, _ = json.Marshal(sec.Data) // decoded with UseNumber: numbers keep their text
	}
	return leaseSeconds(int64(sec.LeaseDuration)), data, nil
}

// tokenInfo is what lookup-self says of the client's token.
type tokenInfo struct {
	sent        time.Time
	ttl         time.Duration // remaining, in whole seconds
	creationTTL time.Duration
	renewable   bool
	expires     bool   // false for a token without a TTL (a root token)
	accessor    string // tells tokens apart; kept in memory, never logged
}

// lookupSelf looks the client's token up. The answer holds the token
// itself: nothing of it but the TTLs is kept.
func (d *driver) lookupSelf() (tokenInfo, *Error) {
	const op, path = "look up", "auth/token/lookup-self"
	ctx, cancel := context.WithTimeout(d.ctx, lookupTimeout)
	defer cancel()
	info := tokenInfo{sent: time.Now()}
	sec, err := d.client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return info, classify(op, path, err, d.client.Token())
	}
	if sec == nil || sec.Data == nil { // an empty body: the api client returns no secret and no error
		return info, &Error{Op: op, Path: path, StatusCode: http.StatusOK, Err: fmt.Errorf("%w: no data in the answer", ErrMalformed)}
	}
	ttl, terr := sec.TokenTTL()
	renewable, rerr := sec.TokenIsRenewable()
	if terr != nil || rerr != nil {
		return info, &Error{Op: op, Path: path, StatusCode: http.StatusOK, Err: fmt.Errorf("%w: no ttl or renewable", ErrMalformed)}
	}
	info.ttl, info.renewable = ttl, renewable
	info.creationTTL = seconds(sec.Data["creation_ttl"])
	info.accessor, _ = sec.TokenAccessor()
	// A token that never expires has no expire_time; one with less than a
	// second left has a ttl of 0 and an expire_time.
	info.expires = ttl > 0 || sec.Data["expire_time"] != nil
	return info, nil
}

// renewSelf renews the client's token by its own TTL and returns the TTL
// Vault granted.
func (d *driver) renewSelf() (time.Duration, *Error) {
	const op, path = "renew", "auth/token/renew-self"
	ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
	defer cancel()
	sec, err := d.client.Auth().Token().RenewSelfWithContext(ctx, 0)
	if err != nil {
		return 0, classify(op, path, err, d.client.Token())
	}
	if sec == nil || sec.Auth == nil || sec.Auth.LeaseDuration < 0 {
		return 0, &Error{Op: op, Path: path, StatusCode: http.StatusOK, Err: fmt.Errorf("%w: no auth in the answer", ErrMalformed)}
	}
	return leaseSeconds(int64(sec.Auth.LeaseDuration)), nil
}

// seconds reads a JSON number of seconds as the api client decodes it.
func seconds(v any) time.Duration {
	var n int64
	switch x := v.(type) {
	case interface{ Int64() (int64, error) }: // json.Number
		n, _ = x.Int64()
	case float64:
		n = int64(x)
	case string:
		n, _ = strconv.ParseInt(x, 10, 64)
	}
	return leaseSeconds(n)
}
