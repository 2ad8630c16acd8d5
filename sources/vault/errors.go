package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/livebind/livebind/sources"
)

// Sentinel errors wrapped by [*Error]. Match them with errors.Is.
var (
	// ErrTokenInvalid reports that Vault no longer accepts the client's
	// token: it expired or was revoked. Nothing can be read until the
	// client gets a new token.
	ErrTokenInvalid = errors.New("vault token expired or revoked")
	// ErrSealed reports a 503 from a sealed Vault. The driver retries with
	// capped backoff and recovers once Vault is unsealed.
	ErrSealed = errors.New("vault is sealed")
	// ErrMalformed reports an answer that is not the JSON Vault sends. Its
	// text never quotes the answer, which may hold secrets.
	ErrMalformed = errors.New("malformed response")
	// ErrLeaseExpired is wrapped beside the cause when new credentials could
	// not be read and the lease of the current ones has run out.
	ErrLeaseExpired = errors.New("the current credentials' lease has expired")
)

// Error is a failure to observe a Vault path. Its message names the path
// and never holds the token or secret data.
type Error struct {
	// Op is what failed: "read", "read metadata", "detect the mount of",
	// "renew the lease of", "issue" (a write= certificate).
	Op string
	// Path is the Vault logical path.
	Path string
	// StatusCode is the HTTP status of Vault's answer, or 0 when there was
	// none (see [sources.ErrUnreachable]) or the answer was malformed.
	StatusCode int
	// Err is the cause. It wraps [sources.ErrAuth] (a 403: the token's
	// policies do not allow the request, or the token is no longer valid,
	// and then [ErrTokenInvalid] too; retried slowly, never in a hot loop),
	// [sources.ErrHTTPStatus] (another unexpected status),
	// [sources.ErrUnreachable] (no answer: Vault is down or unreachable, or
	// the request timed out), or one of the sentinels of this package,
	// where one applies.
	Err error
}

// Error implements error: `vault: read "secret/data/db": authentication or permission refused (403): ...`.
func (e *Error) Error() string {
	return "vault: " + e.Op + " " + strconv.Quote(e.Path) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// permanent reports a failure that will not clear up by itself soon (403,
// other 4xx, 501, malformed or oversized answers), retried with the slower
// backoff. No answer, 5xx but 501, 429 (see [sources.TransientStatus]) and
// 412 (Vault Enterprise's eventual consistency) are retried sooner.
func (e *Error) permanent() bool {
	switch e.StatusCode {
	case 0:
		return errors.Is(e.Err, ErrMalformed) || errors.Is(e.Err, sources.ErrTooLarge)
	case http.StatusPreconditionFailed:
		return false
	}
	return !sources.TransientStatus(e.StatusCode)
}

// classify turns an error of the api client into an *Error for op on
// path, with the token scrubbed from its text. A 403 is refined by
// [driver.fail].
func classify(op, path string, err error, token string) *Error {
	e := &Error{Op: op, Path: path}
	var re *api.ResponseError
	switch {
	case errors.As(err, &re):
		e.StatusCode = re.StatusCode
		msgs := messages(re, token)
		switch {
		case re.StatusCode == http.StatusForbidden:
			e.Err = fmt.Errorf("%w (403)%s", sources.ErrAuth, msgs)
		case re.StatusCode == http.StatusServiceUnavailable && strings.Contains(strings.ToLower(msgs), "sealed"):
			e.Err = fmt.Errorf("%w (503)", ErrSealed)
		default:
			e.Err = fmt.Errorf("%w %d%s", sources.ErrHTTPStatus, re.StatusCode, msgs)
		}
	case errors.Is(err, sources.ErrTooLarge): // it answered, too much
		e.Err = err
	case errors.Is(err, context.DeadlineExceeded):
		e.Err = fmt.Errorf("%w: no answer in time: %w", sources.ErrUnreachable, err)
	case errors.Is(err, context.Canceled):
		e.Err = err
	default:
		e.Err = fmt.Errorf("%w: %w", sources.ErrUnreachable, err)
	}
	e.Err = sources.Scrub(e.Err, token)
	return e
}

// messages formats Vault's "errors" array, token scrubbed before it is cut
// (see [sources.ServerText]). A body that was not JSON (a proxy's page) is
// summarized by its size only.
func messages(re *api.ResponseError, token string) string {
	if re.RawError {
		n := 0
		for _, s := range re.Errors {
			n += len(s)
		}
		if n == 0 {
			return ""
		}
		return fmt.Sprintf(": non-JSON body of %d bytes", n)
	}
	var parts []string
	for _, s := range re.Errors {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + sources.ServerText(strings.Join(parts, "; "), token)
}
