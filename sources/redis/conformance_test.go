package redis_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/redistest"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
	"github.com/livebind/livebind/sources/sourcetest"
)

// conformanceMax is the maxbytes= of the conformance targets.
const conformanceMax = 64 << 10

// TestConformance runs the sources conformance kit against the redis
// driver (key mode) and a real redis-server with keyspace notifications on
// and a password. The failure check uses a wrong password (it must not
// appear in the error, which must wrap ErrAuth); the stall check a TCP
// listener that accepts and never answers.
func TestConformance(t *testing.T) {
	const password = "conformance-secret-pw"
	s := redistest.Start(t, redistest.WithNotifications(), redistest.WithPassword(password))
	params := map[string]string{"maxbytes": strconv.Itoa(conformanceMax)}
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "redis",
		Config: func(*testing.T) sources.Config { return sources.Config{Value: config(s)} },
		Target: func(*testing.T) *sources.Target { return target(fresh("conformance:"), params) },
		Set: func(t *testing.T, tg *sources.Target, v []byte) {
			t.Helper()
			cmd(t, s, "SET", tg.Location, string(v))
		},
		Remove: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			cmd(t, s, "DEL", tg.Location)
		},
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			return sources.Config{Value: lbredis.Config{Options: &goredis.Options{Addr: s.Addr(), Password: "wrong-" + password}}},
				target("conformance:failing", nil)
		},
		ErrorAs: func(err error) bool {
			var e *lbredis.Error
			return errors.As(err, &e) && errors.Is(err, lbredis.ErrAuth)
		},
		Secrets: []string{password},
		Stall: func(t *testing.T) (sources.Config, *sources.Target, func()) {
			t.Helper()
			addr, release := fixture.SilentServer(t)
			return sources.Config{Value: lbredis.Config{Options: &goredis.Options{Addr: addr}}}, target("conformance:stalled", nil), release
		},
		Oversize: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			cmd(t, s, "SET", tg.Location, string(make([]byte, 16*conformanceMax)))
		},
		MaxSize: conformanceMax,
		Quiet:   300 * time.Millisecond,
	})
}
