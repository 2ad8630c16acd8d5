package sse_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources/sse"
)

type benchConfig struct {
	A int `live:"sse=${SSE}; key=a; format=json"`
}

type burstConfig struct {
	A int `live:"sse=${SSE}; key=a; format=json; throttle=50ms"`
}

// bindBench binds T to the hub's /bench with the source config cfg and
// returns a channel of every new value of A.
func bindBench[T any](b *testing.B, h *hub, cfg sse.Config, env ...string) (*livebind.Binding[T], <-chan int) {
	b.Helper()
	h.set("/bench", `{"a":-1}`)
	var c T
	bd, err := livebind.Bind(b.Context(), &c,
		livebind.WithLookupEnv(fixture.NewEnv(append([]string{"SSE", h.url("/bench")}, env...)...).Lookup),
		livebind.WithSourceConfig("sse", cfg))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bd.Close() })
	got := make(chan int, 1<<14)
	if _, err := bd.Subscribe(func(u livebind.Update) {
		if v, ok := u.New.(int); ok {
			got <- v
		}
	}); err != nil {
		b.Fatal(err)
	}
	return bd, got
}

// await waits for value want on got.
func await(b *testing.B, got <-chan int, want int) {
	b.Helper()
	fixture.Await(b, got, want, 10*time.Second)
}

// BenchmarkPublishToCallback: an event sent by the server to the
// Subscribe callback that reports it, through livebind. Goal: p99 ≤ 10 ms.
func BenchmarkPublishToCallback(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[benchConfig](b, h, sse.Config{})
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		h.set("/bench", fmt.Sprintf(`{"a":%d}`, i))
		await(b, got, i)
		lat = append(lat, time.Since(start))
	}
	fixture.ReportPercentiles(b, lat)
}

// BenchmarkReconnect: the server ends every stream, changes the document
// while down for 50ms and starts again; measured from the restart to the
// callback that reports the new document, with the default reconnection
// time (DefaultRetry: the server sends no retry:).
func BenchmarkReconnect(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[benchConfig](b, h, sse.Config{})
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		i++
		doc := fmt.Sprintf(`{"a":%d}`, i)
		start := time.Now()
		h.restart(b, 50*time.Millisecond, func() { h.set("/bench", doc) })
		await(b, got, i)
		lat = append(lat, time.Since(start))
	}
	fixture.ReportPercentiles(b, lat)
}

// BenchmarkIdle: what one bound field costs while nothing changes,
// counted on the server over a 3 s window and scaled to a minute: requests
// and events. The client sends nothing on an open stream.
func BenchmarkIdle(b *testing.B) {
	h := newHub(b)
	bindBench[benchConfig](b, h, sse.Config{})
	for i := 0; i < 500 && (h.requests.Load() < 2 || h.frames.Load() < 2); i++ { // Bind's Read, then the watch
		time.Sleep(10 * time.Millisecond)
	}
	const window = 3 * time.Second
	var reqs, frames int64
	for b.Loop() {
		r0, f0 := h.requests.Load(), h.frames.Load()
		time.Sleep(window)
		reqs, frames = h.requests.Load()-r0, h.frames.Load()-f0
	}
	scale := float64(time.Minute) / float64(window)
	b.ReportMetric(float64(reqs)*scale, "requests/min")
	b.ReportMetric(float64(frames)*scale, "events/min")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkBurstMemory: 10,000 events of about 220 bytes sent at once to
// a field with throttle=50ms and a slow callback; reports the peak heap in
// use above the baseline while the burst is applied, and how many updates
// the callback saw.
func BenchmarkBurstMemory(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[burstConfig](b, h, fastConfig())
	const n = 10000
	msgs := make([]string, n)
	var peak, updates atomic.Int64
	round := 0
	for b.Loop() {
		round++
		for i := range msgs {
			msgs[i] = fmt.Sprintf(`{"a":%d,"pad":%q}`, round*n+i, strings.Repeat("p", 200))
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := fixture.SampleHeap(&peak, base.HeapInuse)
		for _, m := range msgs {
			h.set("/bench", m)
		}
		slow := func() { time.Sleep(time.Millisecond) } // a slow consumer
		updates.Add(int64(fixture.DrainUntil(b, got, round*n+n-1, 20*time.Second, slow)))
		stop()
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(updates.Load())/float64(round), "updates/burst")
	b.ReportMetric(0, "ns/op")
}
