// Package metrics exports a [livebind.Binding]'s figures to Prometheus.
//
//	c := metrics.NewCollector(b)
//	prometheus.MustRegister(c)
//	http.Handle("/metrics", promhttp.Handler())
//
// Every counter and gauge is read from [livebind.Binding.Status] when the
// registry is scraped, so the collector costs nothing between scrapes and
// the figures are the ones the status page shows; the core livebind package
// does not import Prometheus. Label values are the field paths and the
// redacted source names of Status, so no credential reaches a label.
//
// The metrics, with their labels:
//
//	livebind_generation                                   gauge: the current snapshot's number
//	livebind_reloads_total                                counter: Reload calls that reached the applier
//	livebind_rejected_generations_total                   counter: generations rejected by Validate or update=
//	livebind_updates_total{field,source}                  counter: published changes of a field's value
//	livebind_errors_total{field,source}                   counter: Error updates of a field (read, decode or
//	                                                      validation failures: a field's share of rejections)
//	livebind_source_healthy{source}                       gauge: 1 while the last observation succeeded
//	livebind_source_present{source}                       gauge: 1 while the location exists
//	livebind_source_active{source}                        gauge: 0 while a when= condition switches it off
//	livebind_source_staleness_seconds{source}             gauge: 0 while healthy, else time since failures began
//	livebind_source_last_success_timestamp_seconds{source} gauge: Unix time of the last good observation (0: never)
//	livebind_source_observations_total{source}            counter: observations the source delivered
//	livebind_source_errors_total{source}                  counter: failed observations
//	livebind_reload_duration_seconds{result}              histogram: wall time of Reload calls made through
//	                                                      [Collector.Reload]; result is "ok" or "error"
//
// Several targets may read one location with different options; their
// figures are merged under one source label (healthy only if all are, the
// largest staleness, counts added up), so a scrape never has duplicate series.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livebind/livebind"
)

// ReloadBuckets are the default buckets of livebind_reload_duration_seconds:
// 1 ms (a local file) to 30 s (a remote store timing out).
var ReloadBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// An Option configures [NewCollector].
type Option interface{ apply(*options) }

type options struct {
	constLabels prometheus.Labels
	buckets     []float64
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithConstLabels adds labels to every metric, such as {"binding": "app"}:
// needed to register collectors of two Bindings in one registry.
func WithConstLabels(l prometheus.Labels) Option {
	return optionFunc(func(o *options) { o.constLabels = l })
}

// WithReloadBuckets replaces [ReloadBuckets].
func WithReloadBuckets(b []float64) Option {
	return optionFunc(func(o *options) {
		if len(b) > 0 {
			o.buckets = b
		}
	})
}

// Collector is a [prometheus.Collector] for one Binding. Create it with
// [NewCollector] and register it; call [Collector.Reload] instead of
// [livebind.Binding.Reload] to have reloads timed.
type Collector struct {
	status func() livebind.Status
	reload func(context.Context) error

	generation, reloads, rejected       *prometheus.Desc
	updates, errors                     *prometheus.Desc
	healthy, present, active, staleness *prometheus.Desc
	lastSuccess, observations, srcErrs  *prometheus.Desc
	reloadSeconds                       *prometheus.HistogramVec
}

// NewCollector returns a collector of b's metrics (listed in the package
// documentation). It starts nothing and holds nothing but b: each scrape
// calls b.Status once.
func NewCollector[T any](b *livebind.Binding[T], opts ...Option) *Collector {
	o := options{buckets: ReloadBuckets}
	for _, opt := range opts {
		opt.apply(&o)
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("livebind_"+name, help, labels, o.constLabels)
	}
	return &Collector{
		status: b.Status,
		reload: b.Reload,

		generation: desc("generation", "Number of the current configuration snapshot."),
		reloads:    desc("reloads_total", "Reload calls that reached the applier."),
		rejected:   desc("rejected_generations_total", "Generations rejected by Validate or an update= function."),
		updates:    desc("updates_total", "Published changes of a field's value.", "field", "source"),
		errors: desc("errors_total",
			"Error updates of a field: read, decode and validation failures.", "field", "source"),
		healthy: desc("source_healthy", "1 while the source's last observation succeeded.", "source"),
		present: desc("source_present", "1 while the source's location exists.", "source"),
		active:  desc("source_active", "0 while a when= condition switches the source off.", "source"),
		staleness: desc("source_staleness_seconds",
			"0 while the source is healthy, else seconds since its current run of failures began.", "source"),
		lastSuccess: desc("source_last_success_timestamp_seconds",
			"Unix time of the source's last good observation; 0 if none yet.", "source"),
		observations: desc("source_observations_total", "Observations the source delivered.", "source"),
		srcErrs:      desc("source_errors_total", "Failed observations of the source.", "source"),
		reloadSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "livebind_reload_duration_seconds",
			Help:        "Wall time of Reload calls made through the metrics collector, from the call until every source was read and the result applied.",
			ConstLabels: o.constLabels,
			Buckets:     o.buckets,
		}, []string{"result"}),
	}
}

