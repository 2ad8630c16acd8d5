package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/livebindhttp"
	"github.com/livebind/livebind/metrics"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// Credential-bearing URLs on every surface where a location appears
// (issue 17, part 2): updates, logs, errors, Status, the page, JSON, SSE
// and Prometheus labels.

type doc struct {
	Name string `json:"name"`
}

type plainURL struct {
	V doc `live:"http=${URL}; poll=20ms"`
}

type safeURL struct {
	V doc `live:"http=${URL}; poll=20ms; safequery=env,region"`
}

type hiddenURL struct {
	V doc `live:"http=${URL}; poll=20ms; secretlocation"`
}

// syncBuffer collects output written from several goroutines.
type syncBuffer = fixture.Buffer

type redactCase struct {
	name   string
	url    string // with ADDR for the server's address
	kind   string // plain, safe or hidden
	secret []string
	shown  string // what Status shows after the scheme ("" to skip)
}

func TestHostileRedactEverySurface(t *testing.T) {
	t.Parallel()
	cases := []redactCase{
		{"query/pass", "http://ADDR/c.json?pass=S3CRETpass1", "plain", []string{"S3CRETpass1"}, "http://ADDR/c.json?pass=xxxxx"},
		{"query/pw", "http://ADDR/c.json?pw=S3CRETpw22", "plain", []string{"S3CRETpw22"}, "http://ADDR/c.json?pw=xxxxx"},
		{"query/x-api", "http://ADDR/c.json?x-api=S3CRETxapi3", "plain", []string{"S3CRETxapi3"}, "http://ADDR/c.json?x-api=xxxxx"},
		{"query/unlisted-name", "http://ADDR/c.json?env=prod&q=S3CRETq4", "plain", []string{"S3CRETq4", "prod"}, "http://ADDR/c.json?env=xxxxx&q=xxxxx"},
		{"query/bare", "http://ADDR/c.json?S3CRETbare5", "plain", []string{"S3CRETbare5"}, "http://ADDR/c.json?xxxxx"},
		{"query/semicolon", "http://ADDR/c.json?a=1;key=S3CRETsemi6", "plain", []string{"S3CRETsemi6"}, "http://ADDR/c.json?a=xxxxx;key=xxxxx"},
		{"query/escaped-name", "http://ADDR/c.json?%70ass=S3CRETenc7", "plain", []string{"S3CRETenc7"}, "http://ADDR/c.json?%70ass=xxxxx"},
		{"query/nested-url", "http://ADDR/c.json?next=http%3A%2F%2Fo%2F%3Ftoken%3DS3CRETnest8", "plain", []string{"S3CRETnest8"}, "http://ADDR/c.json?next=xxxxx"},
		{"userinfo/password", "http://user:S3CRETui9@ADDR/c.json", "plain", []string{"S3CRETui9"}, "http://xxxxx@ADDR/c.json"},
		{"userinfo/token-as-user", "http://S3CRETlone10@ADDR/c.json", "plain", []string{"S3CRETlone10"}, "http://xxxxx@ADDR/c.json"},
		{"fragment", "http://ADDR/c.json#access_token=S3CRETfrag11", "plain", []string{"S3CRETfrag11"}, "http://ADDR/c.json#xxxxx"},
		{"safequery", "http://ADDR/c.json?env=prod&pass=S3CRETsafe12&region=eu", "safe", []string{"S3CRETsafe12"}, "http://ADDR/c.json?env=prod&pass=xxxxx&region=eu"},
		{"path/secretlocation", "http://ADDR/hooks/T01/S3CRETpath13/c.json?k=S3CRETq13", "hidden", []string{"S3CRETpath13", "S3CRETq13", "/hooks/"}, "[secret location of V]"},
		{"userinfo/secretlocation", "http://bot:S3CRETbot14@ADDR/bot/S3CRETbot14b", "hidden", []string{"S3CRETbot14", "S3CRETbot14b"}, "[secret location of V]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			switch tc.kind {
			case "plain":
				checkSurfaces[plainURL](t, tc)
			case "safe":
				checkSurfaces[safeURL](t, tc)
			case "hidden":
				checkSurfaces[hiddenURL](t, tc)
			}
		})
	}
}

