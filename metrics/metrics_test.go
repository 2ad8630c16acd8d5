package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type settings struct {
	Name    string `toml:"name"`
	Workers int    `toml:"workers"`
}

type testConfig struct {
	Settings settings `live:"file=${DIR}/app.toml; poll=1h"`
	Workers  int      `live:"file=${DIR}/app.toml; key=workers; poll=2h"` // same file, another target
	Remote   string   `live:"http=${REMOTE}; poll=50ms; timeout=1s; format=text"`
	APIKey   string   `live:"env=API_KEY; secret; poll=1h"`
}

func (c *testConfig) Validate() error {
	if c.Settings.Workers < 1 {
		return errors.New("workers must be at least 1")
	}
	return nil
}

// scraper serves a registry with promhttp on 127.0.0.1 and scrapes it.
type scraper struct {
	srv *httptest.Server
}

func (s scraper) scrape(t *testing.T) string {
	t.Helper()
	resp, body := fixture.Get(t, s.srv.Client(), s.srv.URL+"/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s\n%s", resp.Status, body)
	}
	return body
}

var sampleLine = regexp.MustCompile(`^([a-z_]+)(?:\{(.*)\})? (\S+)$`)

// value returns the sample of name whose labels include every pair of
// labels ("k", "v", ...), and whether there is one.
func value(text, name string, labels ...string) (float64, bool) {
	for line := range strings.SplitSeq(text, "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil || m[1] != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(","+m[2]+",", ","+labels[i]+`="`+labels[i+1]+`",`) {
				ok = false
			}
		}
		if ok {
			v, err := strconv.ParseFloat(m[3], 64)
			return v, err == nil
		}
	}
	return 0, false
}

func mustValue(t *testing.T, text, name string, labels ...string) float64 {
	t.Helper()
	v, ok := value(text, name, labels...)
	if !ok {
		t.Fatalf("no sample %s%v in:\n%s", name, labels, text)
	}
	return v
}

