package bindtest

import (
	"errors"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sourcetest"
)

// What the push sources (sse=, ws=) share in their tests: a test server
// (a hub) holds one document per URL path and pushes it whole on connect
// and on every change. The checks below drive a field A (an int, key=a,
// format=json) through such a hub.

// Latency sends the document {"a":i} with push for i = 1, 2 ... once a
// round of b.Loop, waits for i on got, and reports the percentiles of the
// time in between.
func Latency(b *testing.B, got <-chan int, push func(doc string)) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		i++
		doc := fmt.Sprintf(`{"a":%d}`, i)
		start := time.Now()
		push(doc)
		fixture.Await(b, got, i, WaitFor)
		lat = append(lat, time.Since(start))
	}
	fixture.ReportPercentiles(b, lat)
}

// Refused checks a refused connection of a push source: the first result
// of log is a failure that wraps target with the HTTP status (see
// [StreamKit.Fails]) and holds secret in none of its formattings, and
// connects, the server's count of connection attempts, grows by at most 2
// in the next second: a refusal is retried on the slow backoff, not hot.
func (k StreamKit[C, E]) Refused(t *testing.T, log *fixture.Log[sources.Result], target error, status int, secret string, connects *atomic.Int64) {
	t.Helper()
	err := log.Nth(t, 0).Err
	k.Fails(t, err, target, status)
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), secret) {
		t.Fatal("bindtest: a formatting of the refusal holds the secret")
	}
	before := connects.Load()
	time.Sleep(time.Second)
	n := connects.Load() - before
	t.Logf("connection attempts in the second after a %d: %d", status, n)
	if n > 2 {
		t.Fatalf("bindtest: %d connection attempts in the second after a %d; want at most 2 (a refusal is retried on the slow backoff)", n, status)
	}
}

// burstDoc is the i-th document of a burst: about 220 bytes.
func burstDoc(i int) string {
	return fmt.Sprintf(`{"a":%d,"pad":%q}`, i, strings.Repeat("p", 200))
}

