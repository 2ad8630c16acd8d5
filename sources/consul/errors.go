package consul

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/consul/api"

	"github.com/livebind/livebind/sources"
)

// Sentinel errors wrapped by [*Error]. Match them with errors.Is.
var (
	// ErrPermissionDenied reports a 403 from Consul: the ACL token lacks
	// read permission on the key, or is unknown. The driver retries slowly
	// (see [DefaultMaxBackoff]) so that a fixed policy takes effect.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrStatus reports any other unexpected HTTP status.
	ErrStatus = errors.New("unexpected status")
	// ErrUnreachable reports a request that got no HTTP response: the agent
	// is down or unreachable, or the request timed out.
	ErrUnreachable = errors.New("agent unreachable")
)

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
	// none (see [ErrUnreachable]).
	StatusCode int
	// Err is the cause. It wraps [ErrPermissionDenied], [ErrStatus],
	// [ErrUnreachable] or sources.ErrTooLarge where one applies.
	Err error
}

// Error implements error: `consul: key "app/x": permission denied (403): ...`.
func (e *Error) Error() string {
	k := queryKey{key: e.Key, prefix: e.Prefix, dc: e.Datacenter}
	return "consul: " + k.what() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// permanent reports a failure that will not clear up by itself soon (403,
// other 4xx but 429, 501: see [sources.TransientStatus]; an answer past
// Config.MaxBytes), retried with the slower backoff.
func (e *Error) permanent() bool {
	if errors.Is(e.Err, sources.ErrTooLarge) {
		return true
	}
	return e.StatusCode != 0 && !sources.TransientStatus(e.StatusCode)
}

// classify turns an error of the api client into an *Error for k, with the
// token scrubbed from its text.
func classify(k queryKey, err error, token string) *Error {
	e := &Error{Key: k.key, Prefix: k.prefix, Datacenter: k.dc}
	var se api.StatusError
	switch {
	case errors.As(err, &se):
		e.StatusCode = se.Code
		body := sources.ServerText(se.Body, token)
		if se.Code == http.StatusForbidden {
			e.Err = fmt.Errorf("%w (403): %s", ErrPermissionDenied, body)
		} else {
			e.Err = fmt.Errorf("%w %d: %s", ErrStatus, se.Code, body)
		}
	case errors.Is(err, sources.ErrTooLarge): // the agent answered, too much
		e.Err = err
	case errors.Is(err, context.DeadlineExceeded):
		e.Err = fmt.Errorf("%w: no answer in time: %w", ErrUnreachable, err)
	default:
		e.Err = fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	e.Err = sources.Scrub(e.Err, token)
	return e
}
