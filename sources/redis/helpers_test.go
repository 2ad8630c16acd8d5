package redis_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/redistest"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
)

func TestMain(m *testing.M) {
	goredis.SetLogger(quiet{}) // go-redis logs dial failures to stderr by default
	goleak.VerifyTestMain(m)
}

// quiet discards go-redis's internal log lines.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// settle bounds how long a change may take to reach a watch in tests.
const settle = 10 * time.Second

var seq atomic.Int64

// fresh returns a key name no other test uses.
func fresh(prefix string) string { return prefix + strconv.FormatInt(seq.Add(1), 10) }

// target returns a redis target for location with params.
func target(location string, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "redis", Location: location, Params: params}
}

// startedKey starts a server with keyspace notifications on (and opts)
// and returns it with a fresh key (prefix and a number) holding value.
func startedKey(tb testing.TB, prefix, value string, opts ...redistest.Option) (*redistest.Server, string) {
	tb.Helper()
	s := redistest.Start(tb, append([]redistest.Option{redistest.WithNotifications()}, opts...)...)
	key := fresh(prefix)
	s.Cmd("SET", key, value)
	return s, key
}

// watchKey opens a driver with cfg and watches key from a first Read.
func watchKey(t *testing.T, cfg lbredis.Config, key string) *fixture.Cursor[sources.Result] {
	t.Helper()
	d := open(t, cfg)
	tg := target(key, nil)
	return watch(t, d, tg, d.Read(ctx(t), tg))
}

// open opens a driver with cfg and closes it when the test ends.
func open(t *testing.T, cfg lbredis.Config) sources.Driver {
	t.Helper()
	return fixture.OpenDriver(t, "redis", cfg)
}

// config is a driver config for s with quick retries.
func config(s *redistest.Server) lbredis.Config {
	return lbredis.Config{Options: &goredis.Options{Addr: s.Addr(), Password: s.Password()}, MaxBackoff: 200 * time.Millisecond}
}

// watch starts a watch of tg and returns a cursor over its results.
func watch(t *testing.T, d sources.Driver, tg *sources.Target, last sources.Result) *fixture.Cursor[sources.Result] {
	t.Helper()
	return fixture.WatchCursor(t, d, tg, last, settle)
}

// isErr matches a failed result with the driver's typed error.
var isErr = fixture.IsTypedErr[*lbredis.Error]

// cmd runs a command against s and fails the test on an error.
func cmd(t *testing.T, s *redistest.Server, args ...string) string {
	t.Helper()
	return s.Cmd(args...)
}

// ctx is a context for a test's own requests.
func ctx(t testing.TB) context.Context {
	t.Helper()
	return fixture.Context(t, settle)
}
