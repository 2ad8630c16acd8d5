package sse_test

import (
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
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
	return bindtest.PushInts[T](b, "sse", h.PushServer, "/bench", `{"a":-1}`, cfg, env...)
}

// BenchmarkPublishToCallback: an event sent by the server to the
// Subscribe callback that reports it, through livebind. Goal: p99 ≤ 10 ms.
func BenchmarkPublishToCallback(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[benchConfig](b, h, sse.Config{})
	bindtest.Latency(b, got, func(doc string) { h.set("/bench", doc) })
}

// BenchmarkReconnect: the server ends every stream, changes the document
// while down for 50ms and starts again; measured from the restart to the
// callback that reports the new document, with the default reconnection
// time (DefaultRetry: the server sends no retry:).
func BenchmarkReconnect(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[benchConfig](b, h, sse.Config{})
	bindtest.Latency(b, got, func(doc string) {
		h.restart(b, 50*time.Millisecond, func() { h.set("/bench", doc) })
	})
}

// BenchmarkIdle: what one bound field costs while nothing changes,
// counted on the server over a 3 s window and scaled to a minute: requests
// and events. The client sends nothing on an open stream.
func BenchmarkIdle(b *testing.B) {
	h := newHub(b)
	bindBench[benchConfig](b, h, sse.Config{})
	bindtest.IdleRates(b, 2, bindtest.Rate{Unit: "requests/min", Count: &h.requests}, bindtest.Rate{Unit: "events/min", Count: &h.frames})
}

// BenchmarkBurstMemory: 10,000 events of about 220 bytes sent at once to
// a field with throttle=50ms and a slow callback; reports the peak heap in
// use above the baseline while the burst is applied, and how many updates
// the callback saw.
func BenchmarkBurstMemory(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[burstConfig](b, h, fastConfig())
	bindtest.BurstMemory(b, got, func(doc string) { h.set("/bench", doc) })
}
