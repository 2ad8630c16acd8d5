package redis_test

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/redistest"
	"github.com/livebind/livebind/sources"
)

// TestBindMalformed: a key whose value does not decode is an Error update
// wrapping ErrDecode, naming the field and source, and the last good value
// stays; a good value afterwards is applied.
func TestBindMalformed(t *testing.T) {
	s, key := startedKey(t, "json:", `{"a":1}`)
	type conf struct {
		A int `live:"redis=${KEY}; format=json; key=a"`
	}
	b, rec := bindtest.BindKey[conf](t, "redis", config(s), key)
	require.Equal(t, 1, b.Get().A)
	bindtest.Malformed(t, b, func(c *conf) int { return c.A }, func(doc string) { cmd(t, s, "SET", key, doc) })
	require.Contains(t, rec.Until(t, "the Error", bindtest.IsError).Source, key)
}

// TestBindChannelAtStart: nothing has been published on a channel at Bind,
// so a field with default= takes its default and the first message is an
// Added; a required field fails Bind.
func TestBindChannelAtStart(t *testing.T) {
	s := redistest.Start(t)
	name := fresh("mode")
	t.Setenv("CH", name)
	type conf struct {
		Mode string `live:"redis=channel:${CH}; format=text; default=idle"`
	}
	b, rec := bindtest.Bind[conf](t, "redis", config(s))
	bindtest.FirstMessage(t, rec, func() any { return b.Get().Mode }, func(v string) { publish(t, s, name, v) })

	type strict struct {
		Mode string `live:"redis=channel:${CH}; format=text; required"`
	}
	bindtest.BindFails[strict](t, "redis", config(s), nil, "Mode") // required, and no message yet
}

// TestBindUnreachable: a server that is not there fails Bind with a
// FieldError naming the field, wrapping the driver's ErrUnreachable.
func TestBindUnreachable(t *testing.T) {
	s := redistest.Start(t)
	s.Stop()
	type conf struct {
		V string `live:"redis=app:v; format=text; notify=enable"`
	}
	bindtest.BindFails[conf](t, "redis", config(s), sources.ErrUnreachable, "V")
}

// TestBindBurst: a slow subscriber (1 ms per update) faces a burst of
// 10,000 messages on a channel and 10,000 writes of a key, with
// throttle=50ms. Memory must stay bounded (the heap in use grows by less
// than 32 MiB at any sample), far fewer updates than messages must arrive
// (coalescing), and the last message and the last write must be the final
// values.
func TestBindBurst(t *testing.T) {
	s := redistest.Start(t, redistest.WithNotifications())
	name, key := fresh("burst"), fresh("burst:")
	t.Setenv("CH", name)
	t.Setenv("KEY", key)
	type conf struct {
		Msg string `live:"redis=channel:${CH}; format=text; default=none; throttle=50ms"`
		Key string `live:"redis=${KEY}; format=text; default=none; throttle=50ms"`
	}
	b, _ := bindtest.Bind[conf](t, "redis", config(s))
	bindtest.CoalescedBurst(t, b, func(c *conf) (string, string) { return c.Msg, c.Key }, func() {
		publish(t, s, name, "warm-up")
	}, func(n int) {
		burst(t, s.Addr(), n, func(p pipeliner, i int) {
			p.Publish(t.Context(), name, bindtest.BurstValue('m', i))
			p.Set(t.Context(), key, bindtest.BurstValue('k', i), 0)
		})
	})
}

// pipeliner is the pipeline a burst's commands are queued on.
type pipeliner = goredis.Pipeliner

// burst sends n rounds of commands through one pipelined client, 500 per
// round trip.
func burst(t testing.TB, addr string, n int, add func(p pipeliner, i int)) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	for i := 0; i < n; i += 500 {
		_, err := c.Pipelined(t.Context(), func(p goredis.Pipeliner) error {
			for j := i; j < min(n, i+500); j++ {
				add(p, j)
			}
			return nil
		})
		require.NoError(t, err)
	}
}
