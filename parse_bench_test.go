package livebind

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	burntsushi "github.com/BurntSushi/toml"
	pelletier "github.com/pelletier/go-toml/v2"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/docguard"
	"github.com/livebind/livebind/internal/testenv/childtest"
)

// capBytes is the default document size cap of the file and http sources.
const capBytes = 16 << 20

// rawBytes is the size of the hostile documents fed to the TOML parsers
// without the guard: BurntSushi/toml needs seconds and gigabytes for a
// 16 KiB dotted key, so larger raw documents would not finish.
const rawBytes = 8 << 10

// BenchmarkHostileParse parses generated hostile documents.
//
//   - guarded/FORMAT/SHAPE: the path Bind uses (parseDoc: guard, then
//     parser) on documents of the size cap, 16 MiB.
//   - burntsushi/toml/SHAPE and pelletier/toml/SHAPE: each TOML parser alone,
//     without the guard, on rawBytes documents and on the worst documents
//     the guard lets through (the "limit-" shapes, full size).
//
// Metrics: ns/op, and peak-MiB, the most heap in use above the level before
// the run (sampled every millisecond, so a lower bound on short peaks), and
// alloc-MiB/op, the bytes allocated per parse (an upper bound on the extra
// heap). The shapes that could kill a process run in a watched child in
// TestHostileDocuments first; none of the raw documents nests deeper than
// rawBytes, far from a stack overflow.
func BenchmarkHostileParse(b *testing.B) {
	for _, d := range append(hostileDocs(capBytes), tomlAtLimits()...) {
		b.Run("guarded/"+d.format+"/"+d.shape, func(b *testing.B) {
			benchParse(b, len(d.data), func() error { _, err := parseDoc(d.format, d.data); return err })
		})
	}
	for _, p := range rawTOMLParsers {
		for _, d := range rawTOMLDocs() {
			b.Run(p.name+"/toml/"+d.shape, func(b *testing.B) {
				benchParse(b, len(d.data), func() error { return p.parse(d.data) })
			})
		}
	}
}

// rawTOMLParsers are the TOML parsers compared, called without the guard.
var rawTOMLParsers = []struct {
	name  string
	parse func([]byte) error
}{
	{"burntsushi", func(data []byte) error { var m map[string]any; return burntsushi.Unmarshal(data, &m) }},
	{"pelletier", func(data []byte) error { var m map[string]any; return pelletier.Unmarshal(data, &m) }},
}

// rawTOMLDocs are the TOML documents the parsers are compared on.
func rawTOMLDocs() []hostileDoc {
	var docs []hostileDoc
	for _, d := range hostileDocs(rawBytes) {
		if d.format == formatTOML {
			docs = append(docs, d)
		}
	}
	return append(docs, tomlAtLimits()...)
}

// TestRawTOMLParsersSurvive runs the unguarded comparison of
// BenchmarkHostileParse in a watched child first: each parser must finish
// every document (with a value or an error) without killing the process.
func TestRawTOMLParsersSurvive(t *testing.T) {
	t.Parallel()
	res := childtest.Run(t, childtest.Limits{Timeout: 3 * time.Minute, Heap: 3 << 30}, func(t *testing.T) {
		t.Helper()
		for _, p := range rawTOMLParsers {
			for _, d := range rawTOMLDocs() {
				start := time.Now()
				err := p.parse(d.data)
				t.Logf("%s/%s: %v: %s", p.name, d.shape, time.Since(start).Round(time.Millisecond), truncErr(err))
			}
		}
	})
	require.True(t, res.OK(), "child: %s", res)
}

// tomlAtLimits are the costliest TOML documents the guard lets through.
func tomlAtLimits() []hostileDoc {
	const depth = docguard.MaxDepth - 2
	perLine := depth + 1 // keys in one line of nested inline tables
	lines := docguard.MaxTOMLKeys / perLine
	var b strings.Builder
	for i := range lines {
		fmt.Fprintf(&b, "k%d = %s\n", i, nest("{a = ", "}", "1", depth))
	}
	inline := []byte(b.String())
	b.Reset()
	for i := range docguard.MaxTOMLKeys / depth { // depth segments a line
		fmt.Fprintf(&b, "k%d.%sa = 1\n", i, strings.Repeat("a.", depth-2))
	}
	dotted := []byte(b.String())
	return []hostileDoc{
		{format: formatTOML, shape: "limit-keys", data: []byte(tomlKeys(docguard.MaxTOMLKeys))},
		{format: formatTOML, shape: "limit-items", data: []byte("a = [" + strings.Repeat("1,", docguard.MaxItems-3) + "1]\n")},
		{format: formatTOML, shape: "limit-depth-inline-tables", data: inline},
		{format: formatTOML, shape: "limit-depth-dotted-keys", data: dotted},
		{format: formatTOML, shape: "limit-size-string", data: []byte("s = \"" + strings.Repeat("x", capBytes-8) + "\"\n")},
	}
}

// benchParse runs parse b.N times and reports the heap metrics.
func benchParse(b *testing.B, size int, parse func() error) {
	b.Helper()
	b.SetBytes(int64(size))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithCancel(b.Context())
	peak := samplePeak(ctx)
	b.ResetTimer()
	var err error
	for b.Loop() {
		err = parse()
	}
	b.StopTimer()
	cancel()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	top := peak()
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
	b.ReportMetric(float64(top-min(top, before.HeapAlloc))/(1<<20), "peak-MiB")
	if err != nil {
		b.Logf("%s", truncErr(err))
	}
}

// samplePeak samples the heap in use every millisecond until ctx ends; the
// returned function waits for the sampler and returns the highest sample.
func samplePeak(ctx context.Context) func() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var top uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			top = max(top, s[0].Value.Uint64())
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { wg.Wait(); return top }
}