// BurstMemory sends 10,000 documents of about 220 bytes at once with set
// to a field (tagged throttle=) whose values arrive on got, read by a slow
// consumer; it reports the peak heap in use above the baseline while the
// burst is applied, and how many updates the consumer saw.
func BurstMemory(b *testing.B, got <-chan int, set func(doc string)) {
	b.Helper()
	const n = 10000
	msgs := make([]string, n)
	var peak, updates atomic.Int64
	round := 0
	for b.Loop() {
		round++
		for i := range msgs {
			msgs[i] = burstDoc(round*n + i)
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := fixture.SampleHeap(&peak, base.HeapInuse)
		for _, m := range msgs {
			set(m)
		}
		slow := func() { time.Sleep(time.Millisecond) } // a slow consumer
		updates.Add(int64(fixture.DrainUntil(b, got, round*n+n-1, 2*WaitFor, slow)))
		stop()
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(updates.Load())/float64(round), "updates/burst")
	b.ReportMetric(0, "ns/op")
}

// Malformed checks a field A of b whose document is {"a":1}: a malformed
// document sent with set is an Error update wrapping ErrDecode that names
// A, the last good value stays, and the next good document applies.
func Malformed[T any](t *testing.T, b *livebind.Binding[T], a func(*T) int, set func(doc string)) {
	t.Helper()
	ups := fixture.NewLog[livebind.Update](WaitFor)
	unsub, err := b.Subscribe(ups.Add)
	if err != nil {
		t.Fatalf("bindtest: Subscribe: %v", err)
	}
	defer unsub()
	set(`{"a":`)
	u := ups.Until(t, "the error", IsError)
	if !errors.Is(u.Err, livebind.ErrDecode) || u.Field != "A" {
		t.Fatalf("bindtest: error %v on field %q; want one wrapping ErrDecode on A", u.Err, u.Field)
	}
	if got := a(b.Get()); got != 1 {
		t.Fatalf("bindtest: A is %d after a malformed document; want the last good 1", got)
	}
	set(`{"a":2}`)
	ups.Until(t, "recovery", HasNew(2))
	if got := a(b.Get()); got != 2 {
		t.Fatalf("bindtest: A is %d after recovery; want 2", got)
	}
}

// Burst faces a slow consumer of b with a burst of 10,000 documents sent
// with set to a field A tagged throttle=: the burst must coalesce into
// fewer than 1,000 updates, the last document must win, and the heap must
// grow by less than 32 MiB (each document is a whole state: only the
// latest matters).
func Burst[T any](t *testing.T, b *livebind.Binding[T], a func(*T) int, set func(doc string)) {
	t.Helper()
	ups := fixture.NewLog[livebind.Update](WaitFor)
	unsub, err := b.Subscribe(func(u livebind.Update) {
		time.Sleep(time.Millisecond) // a slow consumer
		ups.Add(u)
	})
	if err != nil {
		t.Fatalf("bindtest: Subscribe: %v", err)
	}
	defer unsub()
	const n = 10000
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = burstDoc(i + 1)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, m := range msgs {
		set(m)
	}
	ups.Until(t, "the last document", func(u livebind.Update) bool { return u.New == n })
	runtime.ReadMemStats(&after)
	t.Logf("%d documents: %d updates; heap %d -> %d bytes", n, ups.Len(), before.HeapAlloc, after.HeapAlloc)
	if ups.Len() >= n/10 {
		t.Fatalf("bindtest: %d updates for a burst of %d; want it coalesced below %d", ups.Len(), n, n/10)
	}
	if got := a(b.Get()); got != n {
		t.Fatalf("bindtest: A is %d; want the last document's %d", got, n)
	}
	if after.HeapAlloc >= before.HeapAlloc+32<<20 {
		t.Fatalf("bindtest: heap %d -> %d bytes; want it bounded", before.HeapAlloc, after.HeapAlloc)
	}
}

// Hub is a push source's test server for [Conform].
type Hub struct {
	// Scheme is the source's scheme, "sse" or "ws".
	Scheme string
	// URL is the address of a path on the hub.
	URL func(path string) string
	// Set stores a document at path and pushes it.
	Set func(path string, doc []byte)
	// Remove deletes path's document: its connections end cleanly and
	// later connects are answered 404 (Missing).
	Remove func(path string)
	// Fast is the source config that reconnects within milliseconds;
	// Failing is the same with the header
	// "Authorization: Bearer conformance-bearer-secret".
	Fast, Failing any
	// ErrorAs reports the driver's typed error.
	ErrorAs func(error) bool
}

// PushHarness is the conformance kit's harness (sourcetest.Run) for a push
// driver and its hub. Targets are fresh paths of the hub with maxbytes=64KiB; /stall must
// be a path whose connect never gets an answer. The failure check connects
// to a closed port with a password and a token in the URL and a bearer
// token in the config: none may appear in the error.
func PushHarness(t *testing.T, h Hub) sourcetest.Harness {
	t.Helper()
	var n atomic.Int64
	const maxSize = 64 << 10
	params := map[string]string{"maxbytes": strconv.Itoa(maxSize)}
	target := func(loc string, params map[string]string) *sources.Target {
		return &sources.Target{Scheme: h.Scheme, Location: loc, Params: params}
	}
	path := func(tg *sources.Target) string {
		u, err := url.Parse(tg.Location)
		if err != nil {
			panic(err)
		}
		return u.Path
	}
	u, err := url.Parse(h.URL("/"))
	if err != nil {
		t.Fatalf("bindtest: hub URL: %v", err)
	}
	dead := u.Scheme + "://admin:hunter2pass@127.0.0.1:1/stream?token=conformance-query-token"
	big := []byte(strings.Repeat("x", 4*maxSize))
	return sourcetest.Harness{
		Scheme: h.Scheme,
		Config: func(*testing.T) sources.Config { return sources.Config{Value: h.Fast} },
		Target: func(*testing.T) *sources.Target {
			return target(h.URL("/doc/"+strconv.FormatInt(n.Add(1), 10)), params)
		},
		Set:    func(_ *testing.T, tg *sources.Target, v []byte) { h.Set(path(tg), v) },
		Remove: func(_ *testing.T, tg *sources.Target) { h.Remove(path(tg)) },
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			return sources.Config{Value: h.Failing}, target(dead, nil)
		},
		ErrorAs: h.ErrorAs,
		Secrets: []string{"hunter2pass", "conformance-query-token", "conformance-bearer-secret"},
		Stall: func(*testing.T) (sources.Config, *sources.Target, func()) {
			return sources.Config{Value: h.Fast}, target(h.URL("/stall"), nil), func() {}
		},
		Oversize: func(_ *testing.T, tg *sources.Target) { h.Set(path(tg), big) },
		MaxSize:  maxSize,
		Quiet:    300 * time.Millisecond,
		IgnoreLeaks: []goleak.Option{ // the test server's connections
			goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
			goleak.IgnoreAnyFunction("net/http.(*connReader).backgroundRead"),
		},
	}
}

