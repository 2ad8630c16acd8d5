package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Helpers for drivers of remote services that take a client (consul, etcd,
// postgres, redis, nats, vault): the source config a user hands
// livebind.WithSourceConfig, and the pieces of their typed errors that are
// the same in every driver: a server's text cut to one size, an HTTP status
// sorted into transient or permanent, a credential scrubbed from the text.
// Each driver keeps its own *Error type (its fields and text name what it
// watches) and its own sentinels.

// DriverLogger returns cfg.Logger, or a logger that discards everything when
// it is nil (the contract says it never is; a driver must not crash if it
// is).
func DriverLogger(cfg Config) *slog.Logger {
	if cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return cfg.Logger
}

// ClientConfig decodes the value a user handed livebind.WithSourceConfig for
// scheme into the scheme's config type C. It accepts nil (the zero C), a C, a
// *C (nil means the zero C) and a bare client of type K, which withClient
// turns into a C. Any other type is an error that names scheme and the two
// accepted types.
func ClientConfig[C, K any](scheme string, v any, withClient func(K) C) (C, error) {
	var c C
	switch v := v.(type) {
	case nil:
	case C:
		c = v
	case *C:
		if v != nil {
			c = *v
		}
	case K:
		c = withClient(v)
	default:
		var k K
		return c, fmt.Errorf("%s: source config of type %T; want %T or %T", scheme, v, k, c)
	}
	return c, nil
}

// MaxServerText caps how much of a server's message (an error body, a
// status text, a client error quoting the server) a driver puts into an
// error: [ServerText] cuts it there.
const MaxServerText = 300

// ServerText trims s, a server's message, replaces each of secrets in it
// with "<token>" as [Scrub] does, and cuts it to [MaxServerText] bytes (see
// [Clip]), for the text of a driver's error. The secrets go before the cut:
// a cut through one would leave its first part, which no later Scrub
// recognizes.
func ServerText(s string, secrets ...string) string {
	return Clip(scrubText(strings.TrimSpace(s), secrets), MaxServerText)
}

// Clip cuts s to at most n bytes, without splitting a UTF-8 sequence, and
// marks a cut with "...". Drivers use it (through [ServerText]) to bound how
// much of a server's message goes into an error.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

// TransientStatus reports whether a failure answered with HTTP status code
// may clear up by itself, so that a driver retries it on its transient
// backoff: 429 and every 5xx but 501 (go-retryablehttp's rule). Any other
// status (403, other 4xx, 501) needs someone to act: [Retry] waits longer.
func TransientStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500 && code != http.StatusNotImplemented
}

// Scrub removes every occurrence of each secret (a token, a password) from
// err's text, replacing it with "<token>", in case a server, a proxy or a
// transport error echoed it. The result matches with errors.Is every error
// err matches (the driver's sentinels, context errors), but errors.As cannot
// reach err's parts: they may hold a secret. Scrub returns err itself when
// it is nil or its text holds none of the secrets; empty secrets are
// skipped.
func Scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	msg := scrubText(text, secrets)
	if msg == text {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

// ServerError is [Scrub] for an error whose text quotes a server (a
// client library's protocol error that prints a header the server sent):
// its text is trimmed, scrubbed of secrets and cut as [ServerText] does,
// so that a hostile server can neither echo a credential into it nor make
// it any size. The result matches with errors.Is every error err matches;
// errors.As cannot reach err's parts. ServerError returns err itself when
// it is nil or its text needs none of that.
func ServerError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	msg := ServerText(text, secrets...)
	if msg == text {
		return err
	}
	return &scrubbed{msg: msg, err: err}
}

// scrubText replaces every occurrence of each non-empty secret in text with
// "<token>", the longest first, so that a secret that holds a shorter one
// goes whole.
func scrubText(text string, secrets []string) string {
	for _, s := range slices.SortedFunc(slices.Values(secrets), func(a, b string) int { return len(b) - len(a) }) {
		if s != "" {
			text = strings.ReplaceAll(text, s, "<token>")
		}
	}
	return text
}

// scrubbed is an error whose text had a secret removed. It has no Unwrap:
// errors.Is asks err through Is, errors.As finds nothing.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }

func (s *scrubbed) Is(target error) bool { return errors.Is(s.err, target) }

// Unreachable wraps err, the failure of a request, in [ErrUnreachable]
// when it means the server gave no answer: a connection refused, reset or
// cut (a *net.OpError but a TLS alert the server sent), an answer that
// ended before it was whole (io.EOF, io.ErrUnexpectedEOF), or a timeout
// (context.DeadlineExceeded, a net.Error that timed out). Err's text is
// kept and errors.Is and errors.As still reach it. Anything else is
// returned as it is: a cancellation (the caller's own), a refused
// certificate, a redirect policy's error, an answer that is not HTTP.
func Unreachable(err error) error {
	if err == nil || !noAnswer(err) || errors.Is(err, ErrUnreachable) {
		return err
	}
	return &unreachableError{err}
}

// noAnswer reports whether err means the server gave no answer (see
// [Unreachable]).
func noAnswer(err error) bool {
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op != "remote error" // a TLS alert: the server answered, and refused
	}
	var ue *url.Error
	if errors.As(err, &ue) { // a *url.Error is a net.Error itself; ask its cause
		err = ue.Err
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// unreachableError is an error that is also [ErrUnreachable], with the
// text of the error it holds.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string   { return e.err.Error() }
func (e *unreachableError) Unwrap() []error { return []error{e.err, ErrUnreachable} }

// ContextError puts ctx's own error (context.Canceled, or
// context.DeadlineExceeded when ctx ran out of time) in place of what a
// request reports once ctx ended: net/http reports context.Cause, so a
// caller's own cause (context.WithCancelCause) would read as neither a
// cancellation nor a timeout, and a request canceled for ctx on a context
// of its own reports context.Canceled where ctx ran out of time. A
// *url.Error keeps its operation and URL. err is returned as it is while
// ctx lives, when it already is ctx's error, or when it is neither ctx's
// cause nor a cancellation (the request failed on its own).
func ContextError(ctx context.Context, err error) error {
	want := ctx.Err()
	if want == nil || err == nil {
		return err
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, context.DeadlineExceeded) {
		want = context.DeadlineExceeded
	}
	if errors.Is(err, want) || !errors.Is(err, cause) && !errors.Is(err, context.Canceled) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: ue.URL, Err: want}
	}
	return want
}
