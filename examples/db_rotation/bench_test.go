package main

import (
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/baotest"
)

// BenchmarkQueryLatency reports query latency p50 and p99 while the
// credentials rotate (from 1 s before a new pool is published to 1 s
// after) against steady state, with 4 workers querying every 2 ms through
// the bound pool, and the failed queries (the goal is 0). Leases of 2 s
// capped at 4 s rotate about every 3.6 s; a run lasts b.N rotations
// (-benchtime=1x: one, about 5 s), or LIVEBIND_DB_ROTATIONS if larger.
func BenchmarkQueryLatency(b *testing.B) {
	want := b.N
	if n, err := strconv.Atoi(os.Getenv("LIVEBIND_DB_ROTATIONS")); err == nil {
		want = max(want, n)
	}
	s := startServers(b, 2*time.Second, 4*time.Second)
	o := s.options(b, s.client(b, baotest.RootToken))
	o.Out = io.Discard
	a := s.start(b, o)
	b.ResetTimer()
	deadline := time.Now().Add(time.Duration(want)*5*time.Second + 10*time.Second)
	for a.Rotations() < want {
		require.True(b, time.Now().Before(deadline), "only %d of %d rotations", a.Rotations(), want)
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1100 * time.Millisecond) // the last rotation's window
	b.StopTimer()
	r, err := a.Stop()
	require.NoError(b, err)
	b.Logf("%s", r)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(r.Steady.P50), "steady-p50-us")
	b.ReportMetric(us(r.Steady.P99), "steady-p99-us")
	b.ReportMetric(us(r.Rotating.P50), "rotating-p50-us")
	b.ReportMetric(us(r.Rotating.P99), "rotating-p99-us")
	b.ReportMetric(float64(r.Failed), "failed-queries")
	b.ReportMetric(float64(r.Rotations), "rotations")
	b.ReportMetric(0, "ns/op")
}
