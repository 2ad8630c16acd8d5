package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind/sources"
)

// Sentinel errors wrapped by [*Error]. Match them with errors.Is.
var (
	// ErrNotificationsOff reports a server whose keyspace notifications
	// (notify-keyspace-events) do not cover the key's changes, when the tag
	// does not let the driver turn them on (notify=enable), or the server
	// refused the CONFIG SET. The error text names the fixes: turn them on
	// on the server, tag notify=enable, or tag poll= to poll instead.
	ErrNotificationsOff = errors.New("keyspace notifications are off")
	// ErrWrongType reports a key that holds something other than a string
	// (a hash, a list ...).
	ErrWrongType = errors.New("key holds a non-string value")
)

// Error is a failure to observe a key or channel. Its message names them and
// never holds the password.
type Error struct {
	// Addr is the server's address, host:port.
	Addr string
	// DB is the database number.
	DB int
	// Key is the key, or the channel in channel mode.
	Key string
	// Channel reports channel mode.
	Channel bool
	// Err is the cause. It wraps [sources.ErrUnreachable] (refused or cut
	// connection, timeout: retried soon, see [TransientMaxBackoff]),
	// [sources.ErrAuth] (WRONGPASS, NOAUTH, or NOPERM from the ACL: retried
	// slowly, see [PermanentBackoff]), one of the sentinels of this
	// package, [sources.ErrTooLarge], or a context error, where one applies.
	Err error
}

// Error implements error: `redis 127.0.0.1:6379/0: key "app:config": ...`.
func (e *Error) Error() string {
	what := "key"
	if e.Channel {
		what = "channel"
	}
	return "redis " + e.Addr + "/" + strconv.Itoa(e.DB) + ": " + what + " " + strconv.Quote(e.Key) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// permanent reports a failure that needs a person to clear up: retried with
// the slower backoff.
func (e *Error) permanent() bool {
	return errors.Is(e.Err, sources.ErrAuth) || errors.Is(e.Err, ErrNotificationsOff) || errors.Is(e.Err, ErrWrongType)
}

// classify turns an error of the client into an *Error for k, with the
// password scrubbed from its text.
func (d *driver) classify(k watchKey, err error) *Error {
	e := &Error{Addr: k.addr, DB: k.db, Key: k.name, Channel: k.channel}
	var re goredis.Error
	switch {
	case errors.Is(err, sources.ErrTooLarge), errors.Is(err, ErrNotificationsOff), errors.Is(err, ErrWrongType):
		e.Err = err
	case errors.As(err, &re):
		msg := sources.ServerText(re.Error(), d.password)
		switch {
		case hasPrefix(msg, "WRONGPASS", "NOAUTH", "NOPERM"):
			e.Err = fmt.Errorf("%w: %s", sources.ErrAuth, msg)
		case hasPrefix(msg, "WRONGTYPE"):
			e.Err = fmt.Errorf("%w: %s", ErrWrongType, msg)
		case hasPrefix(msg, "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"):
			e.Err = fmt.Errorf("%w: %s", sources.ErrUnreachable, msg)
		default:
			e.Err = fmt.Errorf("server error: %s", msg)
		}
	case errors.Is(err, context.Canceled):
		e.Err = err
	default:
		e.Err = fmt.Errorf("%w: %w", sources.ErrUnreachable, err)
	}
	e.Err = sources.Scrub(e.Err, d.password)
	return e
}

func hasPrefix(s string, prefixes ...string) bool {
	s = strings.TrimPrefix(s, "ERR ")
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
