package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// secret is the API key the tests set; it must never be served.
const secret = "sk-webapp-e2e-4242"

// syncBuffer collects output written from several goroutines.
type syncBuffer = fixture.Buffer

// running is the app started in-process by startApp.
type running struct {
	url  string // with a trailing slash
	path string // app.toml
	out  *syncBuffer
}

var servingLine = regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+/)`)

// startApp runs the app on a free port of 127.0.0.1 until the test ends.
func startApp(t *testing.T) *running {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{path: filepath.Join(dir, "app.toml"), out: &syncBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, r.out, []string{"-addr", "127.0.0.1:0", "-dir", dir}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v\n%s", err, r.out.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("run did not return within 10s of cancel")
		}
		if strings.Contains(r.out.String(), secret) {
			t.Errorf("the app printed the secret:\n%s", r.out.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(r.out.String()); m != nil {
			r.url = m[1]
			return r
		}
		select {
		case err := <-done:
			t.Fatalf("run ended: %v\n%s", err, r.out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("app did not start:\n%s", r.out.String())
		}
	}
}

// edit replaces app.toml the way editors save: a new file renamed over it.
func (r *running) edit(t *testing.T, data string) {
	t.Helper()
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		t.Fatal(err)
	}
}

// open sends GET path to the app until ctx ends; the caller closes the body.
func (r *running) open(ctx context.Context, t *testing.T, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (r *running) get(t *testing.T, path string) string {
	t.Helper()
	resp := r.open(t.Context(), t, path)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", path, resp.Status, err, body)
	}
	return string(body)
}

// waitOutput waits until the app has printed want.
func (r *running) waitOutput(t *testing.T, timeout time.Duration, want string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !strings.Contains(r.out.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the app did not print %q within %v:\n%s", want, timeout, r.out.String())
		}
	}
}

const editedConfig = `title = "livebind web app"
greeting = "Edited while you watched"
theme = "dark"
features = ["live reload", "validation", "metrics", "dark mode"]
`

// TestEndpoints drives the app over HTTP only: every endpoint answers, the
// live stream follows an edit, a rejected edit changes nothing, and the
// secret is nowhere.
func TestEndpoints(t *testing.T) {
	t.Setenv("WEBAPP_API_KEY", secret)
	r := startApp(t)

	page := r.get(t, "")
	for _, want := range []string{`<p id="greeting">Hello from livebind</p>`, `<dd id="apikey">set</dd>`, `href="debug/config/"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	resp := r.open(ctx, t, "live")
	defer resp.Body.Close()
	lines := make(chan string, 64)
	var readers sync.WaitGroup
	readers.Go(func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				lines <- d
			}
		}
	})
	defer readers.Wait()
	defer resp.Body.Close()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("live stream ended")
			}
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("no live event within 5s")
		}
		return ""
	}
	if first := next(); !strings.Contains(first, `"greeting":"Hello from livebind"`) || !strings.Contains(first, `"api_key_set":true`) {
		t.Errorf("first live event = %s", first)
	}

	r.edit(t, "title = \"x\"\ntheme = \"neon\"\n") // Validate rejects it
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(r.get(t, "debug/config/status.json"), `"rejected":1`); {
		if time.Now().After(deadline) {
			t.Fatal("the invalid edit was not rejected within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if page := r.get(t, ""); !strings.Contains(page, `<p id="greeting">Hello from livebind</p>`) {
		t.Errorf("page changed after a rejected edit:\n%s", page)
	}
	r.edit(t, editedConfig)
	if ev := next(); !strings.Contains(ev, `"greeting":"Edited while you watched"`) || !strings.Contains(ev, `"theme":"dark"`) {
		t.Errorf("live event after the edit = %s", ev)
	}

	outputs := map[string]string{"live": "", "page": r.get(t, "")}
	for _, p := range []string{"debug/config/", "debug/config/config.json", "debug/config/status.json", "debug/config/history.json", "metrics"} {
		outputs[p] = r.get(t, p)
	}
	if !strings.Contains(outputs["debug/config/config.json"], `"APIKey":"[redacted]"`) {
		t.Errorf("config.json does not show APIKey redacted:\n%s", outputs["debug/config/config.json"])
	}
	if !regexp.MustCompile(`livebind_updates_total\{field="Site",source="file:[^"]+"\} [1-9]`).MatchString(outputs["metrics"]) {
		t.Errorf("metrics lack the Site update:\n%s", outputs["metrics"])
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s serves the secret", name)
		}
	}
}

// TestRemoteBanner sets WEBAPP_REMOTE_URL: the app then also polls a
// banner over HTTP, shown on the page and in config.json.
func TestRemoteBanner(t *testing.T) {
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "Maintenance <tonight> at 22:00")
	}))
	defer remote.Close()
	t.Setenv("WEBAPP_REMOTE_URL", remote.URL+"/banner.txt")
	t.Setenv("WEBAPP_API_KEY", secret)
	r := startApp(t)
	if page := r.get(t, ""); !strings.Contains(page, `<p id="banner">Maintenance &lt;tonight&gt; at 22:00</p>`) {
		t.Errorf("page lacks the banner:\n%s", page)
	}
	if cfg := r.get(t, "debug/config/config.json"); !strings.Contains(cfg, `"Banner":"Maintenance \u003ctonight\u003e at 22:00"`) ||
		!strings.Contains(cfg, `"Site":{`) {
		t.Errorf("config.json:\n%s", cfg)
	}
}

// TestOptionalBanner: the banner's source is optional. Without
// WEBAPP_REMOTE_URL nothing is watched and the page hides the banner; with a
// URL that answers 404 at start the app starts all the same and the banner
// shows once the URL serves it (an Added update, within a poll of 2s).
func TestOptionalBanner(t *testing.T) {
	t.Run("no url", func(t *testing.T) {
		t.Setenv("WEBAPP_API_KEY", secret)
		r := startApp(t)
		if page := r.get(t, ""); !strings.Contains(page, `<p id="banner" hidden></p>`) {
			t.Errorf("page shows a banner:\n%s", page)
		}
		if st := r.get(t, "debug/config/status.json"); !strings.Contains(st, "not watched (optional): location names unset variable WEBAPP_REMOTE_URL") {
			t.Errorf("status.json does not say the banner is not watched:\n%s", st)
		}
	})
	t.Run("appears later", func(t *testing.T) {
		var up atomic.Bool
		remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !up.Load() {
				http.NotFound(w, r)
				return
			}
			_, _ = io.WriteString(w, "Back at 9")
		}))
		defer remote.Close()
		t.Setenv("WEBAPP_REMOTE_URL", remote.URL+"/banner.txt")
		r := startApp(t)
		if st := r.get(t, "debug/config/status.json"); !strings.Contains(st, "absent (optional)") {
			t.Errorf("status.json does not say the banner is absent:\n%s", st)
		}
		up.Store(true)
		r.waitOutput(t, 10*time.Second, "added Banner")
		if page := r.get(t, ""); !strings.Contains(page, `<p id="banner">Back at 9</p>`) {
			t.Errorf("page lacks the banner:\n%s", page)
		}
	})
}
