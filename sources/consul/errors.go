package consul

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/consul/api"

	"github.com/livebind/livebind/sources"
)

// ErrMalformed is wrapped by the error of an answer that is not Consul's
// KV JSON (a proxy's or captive portal's page, a value that is not
// base64): the agent's address answered, so it is no
// [sources.ErrUnreachable]; it is retried on the slow backoff.
var ErrMalformed = errors.New("malformed answer")

// Error is a failure to observe a key or prefix. Its message names the key
// and never holds the ACL token.
type Error struct {
	// Key is the watched key, or the prefix in prefix mode.
	Key string
	// Prefix reports prefix mode.
	Prefix bool
	// Datacenter is the dc= option, or "" for the agent's own.
	Datacenter string
	// StatusCode is the HTTP status of Consul's answer, or 0 when there was
	// none (see [sources.ErrUnreachable]).
	StatusCode int
	// Err is the cause. It wraps [sources.ErrAuth] (a 403: the ACL token
	// lacks read permission on the key, or is unknown; retried slowly, see
	// [DefaultMaxBackoff]), [sources.ErrHTTPStatus] (another unexpected
	// status), [sources.ErrUnreachable] (no answer: the agent is down or
	// unreachable, or the request timed out), [ErrMalformed] (an answer
	// that is not Consul's JSON) or [sources.ErrTooLarge] where one applies.
	Err error
}

// Error implements error: `consul: key "app/x": authentication or permission refused (403): ...`.
func (e *Error) Error() string {
	k := queryKey{key: e.Key, prefix: e.Prefix, dc: e.Datacenter}
	if e.Err == nil { // built by hand without a cause
		return "consul: " + k.what() + ": failed"
	}
	return "consul: " + k.what() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// permanent reports a failure that will not clear up by itself soon (403,
// other 4xx but 429, 501: see [sources.TransientStatus]; an answer past
// Config.MaxBytes), retried with the slower backoff.
func (e *Error) permanent() bool {
	if errors.Is(e.Err, sources.ErrTooLarge) || errors.Is(e.Err, ErrMalformed) {
		return true
	}
	return e.StatusCode != 0 && !sources.TransientStatus(e.StatusCode)
}

// classify turns an error of the api client into an *Error for k, with
// every secret (see driver.secrets) scrubbed from its text.
func classify(k queryKey, err error, secrets ...string) *Error {
	e := &Error{Key: k.key, Prefix: k.prefix, Datacenter: k.dc}
	var se api.StatusError
	switch {
	case errors.As(err, &se):
		e.StatusCode = se.Code
		body := sources.ServerText(se.Body, secrets...)
		if se.Code == http.StatusForbidden {
			e.Err = fmt.Errorf("%w (403): %s", sources.ErrAuth, body)
		} else {
			e.Err = fmt.Errorf("%w %d: %s", sources.ErrHTTPStatus, se.Code, body)
		}
	case errors.Is(err, sources.ErrTooLarge): // the agent answered, too much
		e.Err = err
	case malformed(err):
		e.Err = fmt.Errorf("%w: %w", ErrMalformed, sources.ServerError(err, secrets...))
	case errors.Is(err, context.Canceled): // the caller's, not the agent's
		e.Err = err
	case errors.Is(err, context.DeadlineExceeded):
		e.Err = fmt.Errorf("%w: no answer in time: %w", sources.ErrUnreachable, err)
	default:
		// net/http quotes a server's Location that does not parse, and
		// a header may be megabytes: cut it as a body is.
		e.Err = fmt.Errorf("%w: %w", sources.ErrUnreachable, sources.ServerError(err, secrets...))
	}
	e.Err = sources.Scrub(e.Err, secrets...)
	return e
}

// malformed reports an error of decoding an answer that came whole.
func malformed(err error) bool {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		b64 base64.CorruptInputError
	)
	return errors.As(err, &syn) || errors.As(err, &typ) || errors.As(err, &b64)
}
