package ws_test

import (
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/sources/ws"
)

type benchConfig struct {
	A int `live:"ws=${WS}; key=a; format=json; ping=${PING:-30s}"`
}

type burstConfig struct {
	A int `live:"ws=${WS}; key=a; format=json; throttle=50ms"`
}

// bindBench binds T to the hub's /bench with the source config cfg and
// returns a channel of every new value of A.
func bindBench[T any](b *testing.B, h *hub, cfg ws.Config, env ...string) (*livebind.Binding[T], <-chan int) {
	b.Helper()
	return bindtest.PushInts[T](b, "ws", h.PushServer, "/bench", `{"a":-1}`, cfg, env...)
}

// BenchmarkPublishToCallback: a message sent by the server to the
// Subscribe callback that reports it, through livebind. Goal: p99 ≤ 10 ms.
func BenchmarkPublishToCallback(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[benchConfig](b, h, ws.Config{})
	bindtest.Latency(b, got, func(doc string) { h.Set("/bench", []byte(doc)) })
}

// BenchmarkReconnect: the server drops every connection (no closing
// handshake), changes the document while down for 50ms and starts again;
// measured from the restart to the callback that reports the new
// document, with the default backoff (DefaultMinBackoff).
func BenchmarkReconnect(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[benchConfig](b, h, ws.Config{})
	bindtest.Latency(b, got, func(doc string) {
		h.restart(b, 0, 50*time.Millisecond, func() { h.Set("/bench", []byte(doc)) })
	})
}

// BenchmarkIdle: what one bound field costs while nothing changes,
// counted on the server over a 3 s window and scaled to a minute:
// handshakes, data messages and keepalive pings, at ping=1s and at the
// default ping (30s, measured over the same window).
func BenchmarkIdle(b *testing.B) {
	for _, ping := range []string{"1s", "30s"} {
		b.Run("ping="+ping, func(b *testing.B) {
			h := newHub(b)
			bindBench[benchConfig](b, h, ws.Config{}, "PING", ping)
			bindtest.IdleRates(b, 2, bindtest.Rate{Unit: "handshakes/min", Count: &h.handshakes},
				bindtest.Rate{Unit: "messages/min", Count: &h.frames}, bindtest.Rate{Unit: "pings/min", Count: &h.pings})
		})
	}
}

// BenchmarkBurstMemory: 10,000 messages of about 220 bytes sent at once to
// a field with throttle=50ms and a slow callback; reports the peak heap in
// use above the baseline while the burst is applied, and how many updates
// the callback saw.
func BenchmarkBurstMemory(b *testing.B) {
	h := newHub(b)
	_, got := bindBench[burstConfig](b, h, fastConfig())
	bindtest.BurstMemory(b, got, func(doc string) { h.Set("/bench", []byte(doc)) })
}