func TestCollector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "app.toml"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("name = \"svc\"\nworkers = 4\n")
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "on")
	}))
	defer remote.Close()
	// Credentials in the URL must never reach a label.
	remoteURL := strings.Replace(remote.URL, "http://", "http://ops:hunter2@", 1) + "/flags.txt?token=tok-secret-9"
	var envMu sync.Mutex
	env := map[string]string{"DIR": dir, "REMOTE": remoteURL, "API_KEY": "sk-metrics-1"}
	lookup := func(k string) (string, bool) {
		envMu.Lock()
		defer envMu.Unlock()
		v, ok := env[k]
		return v, ok
	}
	var cfg testConfig
	b, err := livebind.Bind(t.Context(), &cfg, livebind.WithLookupEnv(lookup))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	c := metrics.NewCollector(b, metrics.WithConstLabels(prometheus.Labels{"binding": "test"}))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	s := scraper{srv: httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))}
	defer s.srv.Close()
	reload := func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		return c.Reload(ctx)
	}

	text := s.scrape(t)
	if strings.Contains(text, "hunter2") || strings.Contains(text, "tok-secret-9") || strings.Contains(text, "sk-metrics") {
		t.Fatalf("a credential reached the metrics:\n%s", text)
	}
	appSrc := "file:" + filepath.Join(dir, "app.toml")
	remoteSrc := ""
	for line := range strings.SplitSeq(text, "\n") {
		if m := regexp.MustCompile(`source="(http:[^"]*)"`).FindStringSubmatch(line); m != nil {
			remoteSrc = m[1]
			break
		}
	}
	if remoteSrc == "" || !strings.Contains(remoteSrc, "xxxxx") {
		t.Fatalf("http source label %q is not redacted", remoteSrc)
	}
	t.Run("initial", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"livebind_generation", []string{"binding", "test"}, 1},
			{"livebind_reloads_total", nil, 0},
			{"livebind_rejected_generations_total", nil, 0},
			{"livebind_updates_total", []string{"field", "Settings", "source", appSrc}, 0},
			{"livebind_source_healthy", []string{"source", appSrc}, 1},
			{"livebind_source_healthy", []string{"source", remoteSrc}, 1},
			{"livebind_source_present", []string{"source", appSrc}, 1},
			{"livebind_source_active", []string{"source", appSrc}, 1},
			{"livebind_source_staleness_seconds", []string{"source", remoteSrc}, 0},
		} {
			if got := mustValue(t, text, tc.name, tc.labels...); got != tc.want {
				t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
			}
		}
		// Two targets read app.toml: one merged series, two observations.
		if n := strings.Count(text, `livebind_source_healthy{binding="test",source="`+appSrc+`"}`); n != 1 {
			t.Errorf("%d healthy series for app.toml, want 1", n)
		}
		if got := mustValue(t, text, "livebind_source_observations_total", "source", appSrc); got < 2 {
			t.Errorf("observations of app.toml = %v, want >= 2 (two targets)", got)
		}
		if got := mustValue(t, text, "livebind_source_last_success_timestamp_seconds", "source", appSrc); time.Since(time.Unix(int64(got), 0)) > time.Minute {
			t.Errorf("last success timestamp %v is not recent", got)
		}
	})

	t.Run("update", func(t *testing.T) {
		write("name = \"svc\"\nworkers = 6\n")
		if err := reload(); err != nil {
			t.Fatal(err)
		}
		text := s.scrape(t)
		if got := mustValue(t, text, "livebind_updates_total", "field", "Settings"); got != 1 {
			t.Errorf("Settings updates = %v, want 1", got)
		}
		if got := mustValue(t, text, "livebind_updates_total", "field", "Workers"); got != 1 {
			t.Errorf("Workers updates = %v, want 1", got)
		}
		if got := mustValue(t, text, "livebind_reloads_total"); got != 1 {
			t.Errorf("reloads = %v, want 1", got)
		}
		if got := mustValue(t, text, "livebind_reload_duration_seconds_count", "result", "ok"); got != 1 {
			t.Errorf("timed ok reloads = %v, want 1", got)
		}
		if got := mustValue(t, text, "livebind_generation"); got < 2 {
			t.Errorf("generation = %v, want >= 2", got)
		}
	})

	t.Run("rejected", func(t *testing.T) {
		write("name = \"svc\"\nworkers = 0\n")
		if err := reload(); err == nil {
			t.Fatal("Reload accepted workers = 0")
		}
		text := s.scrape(t)
		if got := mustValue(t, text, "livebind_rejected_generations_total"); got < 1 {
			t.Errorf("rejected generations = %v, want >= 1", got)
		}
		if got := mustValue(t, text, "livebind_errors_total", "field", "Settings"); got < 1 {
			t.Errorf("Settings errors = %v, want >= 1", got)
		}
		if got := mustValue(t, text, "livebind_reload_duration_seconds_count", "result", "error"); got != 1 {
			t.Errorf("timed failed reloads = %v, want 1", got)
		}
		write("name = \"svc\"\nworkers = 6\n")
		if err := reload(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("source-down", func(t *testing.T) {
		remote.Close() // the http source now fails on every poll
		deadline := time.Now().Add(10 * time.Second)
		var text string
		for {
			text = s.scrape(t)
			if v, _ := value(text, "livebind_source_healthy", "source", remoteSrc); v == 0 {
				if st, _ := value(text, "livebind_source_staleness_seconds", "source", remoteSrc); st > 0 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the stopped server's source is still reported healthy:\n%s", text)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := mustValue(t, text, "livebind_errors_total", "field", "Remote", "source", remoteSrc); got < 1 {
			t.Errorf("Remote errors = %v, want >= 1", got)
		}
		if got := mustValue(t, text, "livebind_source_errors_total", "source", remoteSrc); got < 1 {
			t.Errorf("remote source errors = %v, want >= 1", got)
		}
		if got := mustValue(t, text, "livebind_source_healthy", "source", appSrc); got != 1 {
			t.Errorf("app.toml healthy = %v while another source fails", got)
		}
		time.Sleep(100 * time.Millisecond)
		later := mustValue(t, s.scrape(t), "livebind_source_staleness_seconds", "source", remoteSrc)
		if first := mustValue(t, text, "livebind_source_staleness_seconds", "source", remoteSrc); later <= first {
			t.Errorf("staleness did not grow: %v then %v", first, later)
		}
	})

	t.Run("lint", func(t *testing.T) {
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	})
}

// TestCollectorExact compares a whole scrape of a file-only binding with
// the expected exposition text.
func TestCollectorExact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.toml"), []byte("name = \"x\"\nworkers = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type small struct {
		Name string `live:"file=${DIR}/app.toml; key=name; poll=1h"`
	}
	var cfg small
	b, err := livebind.Bind(t.Context(), &cfg, livebind.WithLookupEnv(func(k string) (string, bool) {
		return dir, k == "DIR"
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := metrics.NewCollector(b)
	src := "file:" + filepath.Join(dir, "app.toml")
	want := `
# HELP livebind_generation Number of the current configuration snapshot.
# TYPE livebind_generation gauge
livebind_generation 1
# HELP livebind_source_healthy 1 while the source's last observation succeeded.
# TYPE livebind_source_healthy gauge
livebind_source_healthy{source="` + src + `"} 1
# HELP livebind_updates_total Published changes of a field's value.
# TYPE livebind_updates_total counter
livebind_updates_total{field="Name",source="` + src + `"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"livebind_generation", "livebind_source_healthy", "livebind_updates_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c); n != 12 {
		t.Errorf("collected %d metrics, want 12 (3 binding, 2 field, 7 source; no histogram series yet)", n)
	}
}
