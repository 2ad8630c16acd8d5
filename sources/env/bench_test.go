package env

import (
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// BenchmarkSetToEmit measures, at the default poll, the time from a change
// of a variable to the driver reporting it (issue 14: sub-second env
// updates by default).
func BenchmarkSetToEmit(b *testing.B) {
	e := fixture.NewEnv("V", "0")
	d := openDriver(b, e)
	rec := newRecorder()
	stop, err := d.Watch(target("V", 0), d.Read(b.Context(), target("V", 0)), rec.Add)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		want := strconv.Itoa(i)
		start := time.Now()
		e.Set("V", want)
		for {
			r := rec.Next(b, 5*time.Second)
			if string(r.Data) == want {
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkIdleCost measures what 100 idle env fields at the default poll
// cost the process: CPU time per second of wall time and lookups per second.
func BenchmarkIdleCost(b *testing.B) {
	e := fixture.NewEnv()
	d := openDriver(b, e)
	const n = 100
	for k := range n {
		name := "IDLE_" + strconv.Itoa(k)
		e.Set(name, "value")
		stop, err := d.Watch(target(name, 0), d.Read(b.Context(), target(name, 0)), func(sources.Result) {})
		if err != nil {
			b.Fatal(err)
		}
		defer stop()
	}
	before, lookups := cpuTime(), totalLookups(e, n)
	start := time.Now()
	for b.Loop() {
		time.Sleep(200 * time.Millisecond)
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64((cpuTime()-before).Microseconds())/wall, "cpu-µs/s")
	b.ReportMetric(float64(totalLookups(e, n)-lookups)/wall, "lookups/s")
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// totalLookups sums the lookups of the n idle variables.
func totalLookups(e *fixture.Env, n int) int {
	sum := 0
	for k := range n {
		sum += e.Lookups("IDLE_" + strconv.Itoa(k))
	}
	return sum
}
