package livebind

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livebind/livebind/sources/env"
)

// TestLookupEnvPanicFailsBind: a WithLookupEnv function that panics while
// Bind expands tags makes Bind fail with an error wrapping
// env.ErrLookupPanicked, without the panic value; the process survives
// (issue 10, class 3: user code never kills the process).
func TestLookupEnvPanicFailsBind(t *testing.T) {
	t.Parallel()
	var c struct {
		Path string `live:"file=${DIR}/app.txt"`
	}
	_, err := Bind(t.Context(), &c, WithLookupEnv(func(string) (string, bool) { panic("hunter2-in-panic") }))
	if !errors.Is(err, env.ErrLookupPanicked) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("want env.ErrLookupPanicked without the value, got %v", err)
	}
	if c.Path != "" {
		t.Fatal("a failed Bind wrote *dst")
	}
}

// panicHandler is a slog handler with a bug: it panics on every record.
type panicHandler struct{ slog.Handler }

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }

// TestLogHandlerPanicIsContained: a logger whose handler panics loses its
// records; Bind, updates and errors go on (issue 10, class 3).
func TestLogHandlerPanicIsContained(t *testing.T) {
	t.Parallel()
	e := newEnv("N", "1")
	var c struct {
		N int `live:"env=N; poll=1h"`
	}
	b, err := Bind(t.Context(), &c, WithLookupEnv(e.lookup), WithLogger(slog.New(panicHandler{})))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	e.set("N", "not a number") // an Error update, logged at Warn
	if err := b.Reload(t.Context()); !errors.Is(err, ErrDecode) {
		t.Fatalf("want ErrDecode from the bad value, got %v", err)
	}
	e.set("N", "2") // an Updated, logged at Debug
	if err := b.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := b.Get().N; got != 2 {
		t.Fatalf("N = %d, want 2", got)
	}
}

// TestCacheSealPanicIsContained: a WithCacheEncryption seal function that
// panics leaves the entry unwritten; Bind succeeds and the value is live.
func TestCacheSealPanicIsContained(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("s3cr3t-token"))
	}))
	defer srv.Close()
	var c struct {
		Token string `live:"http=${U}/token.txt; secret; poll=1h"`
	}
	dir := t.TempDir()
	b, err := Bind(t.Context(), &c, WithLookupEnv(newEnv("U", srv.URL).lookup), WithCache(dir),
		WithCacheEncryption(func([]byte) ([]byte, error) { panic("seal bug") }, func(b []byte) ([]byte, error) { return b, nil }))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Get().Token != "s3cr3t-token" {
		t.Fatal("the value is not live")
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "livebind-*.json"))
	if len(entries) != 0 {
		t.Fatalf("a panicking seal wrote %v", entries)
	}
}
