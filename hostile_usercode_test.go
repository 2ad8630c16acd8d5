package livebind

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources/env"
)

// TestLookupEnvPanicFailsBind: a WithLookupEnv function that panics while
// Bind expands tags makes Bind fail with an error wrapping
// env.ErrLookupPanicked, without the panic value; the process survives
// (issue 10, class 3: user code never kills the process). In a child
// process: an unrecovered panic there ends the test binary.
func TestLookupEnvPanicFailsBind(t *testing.T) {
	t.Parallel()
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
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
	})
}

// panicHandler is a slog handler with a bug: it panics on every record.
type panicHandler struct{ slog.Handler }

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }

// TestLogHandlerPanicIsContained: a logger whose handler panics loses its
// records; Bind, updates and errors go on (issue 10, class 3). In a child
// process: the applier logs, so an unrecovered handler panic kills the
// test binary.
func TestLogHandlerPanicIsContained(t *testing.T) {
	t.Parallel()
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
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
	})
}

// TestCacheSealPanicIsContained: a WithCacheEncryption seal function that
// panics leaves the entry unwritten; Bind succeeds and the value is live.
// In a child process: an unrecovered panic there ends the test binary.
func TestCacheSealPanicIsContained(t *testing.T) {
	t.Parallel()
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
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
	})
}

// goexiting calls runtime.Goexit in its Validate method, its update=
// method and a field type's UnmarshalText, each for the value 13.
type goexiting struct {
	N int        `live:"env=N; poll=5ms"`
	M int        `live:"env=M; poll=5ms; update=SetM"`
	U goexitText `live:"env=U; poll=5ms"`
}

func (c *goexiting) Validate() error {
	if c.N == 13 {
		runtime.Goexit() // t.FailNow in a test's Validate does this
	}
	return nil
}

func (c *goexiting) SetM(v int) error {
	if v == 13 {
		runtime.Goexit()
	}
	c.M = v
	return nil
}

type goexitText string

func (g *goexitText) UnmarshalText(b []byte) error {
	if string(b) == "13" {
		runtime.Goexit()
	}
	*g = goexitText(b)
	return nil
}

// TestGoexitInUserCodeOnTheApplier: runtime.Goexit in Validate, an update=
// method or an UnmarshalText method (what t.FailNow does, from a require
// in a test's Validate) ended the applier goroutine: no later change was
// ever applied and Reload waited for its context. The applier now reports
// an Error update naming the field, keeps the last good value and goes
// on. In a child process: the old behavior hangs Reload.
func TestGoexitInUserCodeOnTheApplier(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		for _, tc := range []struct {
			field    string
			sentinel error
		}{
			{"N", ErrValidation},
			{"M", ErrUpdate},
			{"U", ErrDecode},
		} {
			t.Run(tc.field, func(t *testing.T) {
				env := newEnv("N", "1", "M", "1", "U", "1")
				b := mustBind(t, &goexiting{}, WithLookupEnv(env.lookup))
				rec := record(t, b)
				env.set(tc.field, "13")
				u, _ := rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind == Error })
				assert.Equal(t, tc.field, u.Field)
				require.ErrorIs(t, u.Err, tc.sentinel)
				assert.Contains(t, u.Err.Error(), "runtime.Goexit")
				assert.Equal(t, goexiting{N: 1, M: 1, U: "1"}, *b.Get(), "the last good value stays")

				env.set(tc.field, "2")
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				require.NoError(t, b.Reload(ctx), "the applier goes on")
				want := goexiting{N: 1, M: 1, U: "1"}
				switch tc.field {
				case "N":
					want.N = 2
				case "M":
					want.M = 2
				case "U":
					want.U = "2"
				}
				assert.Equal(t, want, *b.Get())
			})
		}
	})
}

// TestGoexitInValidateDuringBind: during Bind, Validate runs on the
// caller's goroutine, so a runtime.Goexit there ends that goroutine (what
// t.FailNow must do) and Bind never returns. What Bind had opened must not
// outlive it: the http driver's keep-alive connection stayed open, with
// its goroutines at both ends, until Bind closed its drivers on the way
// out.
func TestGoexitInValidateDuringBind(t *testing.T) {
	type conf struct {
		goexiting
		F string `live:"file=${F}; format=text"`
		H string `live:"http=${URL}; format=text; poll=1h"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("h")) }))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	env := newEnv("N", "13", "M", "1", "U", "1", "F", writeFile(t, dir, "f.txt", "x"), "URL", srv.URL)
	before := goleak.IgnoreCurrent()
	returned := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = Bind(t.Context(), &conf{}, WithLookupEnv(env.lookup))
		returned = true
	}()
	<-done
	assert.False(t, returned, "Bind returned after Validate called runtime.Goexit")
	assert.NoError(t, goleak.Find(before), "goroutines Bind left")
}
