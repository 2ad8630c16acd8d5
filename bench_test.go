package livebind

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// twenty is a 20-field configuration for the Get and Apply benchmarks.
type twenty struct {
	F00 int           `live:"env=F00; poll=1h"`
	F01 int           `live:"env=F01; poll=1h"`
	F02 int           `live:"env=F02; poll=1h"`
	F03 int           `live:"env=F03; poll=1h"`
	F04 int           `live:"env=F04; poll=1h"`
	F05 string        `live:"env=F05; poll=1h"`
	F06 string        `live:"env=F06; poll=1h"`
	F07 string        `live:"env=F07; poll=1h"`
	F08 string        `live:"env=F08; poll=1h"`
	F09 string        `live:"env=F09; poll=1h"`
	F10 bool          `live:"env=F10; poll=1h"`
	F11 bool          `live:"env=F11; poll=1h"`
	F12 bool          `live:"env=F12; poll=1h"`
	F13 bool          `live:"env=F13; poll=1h"`
	F14 bool          `live:"env=F14; poll=1h"`
	F15 time.Duration `live:"env=F15; poll=1h"`
	F16 time.Duration `live:"env=F16; poll=1h"`
	F17 []string      `live:"env=F17; poll=1h"`
	F18 float64       `live:"env=F18; poll=1h"`
	F19 struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	} `live:"env=F19; format=json; poll=1h"`
}

func bindTwenty(b *testing.B) *Binding[twenty] {
	b.Helper()
	env := newEnv("F00", "1", "F05", "x", "F10", "true", "F15", "1s", "F17", "a,b", "F18", "1.5", "F19", `{"host":"h","port":1}`)
	var cfg twenty
	bd, err := Bind(b.Context(), &cfg, WithLookupEnv(env.lookup))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bd.Close() })
	return bd
}

var sinkInt int

func BenchmarkGet(b *testing.B) {
	bd := bindTwenty(b)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt += bd.Get().F00
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			n := 0
			for pb.Next() {
				n += bd.Get().F00
			}
			_ = n
		})
	})
}

// BenchmarkApply measures one field update from a source result through
// decode, no-op check, candidate build, publish and queueing for one
// subscriber, on the 20-field struct. It drives the applier's code on the
// benchmark goroutine: nothing else wakes the applier here (poll=1h).
func BenchmarkApply(b *testing.B) {
	for _, tc := range []struct {
		name, field string
		values      [2]string
	}{
		{name: "int", field: "F00", values: [2]string{"1", "2"}},
		{name: "json-struct", field: "F19", values: [2]string{`{"host":"a","port":1}`, `{"host":"b","port":2}`}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			bd := bindTwenty(b)
			unsub := onChange(bd, func(Update) {})
			defer unsub()
			applyAlternating(b, bd, tc.field, tc.values)
		})
	}
}

// BenchmarkFileWriteToCallback writes a file b.N times, waiting for each
// callback, and reports the write-to-callback latency percentiles with the
// default debounce (100ms). Run with -benchtime=200x for the figure.
func BenchmarkFileWriteToCallback(b *testing.B) {
	dir := b.TempDir()
	path := writeFile(b, dir, "app.toml", "n = 0\n")
	var cfg struct {
		N int `live:"file=${DIR}/app.toml; key=n"`
	}
	bd := mustBind(b, &cfg, WithLookupEnv(newEnv("DIR", dir).lookup))
	got := make(chan time.Time, 1)
	onChange(bd, func(u Update) {
		if u.Kind == Updated {
			got <- time.Now()
		}
	})
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		if err := os.WriteFile(path, []byte("n = "+strconv.Itoa(i)+"\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-got:
			lat = append(lat, at.Sub(start))
		case <-time.After(5 * time.Second):
			b.Fatalf("write %d not seen", i)
		}
	}
	fixture.ReportPercentiles(b, lat)
}

// BenchmarkBindLargeStruct binds 1,000 fields spread over 100 TOML files and
// reports the goroutines and file watchers it costs.
func BenchmarkBindLargeStruct(b *testing.B) {
	dir := b.TempDir()
	for f := range 100 {
		var doc []byte
		for k := range 10 {
			doc = fmt.Appendf(doc, "k%d = %d\n", k, f*10+k)
		}
		writeFile(b, dir, fmt.Sprintf("f%02d.toml", f), string(doc))
	}
	env := newEnv("BENCH_DIR", dir)
	before := runtime.NumGoroutine()
	var extra int
	b.ReportAllocs()
	for b.Loop() {
		var cfg bigStruct
		bd, err := Bind(b.Context(), &cfg, WithLookupEnv(env.lookup))
		if err != nil {
			b.Fatal(err)
		}
		if cfg.F0999 != 999 {
			b.Fatalf("F0999 = %d", cfg.F0999)
		}
		extra = runtime.NumGoroutine() - before
		if err := bd.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(extra), "goroutines")
	_ = filepath.Join
}

// BenchmarkGenerationGraph applies one change to a field with 10 dependants
// (each re-running its update= method) while 5 when= conditions are
// evaluated, through publish.
func BenchmarkGenerationGraph(b *testing.B) {
	env := newEnv("GB_MODE", "on", "GB_BASE", "0")
	var cfg graphBench
	bd := mustBind(b, &cfg, WithLookupEnv(env.lookup))
	applyAlternating(b, bd, "GB_BASE", [2]string{"1", "2"})
	if got := bd.Get(); got.D9 != 9+got.Base || got.C4 != 4 {
		b.Fatalf("wrong result %+v", got)
	}
}

