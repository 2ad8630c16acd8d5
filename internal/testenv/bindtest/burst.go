package bindtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
)

// BurstN is the size of a [PairBurst]: messages, and writes of a key.
const BurstN = 10_000

// BurstValue is the i-th value of a [PairBurst] of kind 'm' (a message)
// or 'k' (a key write): "m00042".
func BurstValue(kind byte, i int) string { return fmt.Sprintf("%c%05d", kind, i) }

// PairBurst runs send(BurstN), which sends BurstN messages and BurstN
// writes of a key (the i-th of each is BurstValue('m', i) and
// BurstValue('k', i)) to b, whose fields last reports; it returns the
// heap's peak growth while sending, and how long after the burst both
// fields held the last values. It fails the test when they never do
// within WaitFor.
func PairBurst[T any](tb testing.TB, b *livebind.Binding[T], last func(*T) (msg, key string), send func(n int)) (peak uint64, settled time.Duration) {
	tb.Helper()
	peak = fixture.HeapPeak(func() { send(BurstN) })
	start := time.Now()
	for {
		msg, key := last(b.Get())
		if msg == BurstValue('m', BurstN-1) && key == BurstValue('k', BurstN-1) {
			return peak, time.Since(start)
		}
		if time.Since(start) > WaitFor {
			tb.Fatalf("bindtest: the last message and write never became the values (have %q, %q)", msg, key)
		}
		time.Sleep(time.Millisecond)
	}
}

// Coalesced checks the outcome of a [PairBurst] through throttle= to a
// slow subscriber that saw updates: far fewer updates than values (under
// a tenth), and a heap that grew by less than 32 MiB at its peak.
func Coalesced(t *testing.T, updates int64, peak uint64) {
	t.Helper()
	t.Logf("updates: %d for %d messages and %d writes; heap growth peak %.1f MiB", updates, BurstN, BurstN, float64(peak)/(1<<20))
	if updates >= BurstN/10 {
		t.Fatalf("bindtest: %d updates; want the burst coalesced below %d", updates, BurstN/10)
	}
	if peak >= 32<<20 {
		t.Fatalf("bindtest: the heap grew by %d bytes; want it bounded below 32 MiB", peak)
	}
}

// ReportBurst reports a [PairBurst]'s heap peak growth, the updates a slow
// subscriber saw, and how long the last values took to land.
func ReportBurst(b *testing.B, peak uint64, updates int64, settled time.Duration) {
	b.Helper()
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(updates), "updates")
	b.ReportMetric(float64(settled.Microseconds())/1000, "settle-ms")
}

// Writer is one way to change a watched value for [PublishLatency]: a
// location for the tag's ${LOC} and a write to it.
type Writer struct {
	// Name names the sub-benchmark.
	Name string
	// Loc is the location the field's tag reads as ${LOC}.
	Loc string
	// Write changes the value at Loc to v.
	Write func(ctx context.Context, v string) error
}

// PublishLatency runs a sub-benchmark per writer: it binds T (a text field
// on ${LOC}) with the source config cfg of scheme, and reports the
// percentiles of the latency from a write to the Subscribe callback that
// reports it.
func PublishLatency[T any](b *testing.B, scheme string, cfg any, writers ...Writer) {
	b.Helper()
	for _, w := range writers {
		b.Run(w.Name, func(b *testing.B) {
			_, got := Strings[T](b, nil, livebind.WithSourceConfig(scheme, cfg), livebind.WithLookupEnv(fixture.NewEnv("LOC", w.Loc).Lookup))
			write := func(v string) {
				if err := w.Write(b.Context(), v); err != nil {
					b.Fatal(err)
				}
			}
			fixture.Heard(b, got, write)
			fixture.ReportPercentiles(b, fixture.Latencies(b, got, write, WaitFor))
		})
	}
}
