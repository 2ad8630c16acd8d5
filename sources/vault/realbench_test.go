package vault_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/baotest"
)

// countingProxy is a reverse proxy on 127.0.0.1 in front of a real server
// that counts the requests it forwards.
type countingProxy struct {
	*httptest.Server
	all, meta atomic.Int64
	issue     atomic.Int64 // writes to .../issue/...
	renew     atomic.Int64 // sys/leases/renew and sys/renew
}

func newCountingProxy(tb testing.TB, s *baotest.Server) *countingProxy {
	tb.Helper()
	u, err := url.Parse(s.Addr)
	require.NoError(tb, err)
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.all.Add(1)
		switch {
		case strings.Contains(r.URL.Path, "/metadata/"):
			p.meta.Add(1)
		case strings.Contains(r.URL.Path, "/issue/") && r.Method != http.MethodGet:
			p.issue.Add(1)
		case strings.Contains(r.URL.Path, "/sys/leases/renew"), strings.HasSuffix(r.URL.Path, "/sys/renew"):
			p.renew.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(p.Close)
	return p
}

type idleKV struct {
	Password string `live:"vault=secret/data/app#password; poll=100ms"`
}

// BenchmarkRealIdleKV2Requests: the requests one idle KV v2 secret costs on
// a real server, counted by a proxy in front of it after Bind, over 3 s
// of polling every 100 ms. Each poll reads the metadata once, so polls are
// counted as metadata reads and requests per poll is every request
// (token renewal and data reads included) over them. The cost per poll
// does not depend on the interval, so requests per hour at the default
// 30 s poll is requests per poll × 120 (goal ≤ 240).
func BenchmarkRealIdleKV2Requests(b *testing.B) {
	s := baotest.Start(b)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "idle-pw"}})
	p := newCountingProxy(b, s)
	const poll, window, defaultPoll = 100 * time.Millisecond, 3 * time.Second, 30 * time.Second
	var perPoll float64
	for b.Loop() {
		var c idleKV
		bb, err := livebind.Bind(b.Context(), &c, livebind.WithSourceConfig("vault", clientAt(b, p.URL, baotest.RootToken)))
		require.NoError(b, err)
		time.Sleep(poll) // past Bind's own requests and the watch's first look
		all0, meta0 := p.all.Load(), p.meta.Load()
		time.Sleep(window)
		all, polls := p.all.Load()-all0, p.meta.Load()-meta0
		_ = bb.Close()
		require.Positive(b, polls)
		perPoll = float64(all) / float64(polls)
		b.ReportMetric(float64(polls)/window.Seconds(), "polls/s@100ms")
	}
	b.ReportMetric(perPoll, "requests/poll")
	b.ReportMetric(perPoll*float64(time.Hour/defaultPoll), "requests/hour@30s")
}

// BenchmarkRealRotationLead: how long before a capped lease's end (3 s
// lease, max_lease_ttl 7 s, a real server) the driver reads new
// credentials, as a share of the lease (goal ≥ 10%).
func BenchmarkRealRotationLead(b *testing.B) {
	var lead, ttl time.Duration
	for b.Loop() {
		lead, ttl = rotationLead(b)
	}
	b.ReportMetric(float64(lead.Milliseconds()), "lead-ms")
	b.ReportMetric(100*lead.Seconds()/ttl.Seconds(), "lead-%")
}
