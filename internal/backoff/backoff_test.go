package backoff

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wantIn checks that d lies in [lo, hi).
func wantIn(t *testing.T, i int, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d >= hi {
		t.Fatalf("wait %d = %v, want in [%v, %v)", i, d, lo, hi)
	}
}

func TestNextBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		base, max time.Duration
		bounds    []time.Duration // upper bound of each wait; the lower is half of it
	}{
		{"doubles to the cap", time.Second, 5 * time.Second, []time.Duration{1e9, 2e9, 4e9, 5e9, 5e9, 5e9}},
		{"zero value uses the defaults", 0, 0, []time.Duration{DefaultBase, 2 * DefaultBase, 4 * DefaultBase}},
		{"max below base", time.Second, time.Millisecond, []time.Duration{1e9, 1e9, 1e9}},
		{"exact power", 10 * time.Millisecond, 40 * time.Millisecond, []time.Duration{10e6, 20e6, 40e6, 40e6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := Backoff{Base: tt.base, Max: tt.max, Rand: rand.New(rand.NewPCG(1, 2))}
			for range 3 {
				for i, hi := range tt.bounds {
					wantIn(t, i, b.Next(), hi/2, hi)
				}
				b.Reset()
			}
		})
	}
}

// The sequence never gives up: after many failures it stays at the cap.
func TestNoGiveUp(t *testing.T) {
	t.Parallel()
	b := Backoff{Base: time.Millisecond, Max: time.Minute}
	for i := range 10_000 {
		d := b.Next()
		if i > 20 {
			wantIn(t, i, d, 30*time.Second, time.Minute)
		}
	}
}

func TestHugeCapDoesNotOverflow(t *testing.T) {
	t.Parallel()
	b := Backoff{Base: time.Hour, Max: math.MaxInt64}
	for i := range 200 {
		if d := b.Next(); d < time.Hour/2 {
			t.Fatalf("wait %d = %v: overflowed", i, d)
		}
	}
}

// The jitter spreads waits over [d/2, d): with a seeded source the same
// sequence repeats, and the waits are not all equal.
func TestJitter(t *testing.T) {
	t.Parallel()
	seq := func() []time.Duration {
		b := Backoff{Base: time.Second, Max: time.Second, Rand: rand.New(rand.NewPCG(7, 7))}
		out := make([]time.Duration, 100)
		for i := range out {
			out[i] = b.Next()
		}
		return out
	}
	a, c := seq(), seq()
	distinct := map[time.Duration]bool{}
	var lo, hi int
	for i := range a {
		if a[i] != c[i] {
			t.Fatalf("seeded sequences differ at %d: %v != %v", i, a[i], c[i])
		}
		distinct[a[i]] = true
		if a[i] < 750*time.Millisecond {
			lo++
		} else {
			hi++
		}
	}
	if len(distinct) < 90 {
		t.Fatalf("only %d distinct waits out of 100", len(distinct))
	}
	if lo < 20 || hi < 20 {
		t.Fatalf("jitter is lopsided: %d below and %d above the middle", lo, hi)
	}
}

func TestGlobalSource(t *testing.T) {
	t.Parallel()
	var b Backoff
	wantIn(t, 0, b.Next(), DefaultBase/2, DefaultBase)
}
