package nats_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/natstest"
)

// BenchmarkPublishToCallback measures the latency from a write (a put of a
// watched entry, a publish on a subject) to the Subscribe callback that
// reports it, through a real nats-server and livebind. Goal: p99 ≤ 10 ms.
// Run: go test -run '^$' -bench PublishToCallback -benchtime=500x ./sources/nats
func BenchmarkPublishToCallback(b *testing.B) {
	s, nc, kv := startBucket(b, "bench")
	type conf struct {
		V string `live:"nats=${LOC}; format=text; default=none"`
	}
	bindtest.PublishLatency[conf](b, "nats", config(s),
		bindtest.Writer{Name: "entry", Loc: "bench/entry", Write: func(ctx context.Context, v string) error {
			_, err := kv.PutString(ctx, "entry", v)
			return err
		}},
		bindtest.Writer{Name: "subject", Loc: "subject:bench.subject", Write: func(_ context.Context, v string) error {
			return nc.Publish("bench.subject", []byte(v))
		}})
}

// BenchmarkReconnect measures how long after a killed server is back
// (Restart returns once /healthz answers with JetStream) a value put to it
// by a new client reaches the callback: the driver's reconnection, a new
// key-value watcher and its first update.
func BenchmarkReconnect(b *testing.B) {
	s := natstest.Start(b)
	_, js := client(b, s)
	if _, err := bucket(b, js, "reconnect").PutString(b.Context(), "app", "start"); err != nil {
		b.Fatal(err)
	}
	type conf struct {
		V string `live:"nats=reconnect/app; format=text"`
	}
	_, got := bindtest.SchemeStrings[conf](b, "nats", config(s), nil)
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		i++
		s.Kill()
		time.Sleep(50 * time.Millisecond)
		s.Restart()
		start := time.Now()
		want := "after-restart-" + strconv.Itoa(i)
		putFresh(b, s, "reconnect", "app", want)
		fixture.Await(b, got, want, settle)
		lat = append(lat, time.Since(start))
	}
	fixture.ReportPercentiles(b, lat)
}

// putFresh puts value at bucket/key through a new connection.
func putFresh(b *testing.B, s *natstest.Server, bucket, key, value string) {
	b.Helper()
	nc, err := options(s).Connect()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	kv, err := js.KeyValue(ctx(b), bucket)
	if err == nil {
		_, err = kv.PutString(ctx(b), key, value)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// idleEntries are five entry fields, and idleSubjects five subject
// fields, that nothing changes.
type (
	idleEntries struct {
		K0 string `live:"nats=idle/k0; format=text; default=x"`
		K1 string `live:"nats=idle/k1; format=text; default=x"`
		K2 string `live:"nats=idle/k2; format=text; default=x"`
		K3 string `live:"nats=idle/k3; format=text; default=x"`
		K4 string `live:"nats=idle/k4; format=text; default=x"`
	}
	idleSubjects struct {
		S0 string `live:"nats=subject:idle.s0; format=text; default=x"`
		S1 string `live:"nats=subject:idle.s1; format=text; default=x"`
		S2 string `live:"nats=subject:idle.s2; format=text; default=x"`
		S3 string `live:"nats=subject:idle.s3; format=text; default=x"`
		S4 string `live:"nats=subject:idle.s4; format=text; default=x"`
	}
)

// BenchmarkIdleCost counts the messages between nats-server and the
// driver's connection (the server's /connz in_msgs + out_msgs: the
// JetStream heartbeats of key-value watchers and any request) for 5 bound
// entries, then 5 bound subjects, that nothing changes, over 12 s, and
// reports them per field per minute. Protocol PINGs are not messages: the
// client sends one per connection every 2 minutes (nats.go's default
// PingInterval), shared by every field.
func BenchmarkIdleCost(b *testing.B) {
	s := natstest.Start(b)
	_, js := client(b, s)
	bucket(b, js, "idle")
	b.Run("entry", func(b *testing.B) { idleCost[idleEntries](b, s) })
	b.Run("subject", func(b *testing.B) { idleCost[idleSubjects](b, s) })
}

func idleCost[T any](b *testing.B, s *natstest.Server) {
	b.Helper()
	const fields, window = 5, 12 * time.Second
	cfg := config(s)
	cfg.Options.Name = "livebind-idle"
	for b.Loop() {
		var dst T
		bd, err := livebind.Bind(b.Context(), &dst, livebind.WithSourceConfig("nats", cfg))
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second) // past the watchers' start
		before := messages(b, s, cfg.Options.Name)
		time.Sleep(window)
		n := messages(b, s, cfg.Options.Name) - before
		_ = bd.Close()
		b.ReportMetric(float64(n)/fields*float64(time.Minute)/float64(window), "msgs/field/min")
	}
}

// messages returns in_msgs + out_msgs of the connection named name.
func messages(b *testing.B, s *natstest.Server, name string) int64 {
	b.Helper()
	body, err := s.Monitor(b.Context(), "/connz")
	if err != nil {
		b.Fatal(err)
	}
	var connz struct {
		Connections []struct {
			Name    string `json:"name"`
			InMsgs  int64  `json:"in_msgs"`
			OutMsgs int64  `json:"out_msgs"`
		} `json:"connections"`
	}
	if err := json.Unmarshal(body, &connz); err != nil {
		b.Fatal(err)
	}
	for _, c := range connz.Connections {
		if c.Name == name {
			return c.InMsgs + c.OutMsgs
		}
	}
	b.Fatalf("no connection named %s in /connz", name)
	return 0
}

// BenchmarkBurstMemory publishes 10,000 messages on a subject and puts an
// entry 10,000 times, both bound with throttle=50ms, and reports the
// heap's peak growth meanwhile, the updates that reached a subscriber that
// takes 1 ms each, and how long after the burst the last values were
// applied.
func BenchmarkBurstMemory(b *testing.B) {
	s, nc, kv := startBucket(b, "mem")
	type conf struct {
		Msg string `live:"nats=subject:${SUBJ}; format=text; default=none; throttle=50ms"`
		Key string `live:"nats=mem/${KEY}; format=text; default=none; throttle=50ms"`
	}
	bindtest.BurstBench(b, "nats", config(s), func(c *conf) (string, string) { return c.Msg, c.Key }, func() bindtest.BurstRound {
		subj, key := fresh("mem.s"), fresh("k")
		return bindtest.BurstRound{
			Env:  []string{"SUBJ", subj, "KEY", key},
			Warm: func(v string) { _ = nc.Publish(subj, []byte(v)) },
			Send: func(n int) {
				for i := range n {
					_ = nc.Publish(subj, []byte(bindtest.BurstValue('m', i)))
					if _, err := kv.PutString(b.Context(), key, bindtest.BurstValue('k', i)); err != nil {
						b.Fatal(err)
					}
				}
			},
		}
	})
}
