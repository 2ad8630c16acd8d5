package file

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// BenchmarkWriteToEmit measures the latency from a file write to the emit of
// its new content with the default debounce, which dominates it. Writes are
// spaced by more than the debounce so that each one is read on its own.
func BenchmarkWriteToEmit(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.toml")
	writeFile(b, path, v1)
	w, _ := startWatch(b, openDriver(b), target(path))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		content := fmt.Sprintf("n = \"%d\"\n", i)
		start := time.Now()
		writeFile(b, path, content)
		w.wantData(b, content)
		lat = append(lat, time.Since(start))
		b.StopTimer()
		time.Sleep(DefaultDebounce / 2)
		b.StartTimer()
	}
	b.StopTimer()
	fixture.ReportPercentiles(b, lat)
}
