package consul_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
)

// BenchmarkPutToCallback measures the latency from a PUT to the Subscribe
// callback that reports it, through a real agent and livebind, with
// ratelimit=1ms (the benchmark puts back to back, which the default rate
// limit would deliberately slow to one read every 15s). It reports p50-ms
// and p99-ms. Run: go test -run '^$' -bench PutToCallback -benchtime=200x
// ./sources/consul
func BenchmarkPutToCallback(b *testing.B) {
	_, client := agentWith(b, "bench/v", "start")
	type config struct {
		V string `live:"consul=bench/v; format=text; ratelimit=1ms"`
	}
	var cfg config
	bd, err := livebind.Bind(b.Context(), &cfg, livebind.WithSourceConfig("consul", client))
	if err != nil {
		b.Fatal(err)
	}
	defer bd.Close()
	got := make(chan string, 16)
	if _, err := bd.Subscribe(func(u livebind.Update) {
		if s, ok := u.New.(string); ok {
			got <- s
		}
	}); err != nil {
		b.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the watch is blocking now
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		want := "v" + strconv.Itoa(i)
		start := time.Now()
		put(b, client, "bench/v", want)
		for v := range got {
			if v == want {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	fixture.ReportPercentiles(b, lat)
}
