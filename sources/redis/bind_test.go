package redis_test

import (
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/redistest"
	lbredis "github.com/livebind/livebind/sources/redis"
)

// TestBindMalformed: a key whose value does not decode is an Error update
// wrapping ErrDecode, naming the field and source, and the last good value
// stays; a good value afterwards is applied.
func TestBindMalformed(t *testing.T) {
	s := redistest.Start(t, redistest.WithNotifications())
	key := fresh("json:")
	cmd(t, s, "SET", key, `{"port": 1}`)
	type conf struct {
		Port int `live:"redis=${KEY}; format=json; key=port"`
	}
	t.Setenv("KEY", key)
	b, rec := bind[conf](t, config(s))
	require.Equal(t, 1, b.Get().Port)

	cmd(t, s, "SET", key, `{"port": `)
	u := rec.Until(t, "an Error", func(u livebind.Update) bool { return u.Kind == livebind.Error })
	require.ErrorIs(t, u.Err, livebind.ErrDecode)
	require.Equal(t, "Port", u.Field)
	require.Contains(t, u.Source, key)
	require.Equal(t, 1, b.Get().Port, "the last good value stays")

	cmd(t, s, "SET", key, `{"port": 2}`)
	rec.Until(t, "Updated", func(u livebind.Update) bool { return u.Kind == livebind.Updated })
	require.Equal(t, 2, b.Get().Port)
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
	b, rec := bind[conf](t, config(s))
	require.Equal(t, "idle", b.Get().Mode)
	publish(t, s, name, "busy")
	u := rec.Until(t, "Added", func(u livebind.Update) bool { return u.Kind == livebind.Added })
	require.Equal(t, "busy", u.New)

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
	bindtest.BindFails[conf](t, "redis", config(s), lbredis.ErrUnreachable, "V")
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
	var dst conf
	b, err := livebind.Bind(t.Context(), &dst, livebind.WithSourceConfig("redis", config(s)))
	require.NoError(t, err)
	defer b.Close()
	var updates atomic.Int64
	_, err = b.Subscribe(func(livebind.Update) { updates.Add(1); time.Sleep(time.Millisecond) })
	require.NoError(t, err)
	publish(t, s, name, "warm-up")

	peak, _ := bindtest.PairBurst(t, b, func(c *conf) (string, string) { return c.Msg, c.Key }, func(n int) {
		burst(t, s.Addr(), n, func(p pipeliner, i int) {
			p.Publish(t.Context(), name, bindtest.BurstValue('m', i))
			p.Set(t.Context(), key, bindtest.BurstValue('k', i), 0)
		})
	})
	bindtest.Coalesced(t, updates.Load(), peak)
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
