package consul_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/consultest"
	"github.com/livebind/livebind/internal/testenv/fixture"
)

// The benchmarks below use default options only (no ratelimit=, no wait=,
// no Config), as a first-time user would (issue 14, item 7).

type defaultsConfig struct {
	V string `live:"consul=bench/defaults; format=text"`
}

// bindDefaults binds defaultsConfig to a fresh agent and returns the values
// its updates carry.
func bindDefaults(b *testing.B, a *consultest.Agent) (*livebind.Binding[defaultsConfig], <-chan string) {
	b.Helper()
	put(b, a.Client(), "bench/defaults", "start")
	var cfg defaultsConfig
	bd, err := livebind.Bind(b.Context(), &cfg, livebind.WithSourceConfig("consul", a.Client()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bd.Close() })
	got := make(chan string, 1024)
	if _, err := bd.Subscribe(func(u livebind.Update) {
		if s, ok := u.New.(string); ok && u.Kind != livebind.Error {
			got <- s
		}
	}); err != nil {
		b.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the watch is blocking now
	return bd, got
}

// waitValue waits until want arrives on got and returns how long it took
// since start.
func waitValue(b *testing.B, got <-chan string, want string, start time.Time) time.Duration {
	b.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case v := <-got:
			if v == want {
				return time.Since(start)
			}
		case <-deadline:
			b.Fatalf("%q never arrived", want)
		}
	}
}

// measureDefaults binds defaultsConfig to a fresh agent; in benchmark
// iteration i (from 1) it runs before(i), then puts the values of batch(i)
// one by one, waiting for each to arrive and then gap, and reports the
// percentiles of put → update.
func measureDefaults(b *testing.B, before func(a *consultest.Agent, i int), gap time.Duration, batch func(i int) []string) {
	b.Helper()
	a := consultest.Start(b)
	_, got := bindDefaults(b, a)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		before(a, i)
		for _, want := range batch(i) {
			start := time.Now()
			put(b, a.Client(), "bench/defaults", want)
			lat = append(lat, waitValue(b, got, want, start))
			time.Sleep(gap)
		}
	}
	fixture.ReportPercentiles(b, lat)
}

// pauseAfterFirst returns a before function that sleeps d before every
// iteration but the first.
func pauseAfterFirst(d time.Duration) func(*consultest.Agent, int) {
	return func(_ *consultest.Agent, i int) {
		if i > 1 {
			time.Sleep(d)
		}
	}
}

// BenchmarkDefaultsChangesApart: changes one second apart, right after
// Bind. Goal: p99 ≤ 50 ms.
func BenchmarkDefaultsChangesApart(b *testing.B) {
	measureDefaults(b, pauseAfterFirst(time.Second), 0, func(i int) []string {
		return []string{"apart-" + strconv.Itoa(i)}
	})
}

// BenchmarkDefaultsBurst: bursts of five changes 10 ms apart, five
// seconds between bursts (one change a second on average, the sustained
// bound); the latency of every change to its own value.
// Goal: p99 ≤ 50 ms.
func BenchmarkDefaultsBurst(b *testing.B) {
	measureDefaults(b, pauseAfterFirst(5*time.Second), 10*time.Millisecond, func(i int) []string {
		var burst []string
		for k := range 5 {
			burst = append(burst, "burst-"+strconv.Itoa(i)+"-"+strconv.Itoa(k))
		}
		return burst
	})
}

// BenchmarkDefaultsRecovery: the agent restarts (losing its data, so the
// index goes back); a value written right after it is ready must arrive
// within 2 s. Reports the time from the write to the update.
func BenchmarkDefaultsRecovery(b *testing.B) {
	measureDefaults(b, func(a *consultest.Agent, _ int) { a.Restart() }, 0, func(i int) []string {
		return []string{"after-restart-" + strconv.Itoa(i)}
	})
}
