package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/livebind/livebind/sources"
)

// Error is a failure to observe a key-value entry or a subject. Its message
// names them and never holds a password or token.
type Error struct {
	// Bucket and Key name a key-value entry; both are empty for a subject.
	Bucket, Key string
	// Subject is the subject in subject mode.
	Subject string
	// Err is the cause. It wraps [sources.ErrUnreachable], [sources.ErrAuth] or
	// [sources.ErrTooLarge] where one applies.
	Err error
}

// Error implements error: `nats: key "app/config": ...` or
// `nats: subject "app.config": ...`.
func (e *Error) Error() string {
	if e.Subject != "" || e.Bucket == "" {
		return "nats: subject " + strconv.Quote(e.Subject) + ": " + e.Err.Error()
	}
	return "nats: key " + strconv.Quote(e.Bucket+"/"+e.Key) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// permanent reports a failure that needs a person to clear up.
func (e *Error) permanent() bool { return errors.Is(e.Err, sources.ErrAuth) }

// classify turns a client error into an *Error for k, with secrets
// scrubbed from its text.
func (d *driver) classify(k watchKey, err error) *Error {
	e := &Error{Bucket: k.bucket, Key: k.key, Subject: k.subject}
	switch {
	case errors.Is(err, sources.ErrTooLarge), errors.Is(err, context.Canceled):
		e.Err = err
	case errors.Is(err, natsgo.ErrAuthorization), errors.Is(err, natsgo.ErrAuthExpired),
		errors.Is(err, natsgo.ErrAuthRevoked), errors.Is(err, natsgo.ErrPermissionViolation):
		e.Err = fmt.Errorf("%w: %w", sources.ErrAuth, err)
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		e.Err = err
	default: // no servers, timeouts, a closed or lost connection, no responders
		e.Err = fmt.Errorf("%w: %w", sources.ErrUnreachable, err)
	}
	e.Err = clip(d.scrub(e.Err))
	return e
}

// maxErrText bounds the text of an Error's cause: the client quotes what
// the server says (a -ERR line, up to [MaxControlLine]) in its errors.
// It leaves room for sources.MaxServerText of the server's words and the
// client's own.
const maxErrText = 512

// clip cuts err's text to maxErrText bytes; the result matches with
// errors.Is whatever err matches.
func clip(err error) error {
	text := err.Error()
	if len(text) <= maxErrText {
		return err
	}
	return &clipped{msg: sources.Clip(text, maxErrText), err: err}
}

// clipped is an error whose text was cut. Like sources.Scrub's errors it
// has no Unwrap, so that the whole text stays out of reach: errors.Is
// asks err through Is.
type clipped struct {
	msg string
	err error
}

func (c *clipped) Error() string { return c.msg }

// Is reports whether the error before the cut matches target.
func (c *clipped) Is(target error) bool { return errors.Is(c.err, target) }
