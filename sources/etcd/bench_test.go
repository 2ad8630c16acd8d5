package etcd_test

import (
	"bufio"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/etcdtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources/etcd"
)

// idleConfig has 10 fields on 10 distinct keys.
type idleConfig struct {
	K0 string `live:"etcd=idle/k0; format=text"`
	K1 string `live:"etcd=idle/k1; format=text"`
	K2 string `live:"etcd=idle/k2; format=text"`
	K3 string `live:"etcd=idle/k3; format=text"`
	K4 string `live:"etcd=idle/k4; format=text"`
	K5 string `live:"etcd=idle/k5; format=text"`
	K6 string `live:"etcd=idle/k6; format=text"`
	K7 string `live:"etcd=idle/k7; format=text"`
	K8 string `live:"etcd=idle/k8; format=text"`
	K9 string `live:"etcd=idle/k9; format=text"`
}

// unary is etcd's counter of unary requests (Range, Put ...).
const unary = `etcd_server_client_requests_total{client_api_version="3.7",type="unary"}`

// BenchmarkPutToCallback: the latency from a Put to the Subscribe callback
// that reports it, through a real etcd and livebind. Goal: p99 ≤ 10 ms.
// Beside it, where the tail goes: the Put alone (put-p99-ms, its round
// trip until etcd committed it: the callback can come no earlier), the
// Puts over 10 ms, and the fsyncs of etcd's WAL (on every Put's path) over
// 8 ms during the run, from etcd's /metrics.
func BenchmarkPutToCallback(b *testing.B) {
	s, cli := started(b, "bench/v", "start")
	bd, _ := bindtest.BindKey[textKey](b, "etcd", srcConfig(s), "bench/v")
	puts := make([]time.Duration, 0, b.N)
	before := metrics(b, s)
	fixture.ChangeLatency(b, bindtest.Values(b, bd),
		func(i int) {
			start := time.Now()
			put(b, cli, "bench/v", "v"+strconv.Itoa(i))
			puts = append(puts, time.Since(start))
		},
		func(i int) any { return "v" + strconv.Itoa(i) })
	after := metrics(b, s)
	slow := 0
	for _, d := range puts {
		if d > 10*time.Millisecond {
			slow++
		}
	}
	slices.Sort(puts)
	b.ReportMetric(float64(puts[len(puts)*99/100])/float64(time.Millisecond), "put-p99-ms")
	b.ReportMetric(float64(slow), "puts>10ms")
	const fsync = "etcd_disk_wal_fsync_duration_seconds"
	total := after[fsync+"_count"] - before[fsync+"_count"]
	fast := after[fsync+`_bucket{le="0.008"}`] - before[fsync+`_bucket{le="0.008"}`]
	b.ReportMetric(total-fast, "fsyncs>8ms")
}

// BenchmarkRestartRecovery: the time from a restarted server being ready
// to a value written then reaching the callback (recovery-ms). The
// driver's reconnect backoff is at most 1 s.
func BenchmarkRestartRecovery(b *testing.B) {
	s, cli := started(b, "rec/v", "start")
	bd, _ := bindtest.BindKey[textKey](b, "etcd", srcConfig(s), "rec/v")
	bindtest.Recovery(b, bindtest.Values(b, bd), s.Restart, func(v string) { put(b, cli, "rec/v", v) })
}

// BenchmarkIdle: one Binding of 10 fields on 10 keys, idle for two
// seconds. It reports what it holds open on the server (gRPC watch
// streams and watchers, from etcd's /metrics) and its unary requests per
// minute per field while idle.
func BenchmarkIdle(b *testing.B) {
	s, cli := started(b)
	for i := range 10 {
		put(b, cli, "idle/k"+strconv.Itoa(i), "v")
	}
	for range b.N {
		base := metrics(b, s)
		bindtest.Bind[idleConfig](b, "etcd", srcConfig(s))
		time.Sleep(200 * time.Millisecond) // the watches are set up
		before := metrics(b, s)
		time.Sleep(2 * time.Second)
		after := metrics(b, s)
		b.ReportMetric(after["etcd_debugging_mvcc_watch_stream_total"]-base["etcd_debugging_mvcc_watch_stream_total"], "watch-streams")
		b.ReportMetric(after["etcd_debugging_mvcc_watcher_total"]-base["etcd_debugging_mvcc_watcher_total"], "watchers")
		b.ReportMetric((after[unary]-before[unary])*30/10, "req/min/field")
	}
}

// metrics reads etcd's /metrics as name{labels} -> value.
func metrics(b testing.TB, s *etcdtest.Server) map[string]float64 {
	b.Helper()
	req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, s.Endpoint()+"/metrics", nil)
	require.NoError(b, err)
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(b, err)
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// BenchmarkBind500Prefix: Bind of one field that reads 500 keys under a
// prefix (bind-ms per Bind: one page) and the largest growth of the heap
// during one Bind (peak-heap-MB). The sub-benchmark one-request reads the
// prefix with one request, as the driver did before it read in pages.
func BenchmarkBind500Prefix(b *testing.B) { benchBindPrefix(b, 500) }

// BenchmarkBind10000Prefix: as BenchmarkBind500Prefix, with 10,000 keys
// (20 pages at one revision).
func BenchmarkBind10000Prefix(b *testing.B) { benchBindPrefix(b, 10_000) }

func benchBindPrefix(b *testing.B, n int) {
	b.Helper()
	s, cli := started(b)
	fill(b, cli, "many/", n)
	b.Run("pages", func(b *testing.B) { bindPrefix(b, s, n) })
	b.Run("one-request", func(b *testing.B) {
		defer etcd.SetPages(int64(n), nil)()
		bindPrefix(b, s, n)
	})
}

// bindPrefix binds a field on the n keys under many/ b.N times and reports
// the mean time of Bind and its largest heap growth.
func bindPrefix(b *testing.B, s *etcdtest.Server, n int) {
	b.Helper()
	type config struct {
		V map[string]string `live:"etcd=many/; prefix"`
	}
	var peak uint64
	var elapsed time.Duration
	for range b.N {
		var c config
		var bd interface{ Close() error }
		p := fixture.HeapPeak(func() {
			start := time.Now()
			var err error
			bd, err = livebind.Bind(b.Context(), &c, livebind.WithSourceConfig("etcd", srcConfig(s)))
			elapsed += time.Since(start)
			require.NoError(b, err)
		})
		peak = max(peak, p)
		require.Len(b, c.V, n)
		_ = bd.Close()
	}
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "bind-ms")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
