package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// serverError is an error reply of the server, as the client returns it.
type serverError string

func (e serverError) Error() string { return string(e) }
func (serverError) RedisError()     {}

// TestClassify: each client error wraps the sentinel callers match, a
// refused login, a missing permission or a wrong type is retried slowly,
// the server and key are named, a long reply is cut, and a password the
// server or the client echoed is scrubbed.
func TestClassify(t *testing.T) {
	t.Parallel()
	const pw = "redis-pass-0123456789"
	long := strings.Repeat("x", 1000)
	d := &driver{password: pw}
	cases := []fixture.ErrorCase{
		{Name: "wrongpass", Err: serverError("WRONGPASS invalid username-password pair"), Is: sources.ErrAuth, Permanent: true, Text: `redis 127.0.0.1:6379/2: key "app:config": authentication or permission refused: WRONGPASS`},
		{Name: "noperm, password echoed", Err: serverError("NOPERM user with " + pw), Is: sources.ErrAuth, Permanent: true, Text: "NOPERM user with <token>"},
		{Name: "wrongtype", Err: serverError("WRONGTYPE Operation against a key holding the wrong kind of value"), Is: ErrWrongType, Permanent: true, Text: "key holds a non-string value: WRONGTYPE"},
		{Name: "loading", Err: serverError("LOADING Redis is loading the dataset in memory"), Is: sources.ErrUnreachable, Text: "server unreachable: LOADING"},
		{Name: "dial, password echoed", Err: fmt.Errorf("dial redis://app:%s@127.0.0.1:6379: refused", pw), Is: sources.ErrUnreachable, Text: "app:<token>@127.0.0.1"},
		{Name: "canceled, password echoed", Err: fmt.Errorf("auth %s: %w", pw, context.Canceled), Is: context.Canceled, Text: "auth <token>: context canceled"},
		{Name: "long", Err: serverError("ERR " + long), Text: long[:sources.MaxServerText-len("ERR ")] + "..."},
		{Name: "password cut through", Err: serverError(fixture.CutThrough(pw)), Text: "server error: xxx"},
	}
	fixture.WantClassified(t, pw, func(err error) (error, bool) {
		e := d.classify(watchKey{addr: "127.0.0.1:6379", db: 2, name: "app:config"}, err)
		return e, e.permanent()
	}, cases...)
}
