package http_test

import (
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	nethttp "net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	livehttp "github.com/livebind/livebind/sources/http"
)

// doc is a JSON document served over HTTP that tests change.
type doc struct {
	mu     sync.Mutex
	body   string
	status int
	ctype  string
	gen    int
	auth   string // the Authorization header last received
}

func newDoc(tb testing.TB, body string) (*doc, *httptest.Server) {
	tb.Helper()
	d := &doc{body: body, ctype: "application/json"}
	srv := httptest.NewServer(d)
	tb.Cleanup(srv.Close)
	return d, srv
}

func (d *doc) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.auth = r.Header.Get("Authorization")
	if d.status != 0 {
		w.WriteHeader(d.status)
		return
	}
	etag := fmt.Sprintf(`"%d"`, d.gen)
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(nethttp.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", d.ctype)
	fmt.Fprint(w, d.body)
}

func (d *doc) set(body string, status int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.body, d.status = body, status
	d.gen++
}

type remote struct {
	Name    string `json:"name"`
	Workers int    `json:"workers"`
}

// env is a fixed environment for WithLookupEnv.
func env(kv ...string) livebind.Option {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return livebind.WithLookupEnv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

// bind binds *dst and closes the binding at cleanup.
func bind[T any](tb testing.TB, dst *T, opts ...livebind.Option) *livebind.Binding[T] {
	tb.Helper()
	b, err := livebind.Bind(tb.Context(), dst, opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, b.Close()) })
	return b
}

// updates records every update since Bind (From(1): none missed); take
// them with Next(t, bindWait).
func updates[T any](tb testing.TB, b *livebind.Binding[T]) *fixture.Collector[livebind.Update] {
	tb.Helper()
	rec := fixture.NewCollector[livebind.Update]()
	stop, err := b.Subscribe(rec.Add, livebind.From(1))
	require.NoError(tb, err)
	tb.Cleanup(stop)
	return rec
}

// bindWait bounds the wait for an update.
const bindWait = 5 * time.Second

// noSecret checks every way an update can be shown.
func noSecret(tb testing.TB, u livebind.Update, secrets ...string) {
	tb.Helper()
	shown := []string{u.String(), fmt.Sprint(u), fmt.Sprintf("%+v", u), fmt.Sprintf("%#v", u), u.Source}
	if u.Err != nil {
		shown = append(shown, u.Err.Error())
	}
	for _, s := range secrets {
		for _, v := range shown {
			require.NotContains(tb, v, s)
		}
	}
}

func TestBindInvalidJSONKeepsLastGood(t *testing.T) {
	t.Parallel()
	d, srv := newDoc(t, `{"name":"api","workers":4}`)
	var cfg struct {
		Live remote `live:"http=${URL}; poll=20ms"`
	}
	b := bind(t, &cfg, env("URL", srv.URL+"/live"))
	require.Equal(t, remote{"api", 4}, b.Get().Live)
	updates := updates(t, b)

	d.set(`{"name":"api","workers":`, 0)
	u := updates.Next(t, bindWait)
	require.Equal(t, livebind.Error, u.Kind)
	require.ErrorIs(t, u.Err, livebind.ErrDecode)
	require.Equal(t, remote{"api", 4}, b.Get().Live, "last good value kept")

	d.set(`{"name":"api","workers":8}`, 0)
	u = updates.Next(t, bindWait)
	require.Equal(t, livebind.Updated, u.Kind)
	require.Equal(t, remote{"api", 8}, b.Get().Live)
}

func TestBindSourceErrorRedacted(t *testing.T) {
	t.Parallel()
	d, srv := newDoc(t, `{"name":"api","workers":4}`)
	var cfg struct {
		Live remote `live:"http=${URL}; poll=20ms; safequery=env; header=Authorization: Bearer ${TOKEN}"`
	}
	url := srv.URL + "/live?env=prod&token=URLSECRET"
	b := bind(t, &cfg, env("URL", url, "TOKEN", "HEADERSECRET"))
	updates := updates(t, b)
	d.mu.Lock()
	require.Equal(t, "Bearer HEADERSECRET", d.auth)
	d.mu.Unlock()

	d.set("", nethttp.StatusInternalServerError)
	u := updates.Next(t, bindWait)
	require.Equal(t, livebind.Error, u.Kind)
	require.ErrorIs(t, u.Err, livebind.ErrSource)
	require.ErrorIs(t, u.Err, sources.ErrHTTPStatus)
	var fe *livebind.FieldError
	require.ErrorAs(t, u.Err, &fe)
	require.Equal(t, "Live", fe.Field)
	require.Equal(t, "http:"+srv.URL+"/live?env=prod&token=xxxxx", fe.Source)
	require.Contains(t, u.String(), "500")
	noSecret(t, u, "URLSECRET", "HEADERSECRET")
	require.Equal(t, remote{"api", 4}, b.Get().Live)

	d.set(`{"name":"api","workers":5}`, 0)
	u = updates.Next(t, bindWait)
	require.Equal(t, livebind.Updated, u.Kind)
	noSecret(t, u, "URLSECRET", "HEADERSECRET")

	// Bind itself fails without quoting the secrets either.
	d.set("", nethttp.StatusForbidden)
	var cfg2 struct {
		Live remote `live:"http=${URL}; header=Authorization: Bearer ${TOKEN}"`
	}
	_, err := livebind.Bind(t.Context(), &cfg2, env("URL", url, "TOKEN", "HEADERSECRET"))
	require.ErrorIs(t, err, livebind.ErrSource)
	require.NotContains(t, err.Error(), "URLSECRET")
	require.NotContains(t, err.Error(), "HEADERSECRET")
}

