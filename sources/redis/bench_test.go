package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/redistest"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
)

// BenchmarkPublishToCallback measures the latency from a write (SET of a
// watched key, PUBLISH on a channel) to the Subscribe callback that
// reports it, through a real redis-server and livebind. Goal: p99 ≤ 10 ms.
// Run: go test -run '^$' -bench PublishToCallback -benchtime=500x ./sources/redis
func BenchmarkPublishToCallback(b *testing.B) {
	s := redistest.Start(b, redistest.WithNotifications())
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	defer c.Close()
	type conf struct {
		V string `live:"redis=${LOC}; format=text; default=none"`
	}
	key, channel := fresh("benchkey"), fresh("benchchannel")
	bindtest.PublishLatency[conf](b, "redis", config(s),
		bindtest.Writer{Name: "key", Loc: key, Write: func(ctx context.Context, v string) error {
			return c.Set(ctx, key, v, 0).Err()
		}},
		bindtest.Writer{Name: "channel", Loc: "channel:" + channel, Write: func(ctx context.Context, v string) error {
			return c.Publish(ctx, channel, v).Err()
		}})
}

// BenchmarkReconnect measures how long after a killed server is back
// (Restart returns once it answers PING) a value written to it reaches the
// callback: the driver's backoff, resubscription and re-read.
func BenchmarkReconnect(b *testing.B) {
	s, name := startedKey(b, "reconnect", "start")
	type conf struct {
		V string `live:"redis=${LOC}; format=text"`
	}
	_, got := bindtest.SchemeStrings[conf](b, "redis", config(s), nil, "LOC", name)
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		i++
		s.Kill()
		time.Sleep(50 * time.Millisecond) // the driver sees the cut and backs off
		s.Restart()
		want := "after-restart-" + strconv.Itoa(i)
		start := time.Now()
		s.Cmd("SET", name, want)
		fixture.Await(b, got, want, settle)
		lat = append(lat, time.Since(start))
	}
	fixture.ReportPercentiles(b, lat)
}

// idleFields are five key fields and five channel fields that nothing
// changes.
type idleFields struct {
	K0 string `live:"redis=idle:0; format=text; default=x"`
	K1 string `live:"redis=idle:1; format=text; default=x"`
	K2 string `live:"redis=idle:2; format=text; default=x"`
	K3 string `live:"redis=idle:3; format=text; default=x"`
	K4 string `live:"redis=idle:4; format=text; default=x"`
	C0 string `live:"redis=channel:idle0; format=text; default=x"`
	C1 string `live:"redis=channel:idle1; format=text; default=x"`
	C2 string `live:"redis=channel:idle2; format=text; default=x"`
	C3 string `live:"redis=channel:idle3; format=text; default=x"`
	C4 string `live:"redis=channel:idle4; format=text; default=x"`
}

// BenchmarkIdleCost counts the commands redis-server runs (INFO
// commandstats, less the benchmark's own INFO) for 10 bound fields (5
// keys, 5 channels) that nothing changes, over 10 s, with the health PING
// every 2 s, and reports them per field per minute at that interval and
// scaled to the default HealthInterval (30 s).
func BenchmarkIdleCost(b *testing.B) {
	s := redistest.Start(b, redistest.WithNotifications())
	const fields, window, health = 10, 10 * time.Second, 2 * time.Second
	cfg := config(s)
	cfg.HealthInterval = health
	for b.Loop() {
		var dst idleFields
		bd, err := livebind.Bind(b.Context(), &dst, livebind.WithSourceConfig("redis", cfg))
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second) // past the subscriptions and first reads
		before := commands(b, s)
		time.Sleep(window)
		n := commands(b, s) - before - 1 // the second INFO
		_ = bd.Close()
		perMin := float64(n) / fields * float64(time.Minute) / float64(window)
		b.ReportMetric(perMin, "cmds/field/min@2s")
		b.ReportMetric(perMin*float64(health)/float64(lbredis.HealthInterval), "cmds/field/min")
	}
}

// commands returns the total calls in INFO commandstats.
func commands(b *testing.B, s *redistest.Server) int {
	b.Helper()
	total := 0
	for _, line := range strings.Split(s.Cmd("INFO", "commandstats"), "\n") {
		_, rest, ok := strings.Cut(line, ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(rest[:max(0, strings.IndexByte(rest, ','))])
		total += n
	}
	return total
}

// BenchmarkBurstMemory publishes 10,000 messages on a channel and writes a
// key 10,000 times, both bound with throttle=50ms, and reports the heap's
// peak growth meanwhile, the updates that reached a subscriber that takes
// 1 ms each, and how long after the burst the last values were applied.
func BenchmarkBurstMemory(b *testing.B) {
	s := redistest.Start(b, redistest.WithNotifications())
	type conf struct {
		Msg string `live:"redis=channel:${CH}; format=text; default=none; throttle=50ms"`
		Key string `live:"redis=${KEY}; format=text; default=none; throttle=50ms"`
	}
	bindtest.BurstBench(b, "redis", config(s), func(c *conf) (string, string) { return c.Msg, c.Key }, func() bindtest.BurstRound {
		ch, key := fresh("mem"), fresh("mem:")
		return bindtest.BurstRound{
			Env:  []string{"CH", ch, "KEY", key},
			Warm: func(v string) { s.Cmd("PUBLISH", ch, v) },
			Send: func(n int) {
				burst(b, s.Addr(), n, func(p pipeliner, i int) {
					p.Publish(b.Context(), ch, bindtest.BurstValue('m', i))
					p.Set(b.Context(), key, bindtest.BurstValue('k', i), 0)
				})
			},
		}
	})
}

// BenchmarkCloseStalled measures how long Close takes on a server that
// accepts connections and never answers, 300 ms after the watches began:
// with the driver's own client, and with the user's (go-redis's default
// 5 s ReadTimeout) for channels alone and with a key, whose reads go
// through the user's client.
// Run: go test -run '^$' -bench CloseStalled -benchtime=1x ./sources/redis
func BenchmarkCloseStalled(b *testing.B) {
	addr, release := fixture.SilentServer(b)
	defer release()
	for _, c := range []struct {
		name string
		user bool
		locs []string
	}{
		{"own-client", false, []string{"channel:a", "channel:b", "k"}},
		{"user-client/channels", true, []string{"channel:a", "channel:b"}},
		{"user-client/key", true, []string{"channel:a", "k"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				cfg := lbredis.Config{Options: &goredis.Options{Addr: addr}}
				if c.user {
					client := goredis.NewClient(&goredis.Options{Addr: addr})
					defer client.Close()
					cfg = lbredis.Config{Client: client}
				}
				d := fixture.OpenDriver(b, "redis", cfg)
				for _, loc := range c.locs {
					fixture.Watch(b, d, target(loc, nil), sources.Result{Missing: true}, func(sources.Result) {})
				}
				time.Sleep(300 * time.Millisecond)
				start := time.Now()
				_ = d.Close()
				total += time.Since(start)
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(time.Millisecond), "close-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