// checkSurfaces binds T to tc's URL, makes an update, an error and a
// Bind failure happen, and reads every surface.
func checkSurfaces[T any](t *testing.T, tc redactCase) {
	t.Helper()
	srv := fixture.ServeRemote(t, "one", false)
	loc := strings.ReplaceAll(tc.url, "ADDR", srv.Addr)
	lookup := func(k string) (string, bool) {
		if k == "URL" {
			return loc, true
		}
		return "", false
	}
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	surfaces := map[string]string{}

	// A Bind that fails: the error and its log.
	srv.Set("one", http.StatusInternalServerError)
	var cfg T
	_, err := livebind.Bind(t.Context(), &cfg, livebind.WithLookupEnv(lookup), livebind.WithLogger(logger))
	require.Error(t, err)
	surfaces["bind error"] = err.Error() + fmt.Sprintf(" %v %+v", err, err)

	srv.Set("one", http.StatusOK)
	b, err := livebind.Bind(t.Context(), &cfg, livebind.WithLookupEnv(lookup), livebind.WithLogger(logger), livebind.WithHistory(5))
	require.NoError(t, err)
	defer func() { _ = b.Close() }()
	updates := make(chan livebind.Update, 256) // the channel recipe: buffered, and From(1) misses nothing
	_, err = b.Subscribe(func(u livebind.Update) {
		select {
		case updates <- u:
		case <-b.Done():
		}
	}, livebind.From(1))
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.Handle("/debug/", http.StripPrefix("/debug", livebindhttp.Handler(b)))
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(b))
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	web := httptest.NewServer(mux)
	defer web.Close()

	// The event stream, read while things happen.
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, web.URL+"/debug/events", nil)
	require.NoError(t, err)
	resp, err := web.Client().Do(req)
	require.NoError(t, err)
	var sse syncBuffer
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		_, _ = io.Copy(&sse, resp.Body)
	}()
	waitFor(t, func() bool { return strings.Contains(sse.String(), "event: hello") })

	var seen []livebind.Update
	next := func(kind livebind.Kind) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case u := <-updates:
				seen = append(seen, u)
				if u.Kind == kind {
					return
				}
			case <-deadline:
				t.Fatalf("no %v update; saw %v", kind, seen)
			}
		}
	}
	srv.Set("two", http.StatusOK)
	next(livebind.Updated)
	srv.Set("two", http.StatusInternalServerError)
	next(livebind.Error)
	waitFor(t, func() bool { return strings.Count(sse.String(), "event: update") >= 2 })

	for i, u := range seen {
		surfaces[fmt.Sprint("update ", i)] = fmt.Sprintf("%s | %v | %+v | %s", u.String(), u, u, u.Source)
		if u.Err != nil {
			surfaces[fmt.Sprint("update error ", i)] = u.Err.Error()
		}
		j, err := json.Marshal(u)
		require.NoError(t, err)
		surfaces[fmt.Sprint("update json ", i)] = string(j)
	}
	st := b.Status()
	stJSON, err := json.Marshal(st)
	require.NoError(t, err)
	surfaces["Status"] = fmt.Sprintf("%+v %s", st, stJSON)
	for _, p := range []string{"/debug/", "/debug/status.json", "/debug/config.json", "/debug/history.json", "/metrics"} {
		surfaces[p] = get(t, web, p)
	}
	cancel()
	_ = resp.Body.Close()
	<-streamDone
	surfaces["SSE"] = sse.String()
	surfaces["logs"] = logs.String()

	// The surfaces hold what the test relies on ...
	require.Contains(t, surfaces["/metrics"], `source="http:`)
	require.Contains(t, surfaces["SSE"], `"kind":"error"`)
	require.Contains(t, surfaces["logs"], "level=")
	want := "http:" + strings.ReplaceAll(tc.shown, "ADDR", srv.Addr)
	assert.Equal(t, want, st.Sources[0].Source)
	assert.Contains(t, surfaces["/debug/"], strings.ReplaceAll(want, "&", "&amp;"))
	assert.Contains(t, surfaces["/metrics"], `source="`+want+`"`)
	// ... and no secret, anywhere.
	for name, out := range surfaces {
		for _, s := range tc.secret {
			if strings.Contains(out, s) {
				t.Errorf("%s shows %q:\n%s", name, s, excerpt(out, s))
			}
		}
	}
}

func get(t *testing.T, web *httptest.Server, path string) string {
	t.Helper()
	resp, body := fixture.Get(t, web.Client(), web.URL+path)
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	return body
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 10s")
}

func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	return s[max(0, i-120):min(len(s), i+len(sub)+60)]
}

// TestHostileRedactOptions: the two options are checked at Bind, and
// secretlocation works for any scheme: a file path is hidden from Status
// and from the file source's own error.
func TestHostileRedactOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lookup := func(k string) (string, bool) { return dir, k == "DIR" }

	var badSafe struct {
		V string `live:"file=${DIR}/a.txt; safequery=env"`
	}
	_, err := livebind.Bind(t.Context(), &badSafe, livebind.WithLookupEnv(lookup))
	require.ErrorIs(t, err, livebind.ErrTag)
	assert.Contains(t, err.Error(), "safequery= is for URL sources")

	var badFlag struct {
		V string `live:"http=http://127.0.0.1:1/x; secretlocation=yes"`
	}
	_, err = livebind.Bind(t.Context(), &badFlag)
	require.ErrorIs(t, err, livebind.ErrTag)
	assert.Contains(t, err.Error(), "is a flag")

	var emptySafe struct {
		V string `live:"http=http://127.0.0.1:1/x; safequery= , "`
	}
	_, err = livebind.Bind(t.Context(), &emptySafe)
	require.ErrorIs(t, err, livebind.ErrTag)

	// A directory where the file should be: the file source's error names
	// the path, which must not come out.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tenant-acme-corp", "app.toml"), 0o700))
	var hidden struct {
		V string `live:"file=${DIR}/tenant-acme-corp/app.toml; secretlocation"`
	}
	var logs syncBuffer
	_, err = livebind.Bind(t.Context(), &hidden, livebind.WithLookupEnv(lookup),
		livebind.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.Error(t, err)
	for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), logs.String()} {
		assert.NotContains(t, out, "tenant-acme-corp")
	}
	assert.Contains(t, err.Error(), "file:[secret location of V]")
}
