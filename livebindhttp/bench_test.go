package livebindhttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bigconfig"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/livebindhttp"
)

// bindBig binds bigconfig.Config: 1,000 fields, 100 sources, 100 secret fields.
func bindBig(tb testing.TB) *livebind.Binding[bigconfig.Config] {
	tb.Helper()
	dir := tb.TempDir()
	if err := bigconfig.WriteFiles(dir); err != nil {
		tb.Fatal(err)
	}
	var cfg bigconfig.Config
	b, err := livebind.Bind(tb.Context(), &cfg, livebind.WithHistory(10), livebind.WithLookupEnv(bigconfig.Lookup(dir)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	return b
}

// BenchmarkHandler1000Fields measures one request of each endpoint on a
// binding of 1,000 fields, without the network: what the handler costs.
func BenchmarkHandler1000Fields(b *testing.B) {
	h := livebindhttp.Handler(bindBig(b))
	for _, path := range []string{"/", "/status.json", "/config.json", "/history.json"} {
		name := strings.TrimPrefix(path, "/")
		if name == "" {
			name = "page"
		}
		b.Run(name, func(b *testing.B) { fixture.BenchGet(b, h, path) })
	}
}

// TestBigConfigRedacted checks the 1,000-field page: every k9 field is
// secret and shown redacted.
func TestBigConfigRedacted(t *testing.T) {
	t.Parallel()
	h := livebindhttp.Handler(bindBig(t))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/config.json", nil))
	body := rec.Body.String()
	if n := strings.Count(body, `"[redacted]"`); n != 100 {
		t.Errorf("%d redacted values, want 100", n)
	}
	if !strings.Contains(body, `"F0998":998`) || strings.Contains(body, `"F0999":999`) {
		t.Errorf("F0998 should show, F0999 (secret) should not:\n%s", body[len(body)-200:])
	}
}

// BenchmarkHistoryAllChanged measures a request of history.json on a
// binding of 1,000 fields whose 10 generations of history each changed
// every field (a Reload after every file changed): each entry lists the
// values of 1,000 changed paths.
func BenchmarkHistoryAllChanged(b *testing.B) {
	bb := bindBig(b)
	st := bb.Status()
	files := map[string]bool{}
	for _, s := range st.Sources {
		files[strings.TrimPrefix(s.Source, "file:")] = true
	}
	for round := 1; round <= 10; round++ {
		for f := range files {
			var doc strings.Builder
			for k := range 10 {
				fmt.Fprintf(&doc, "k%d = %d\n", k, round*10000+k)
			}
			if err := os.WriteFile(f, []byte(doc.String()), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		if err := bb.Reload(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	if e := bb.History(); len(e) != 10 || len(e[len(e)-1].Changed) != 1000 {
		b.Fatalf("history of %d entries, the last changed %d fields; want 10 entries of 1000", len(e), len(e[len(e)-1].Changed))
	}
	fixture.BenchGet(b, livebindhttp.Handler(bb), "/history.json")
}