// Describe implements [prometheus.Collector].
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.generation, c.reloads, c.rejected, c.updates, c.errors,
		c.healthy, c.present, c.active, c.staleness, c.lastSuccess, c.observations, c.srcErrs,
	} {
		ch <- d
	}
	c.reloadSeconds.Describe(ch)
}

// sourceFigures are one source label's merged figures.
type sourceFigures struct {
	healthy, present, active bool
	staleness                time.Duration
	lastSuccess              time.Time
	observations, errors     uint64
}

// Collect implements [prometheus.Collector]: it reads b.Status once.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	st := c.status()
	ch <- prometheus.MustNewConstMetric(c.generation, prometheus.GaugeValue, float64(st.Generation))
	ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(st.Reloads))
	ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(st.Rejected))
	for _, f := range st.Fields {
		ch <- prometheus.MustNewConstMetric(c.updates, prometheus.CounterValue, float64(f.Updates), f.Field, f.Source)
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(f.Errors), f.Field, f.Source)
	}

	order := make([]string, 0, len(st.Sources))
	merged := make(map[string]*sourceFigures, len(st.Sources))
	for _, s := range st.Sources {
		var stale time.Duration
		if !s.Healthy && !s.FailingSince.IsZero() {
			stale = now.Sub(s.FailingSince)
		}
		m, ok := merged[s.Source]
		if !ok {
			order = append(order, s.Source)
			merged[s.Source] = &sourceFigures{
				healthy: s.Healthy, present: s.Present, active: s.Active, staleness: stale,
				lastSuccess: s.LastSuccess, observations: s.Observations, errors: s.Errors,
			}
			continue
		}
		m.healthy = m.healthy && s.Healthy
		m.present = m.present && s.Present
		m.active = m.active || s.Active
		m.staleness = max(m.staleness, stale)
		if s.LastSuccess.After(m.lastSuccess) {
			m.lastSuccess = s.LastSuccess
		}
		m.observations += s.Observations
		m.errors += s.Errors
	}
	for _, src := range order {
		m := merged[src]
		ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, boolValue(m.healthy), src)
		ch <- prometheus.MustNewConstMetric(c.present, prometheus.GaugeValue, boolValue(m.present), src)
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, boolValue(m.active), src)
		ch <- prometheus.MustNewConstMetric(c.staleness, prometheus.GaugeValue, m.staleness.Seconds(), src)
		var last float64
		if !m.lastSuccess.IsZero() {
			last = float64(m.lastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue, last, src)
		ch <- prometheus.MustNewConstMetric(c.observations, prometheus.CounterValue, float64(m.observations), src)
		ch <- prometheus.MustNewConstMetric(c.srcErrs, prometheus.CounterValue, float64(m.errors), src)
	}
	c.reloadSeconds.Collect(ch)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Reload calls [livebind.Binding.Reload] and records its wall time in
// livebind_reload_duration_seconds, labeled result="ok" when it returned
// nil and result="error" otherwise (a failing source, a held-back
// validation error, ctx ending, a closed Binding). Reloads made any other
// way (a direct call of the Binding's Reload) are counted by
// livebind_reloads_total but not timed.
func (c *Collector) Reload(ctx context.Context) error {
	start := time.Now()
	err := c.reload(ctx)
	result := "ok"
	if err != nil {
		result = "error"
	}
	c.reloadSeconds.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return err
}