// BenchmarkCondition evaluates one when= expression on a snapshot.
func BenchmarkCondition(b *testing.B) {
	env := newEnv("GB_MODE", "on", "GB_BASE", "0")
	var cfg graphBench
	bd := mustBind(b, &cfg, WithLookupEnv(env.lookup))
	t := bd.conds[0]
	snap := bd.Get()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := bd.evalCondition(t, snap); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// graphBench has one dependency with 10 dependants and 5 conditional
// fields, for BenchmarkGenerationGraph.
type graphBench struct {
	Mode string `live:"env=GB_MODE; poll=1h"`
	Base int    `live:"env=GB_BASE; poll=1h"`
	D0   int    `live:"env=GB_D0; poll=1h; default=0; depends_on=Base; update=SetD0"`
	D1   int    `live:"env=GB_D1; poll=1h; default=1; depends_on=Base; update=SetD1"`
	D2   int    `live:"env=GB_D2; poll=1h; default=2; depends_on=Base; update=SetD2"`
	D3   int    `live:"env=GB_D3; poll=1h; default=3; depends_on=Base; update=SetD3"`
	D4   int    `live:"env=GB_D4; poll=1h; default=4; depends_on=Base; update=SetD4"`
	D5   int    `live:"env=GB_D5; poll=1h; default=5; depends_on=Base; update=SetD5"`
	D6   int    `live:"env=GB_D6; poll=1h; default=6; depends_on=Base; update=SetD6"`
	D7   int    `live:"env=GB_D7; poll=1h; default=7; depends_on=Base; update=SetD7"`
	D8   int    `live:"env=GB_D8; poll=1h; default=8; depends_on=Base; update=SetD8"`
	D9   int    `live:"env=GB_D9; poll=1h; default=9; depends_on=Base; update=SetD9"`
	C0   int    `live:"env=GB_C0; poll=1h; default=0; when=Mode == \"on\" && Base >= 0"`
	C1   int    `live:"env=GB_C1; poll=1h; default=1; when=Mode == \"on\" && Base >= 0"`
	C2   int    `live:"env=GB_C2; poll=1h; default=2; when=Mode == \"on\" && Base >= 0"`
	C3   int    `live:"env=GB_C3; poll=1h; default=3; when=Mode == \"on\" && Base >= 0"`
	C4   int    `live:"env=GB_C4; poll=1h; default=4; when=Mode == \"on\" && Base >= 0"`
}

// SetD0 derives D0 from its source and Base.
func (g *graphBench) SetD0(v int) error { g.D0 = v + g.Base; return nil }

// SetD1 derives D1 from its source and Base.
func (g *graphBench) SetD1(v int) error { g.D1 = v + g.Base; return nil }

// SetD2 derives D2 from its source and Base.
func (g *graphBench) SetD2(v int) error { g.D2 = v + g.Base; return nil }

// SetD3 derives D3 from its source and Base.
func (g *graphBench) SetD3(v int) error { g.D3 = v + g.Base; return nil }

// SetD4 derives D4 from its source and Base.
func (g *graphBench) SetD4(v int) error { g.D4 = v + g.Base; return nil }

// SetD5 derives D5 from its source and Base.
func (g *graphBench) SetD5(v int) error { g.D5 = v + g.Base; return nil }

// SetD6 derives D6 from its source and Base.
func (g *graphBench) SetD6(v int) error { g.D6 = v + g.Base; return nil }

// SetD7 derives D7 from its source and Base.
func (g *graphBench) SetD7(v int) error { g.D7 = v + g.Base; return nil }

// SetD8 derives D8 from its source and Base.
func (g *graphBench) SetD8(v int) error { g.D8 = v + g.Base; return nil }

// SetD9 derives D9 from its source and Base.
func (g *graphBench) SetD9(v int) error { g.D9 = v + g.Base; return nil }

// applyAlternating applies, in each benchmark iteration, the next of two
// values alternately as a result of the target at location (straight to the
// applier, without a driver), reporting allocations.
func applyAlternating[T any](b *testing.B, bd *Binding[T], location string, values [2]string) {
	b.Helper()
	var t *target
	for _, tg := range bd.targets {
		if tg.spec.Location == location {
			t = tg
		}
	}
	results := [2]sources.Result{{Data: []byte(values[0])}, {Data: []byte(values[1])}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := bd.apply(t.observe(results[i%2])); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStalledSubscriberPush measures queueing one update for a
// subscriber that stopped reading and sits at its buffer, so that every
// push drops the oldest event: the cost a stalled subscriber adds to each
// publish. The array starts exactly as large as the buffer, the worst case
// for moving events to the front. moved/push counts the events moved.
func BenchmarkStalledSubscriberPush(b *testing.B) {
	for _, limit := range []int{DefaultBuffer, 4096} {
		b.Run(strconv.Itoa(limit), func(b *testing.B) {
			sub := &subscriber{buffer: limit}
			sub.queue.buf = make([]event, 0, limit)
			for g := range uint64(limit) {
				sub.push(&event{u: Update{Gen: g}})
			}
			ev := &event{u: Update{Gen: uint64(limit)}}
			moved := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				second := &sub.queue.pending()[1]
				sub.push(ev)
				if &sub.queue.pending()[0] != second {
					moved += limit - 1
				}
			}
			b.ReportMetric(float64(moved)/float64(b.N), "moved/push")
		})
	}
}