func TestBindMissing(t *testing.T) {
	t.Parallel()
	d, srv := newDoc(t, `{"port": 9090}`)
	var cfg struct {
		Port int `live:"http=${URL}; poll=20ms; key=port; default=8080"`
	}
	b := bind(t, &cfg, env("URL", srv.URL))
	require.Equal(t, 9090, b.Get().Port)
	updates := updates(t, b)
	d.set("", nethttp.StatusNotFound)
	u := updates.Next(t, bindWait)
	require.Equal(t, livebind.Removed, u.Kind, "404 is missing")
	require.Equal(t, 9090, b.Get().Port, "livebind keeps the value of a source gone at run time")
	d.set(`{"port": 9091}`, 0)
	updates.Next(t, bindWait)
	require.Equal(t, 9091, b.Get().Port)
}

// A server that labels JSON text/html: format= decides; without it the
// extension does; without either, a struct field's value is JSON when it is
// a JSON object (issue 14), and anything else is a decode error naming
// format=. The driver only passes the media type on.
func TestBindWrongContentType(t *testing.T) {
	t.Parallel()
	d, srv := newDoc(t, `{"name":"api","workers":4}`)
	d.ctype = "text/html; charset=utf-8"
	var ok struct {
		A remote `live:"http=${URL}/cfg; format=json"`
		B remote `live:"http=${URL}/cfg.json"`
		C remote `live:"http=${URL}/cfg"`
	}
	b := bind(t, &ok, env("URL", srv.URL))
	require.Equal(t, remote{"api", 4}, b.Get().A)
	require.Equal(t, remote{"api", 4}, b.Get().B)
	require.Equal(t, remote{"api", 4}, b.Get().C, "a JSON object decodes whatever the generic type says")

	h, hsrv := newDoc(t, `<html><body>name: api</body></html>`)
	h.ctype = "text/html; charset=utf-8"
	var bad struct {
		A remote `live:"http=${URL}/cfg"`
	}
	_, err := livebind.Bind(t.Context(), &bad, env("URL", hsrv.URL))
	require.ErrorIs(t, err, livebind.ErrDecode, "an HTML page is no structured format")
	require.ErrorContains(t, err, "format=json")
}

// A custom CA through WithSourceConfig: http.Config and a bare client.
func TestBindTLSClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"tls","workers":1}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var cfg struct {
		Live remote `live:"http=${URL}"`
	}
	for _, v := range []any{livehttp.Config{Client: srv.Client()}, srv.Client()} {
		b := bind(t, &cfg, env("URL", srv.URL), livebind.WithSourceConfig("http", v))
		require.Equal(t, "tls", b.Get().Live.Name)
	}
	_, err := livebind.Bind(t.Context(), &cfg, env("URL", srv.URL))
	require.ErrorIs(t, err, livebind.ErrSource, "the default client does not trust the test CA")
}

func TestBindOptionErrors(t *testing.T) {
	t.Parallel()
	var cfg struct {
		A string `live:"http=https://example.invalid/x; mxbytes=5"`
		B string `live:"http=https://example.invalid/x; debounce=10ms; throttle=1s; wait=5s"`
	}
	_, err := livebind.Bind(t.Context(), &cfg)
	require.ErrorIs(t, err, livebind.ErrTag)
	require.ErrorContains(t, err, "maxbytes", "a did-you-mean hint")
	require.ErrorContains(t, err, "wait")
}

// BenchmarkChangeToCallback measures, through livebind.Bind with poll=20ms,
// the time from a change on the server to the Subscribe callback. Changes
// happen at a random moment of the poll cycle. Run with -benchtime=100x.
func BenchmarkChangeToCallback(b *testing.B) {
	const pollEvery = 20 * time.Millisecond
	d, srv := newDoc(b, `{"n": 0}`)
	var cfg struct {
		N int `live:"http=${URL}; poll=20ms; key=n"`
	}
	bd, err := livebind.Bind(b.Context(), &cfg, env("URL", srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	defer bd.Close()
	got := make(chan int, 16)
	stop, err := bd.Subscribe(func(u livebind.Update) {
		if n, ok := u.New.(int); ok && u.Kind == livebind.Updated {
			got <- n
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		b.StopTimer()
		time.Sleep(time.Duration(rand.Int64N(int64(pollEvery))))
		b.StartTimer()
		start := time.Now()
		d.set(fmt.Sprintf(`{"n": %d}`, i), 0)
		for n := 0; n != i; {
			select {
			case n = <-got:
			case <-time.After(5 * time.Second):
				b.Fatalf("change %d not seen", i)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	fixture.ReportPercentiles(b, lat)
}
