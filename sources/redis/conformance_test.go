package redis_test

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind/internal/testenv/bindtest"
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
	set := func(t *testing.T, tg *sources.Target, v []byte) {
		t.Helper()
		cmd(t, s, "SET", tg.Location, string(v))
	}
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "redis",
		Config: bindtest.ConfigValue(config(s)),
		Target: bindtest.Targets("redis", "conformance:", bindtest.MaxBytes(conformanceMax)),
		Set:    set,
		Remove: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			cmd(t, s, "DEL", tg.Location)
		},
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			return sources.Config{Value: lbredis.Config{Options: &goredis.Options{Addr: s.Addr(), Password: "wrong-" + password}}},
				target("conformance:failing", nil)
		},
		ErrorAs: bindtest.TypedError[*lbredis.Error](sources.ErrAuth),
		Secrets: []string{password},
		Stall: bindtest.SilentStall(target("conformance:stalled", nil), func(_ *testing.T, addr string) any {
			return lbredis.Config{Options: &goredis.Options{Addr: addr}}
		}),
		Oversize: bindtest.Oversized(set, conformanceMax),
		MaxSize:  conformanceMax,
	})
}