// Rate is one server-side counter that [IdleRates] reports: Count counted
// in a window, scaled to a minute, reported under Unit ("requests/min").
type Rate struct {
	Unit  string
	Count *atomic.Int64
}

// IdleRates waits (5 s at most) until each of the first ready rates has
// counted 2 (Bind's Read, then the watch), then counts every rate over a
// 3 s window each round of b.Loop and reports the last round's counts
// scaled to a minute, with ns/op 0: what a bound field costs while nothing
// changes.
func IdleRates(b *testing.B, ready int, rates ...Rate) {
	b.Helper()
	started := func() bool {
		for _, r := range rates[:ready] {
			if r.Count.Load() < 2 {
				return false
			}
		}
		return true
	}
	for i := 0; i < 500 && !started(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	const window = 3 * time.Second
	counts := make([]int64, len(rates))
	for b.Loop() {
		for i, r := range rates {
			counts[i] = r.Count.Load()
		}
		time.Sleep(window)
		for i, r := range rates {
			counts[i] = r.Count.Load() - counts[i]
		}
	}
	scale := float64(time.Minute) / float64(window)
	for i, r := range rates {
		b.ReportMetric(float64(counts[i])*scale, r.Unit)
	}
	b.ReportMetric(0, "ns/op")
}

// RedirectRefused checks the redirects a push source must not follow: to
// another origin (where the configured headers must not go; here another
// port, with a secret in its query, and from TLS to plain) and in a loop.
// Each must be an E wrapping sources.ErrRedirect with the given status (see
// [StreamKit.Refused]: no secret in it, retried on the slow backoff), and
// the other origin must never see a request. config returns the source's
// config with client (nil but for the TLS case) and header set and a slow
// backoff of at most a second; loc turns a test server's http:// URL into
// the source's location.
func (k StreamKit[C, E]) RedirectRefused(t *testing.T, config func(client *nethttp.Client, header nethttp.Header) C, loc func(httpURL string) string, status int) {
	t.Helper()
	var other atomic.Int64
	elsewhere := httptest.NewServer(nethttp.HandlerFunc(func(nethttp.ResponseWriter, *nethttp.Request) { other.Add(1) }))
	t.Cleanup(elsewhere.Close)
	for _, tc := range []struct {
		name string
		tls  bool
		to   func(r *nethttp.Request) string
	}{
		{"another port", false, func(*nethttp.Request) string { return elsewhere.URL + "/cfg?token=elsewhere-secret" }},
		{"TLS to plain", true, func(*nethttp.Request) string { return elsewhere.URL + "/cfg" }},
		{"loop", false, func(r *nethttp.Request) string { return r.URL.Path }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var connects atomic.Int64
			srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
				if r.Header.Get("Referer") == "" { // a connect, not a redirect's hop
					connects.Add(1)
				}
				nethttp.Redirect(w, r, tc.to(r), nethttp.StatusFound)
			}))
			var client *nethttp.Client
			kit := k
			if tc.tls {
				srv.StartTLS()
				client = srv.Client()
				kit.Prefix = strings.Replace(k.Prefix, "://", "s://", 1)
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			cfg := config(client, nethttp.Header{"Authorization": {"Bearer redirect-secret-token"}})
			log := kit.Follow(t, kit.Open(t, cfg), &sources.Target{Scheme: k.Scheme, Location: loc(srv.URL) + "/cfg"})
			kit.Refused(t, log, sources.ErrRedirect, status, "secret", &connects)
			if n := other.Load(); n != 0 {
				t.Fatalf("bindtest: the other origin saw %d requests", n)
			}
		})
	}
}
