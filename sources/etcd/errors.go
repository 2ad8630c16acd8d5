package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/livebind/livebind/sources"
)

// Error is a failure to observe a key or prefix. Its message names the key
// and never holds the password.
type Error struct {
	// Key is the watched key, or the prefix in prefix mode.
	Key string
	// Prefix reports prefix mode.
	Prefix bool
	// Err is the cause. It wraps [sources.ErrUnreachable], [sources.ErrAuth] or
	// [sources.ErrTooLarge] where one applies.
	Err error
}

// Error implements error: `etcd: key "app/x": permission denied: ...`.
func (e *Error) Error() string {
	return "etcd: " + watchKey{key: e.Key, prefix: e.Prefix}.what() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// permanent reports a failure that will not clear up until someone acts.
func (e *Error) permanent() bool { return errors.Is(e.Err, sources.ErrAuth) }

// classify turns an error of the etcd client into an *Error for k, with the
// password scrubbed from its text.
func classify(k watchKey, err error, password string) *Error {
	e := &Error{Key: k.key, Prefix: k.prefix}
	code := status.Code(err)
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		code = ee.Code()
	}
	msg := sources.ServerText(err.Error(), password)
	switch {
	case errors.Is(err, rpctypes.ErrPermissionDenied), errors.Is(err, rpctypes.ErrAuthFailed),
		errors.Is(err, rpctypes.ErrInvalidAuthToken), errors.Is(err, rpctypes.ErrUserEmpty),
		code == codes.PermissionDenied, code == codes.Unauthenticated:
		e.Err = fmt.Errorf("%w: %s", sources.ErrAuth, msg)
	case errors.Is(err, context.Canceled), code == codes.Canceled: // the caller's, not the server's
		e.Err = fmt.Errorf("%w: %s", context.Canceled, msg)
	case errors.Is(err, context.DeadlineExceeded), code == codes.DeadlineExceeded:
		e.Err = fmt.Errorf("%w: no answer in time: %s", sources.ErrUnreachable, msg)
	default:
		e.Err = fmt.Errorf("%w: %s", sources.ErrUnreachable, msg)
	}
	e.Err = sources.Scrub(e.Err, password)
	return e
}
