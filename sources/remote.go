package sources

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Helpers for drivers of remote services that take a client (consul, vault):
// the source config a user hands livebind.WithSourceConfig, and errors that
// must not carry the client's token.

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

// Clip cuts s to at most n bytes, without splitting a UTF-8 sequence, and
// marks a cut with "...". Drivers use it to bound how much of a server's
// message goes into an error.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

// Scrub removes every occurrence of secret (a token) from err's text,
// replacing it with "<token>", in case a proxy or a transport error echoed
// it. The result matches each of sentinels with errors.Is exactly when err
// does, but errors.As cannot reach err's parts (they may hold the secret).
// Scrub returns err itself when it is nil, secret is empty or the text does
// not hold it.
func Scrub(err error, secret string, sentinels ...error) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), secret, "<token>"), err: err, sentinels: sentinels}
}

// scrubbed is an error whose text had a secret removed.
type scrubbed struct {
	msg       string
	err       error
	sentinels []error
}

func (s *scrubbed) Error() string { return s.msg }

func (s *scrubbed) Is(target error) bool {
	for _, sentinel := range s.sentinels {
		if target == sentinel {
			return errors.Is(s.err, sentinel)
		}
	}
	return false
}
