package metrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bigconfig"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/metrics"
)

// BenchmarkScrape1000Fields measures one scrape of a binding of 1,000
// fields over 100 sources (2,000 field series, 700 source series): Gather
// alone, and the promhttp handler that also encodes the text format; and
// Binding.Status, the copy each scrape makes under livebind's status lock.
func BenchmarkScrape1000Fields(b *testing.B) {
	dir := b.TempDir()
	if err := bigconfig.WriteFiles(dir); err != nil {
		b.Fatal(err)
	}
	var cfg bigconfig.Config
	bd, err := livebind.Bind(b.Context(), &cfg, livebind.WithLookupEnv(bigconfig.Lookup(dir)))
	if err != nil {
		b.Fatal(err)
	}
	defer bd.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(bd))

	b.Run("status", func(b *testing.B) { // the part that holds livebind's status lock
		b.ReportAllocs()
		for b.Loop() {
			_ = bd.Status()
		}
	})
	b.Run("gather", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reg.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("promhttp", func(b *testing.B) {
		fixture.BenchGet(b, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), "/metrics")
	})
}
