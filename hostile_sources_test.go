package livebind

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/file"
)

// promptly bounds a call that must not wait on a hostile file: before the
// fix a named pipe blocked Bind, Reload and Close forever.
const promptly = 2 * time.Second

// hostileLimits runs a case in a child process: a hang shows as TimedOut,
// a runaway read (/dev/zero, a 1 GiB sparse file) as HeapExceeded.
var hostileLimits = childtest.Limits{Timeout: 30 * time.Second, Heap: 128 << 20}

// sparseFile makes a file of size bytes that occupies no disk blocks.
func sparseFile(t *testing.T, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// timed fails t when call takes longer than promptly.
func timed(t *testing.T, what string, call func()) {
	t.Helper()
	start := time.Now()
	call()
	if d := time.Since(start); d > promptly {
		t.Fatalf("%s took %v, want less than %v", what, d, promptly)
	}
}

// TestHostileFileAtBind: a file= (or NAME_FILE) path that leads to
// something that is not a regular file, or to a file larger than maxbytes=,
// fails Bind at once with a FieldError naming the field, wrapping ErrSource
// and the reason, and never grows the heap with the file's size.
func TestHostileFileAtBind(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("named pipes and /dev files as on Linux")
	}
	type textCfg struct {
		V string `live:"file=${P}; format=text"`
	}
	type smallCfg struct {
		V string `live:"file=${P}; format=text; maxbytes=4"`
	}
	type envCfg struct {
		Password string `live:"env=DB_PASSWORD; secret"`
	}
	for _, tc := range []struct {
		name string
		path func(t *testing.T, dir string) string
		bind func(ctx context.Context, env *testEnv) error
		want error  // wrapped by Bind's error, besides ErrSource
		in   string // what the error says
	}{
		{
			name: "named pipe", path: func(t *testing.T, dir string) string { t.Helper(); return mkfifo(t, filepath.Join(dir, "app.txt")) },
			want: file.ErrNotRegular, in: "named pipe",
		},
		{
			name: "dev-zero", path: func(*testing.T, string) string { return "/dev/zero" },
			want: file.ErrNotRegular, in: "character device",
		},
		{
			name: "dev-urandom", path: func(*testing.T, string) string { return "/dev/urandom" },
			want: file.ErrNotRegular, in: "character device",
		},
		{
			name: "sparse 1GiB", path: func(t *testing.T, dir string) string {
				t.Helper()
				return sparseFile(t, filepath.Join(dir, "app.txt"), 1<<30)
			},
			want: sources.ErrTooLarge, in: "more than maxbytes=16777216",
		},
		{
			name: "200MiB over the default", path: func(t *testing.T, dir string) string {
				t.Helper()
				return sparseFile(t, filepath.Join(dir, "app.txt"), 200<<20)
			},
			want: sources.ErrTooLarge, in: "209715200 bytes",
		},
		{
			name: "over maxbytes=4",
			path: func(t *testing.T, dir string) string { t.Helper(); return writeFile(t, dir, "app.txt", "hello") },
			bind: func(ctx context.Context, env *testEnv) error {
				var cfg smallCfg
				_, err := Bind(ctx, &cfg, WithLookupEnv(env.lookup))
				return err
			},
			want: sources.ErrTooLarge, in: "5 bytes, more than maxbytes=4",
		},
		{
			name: "env NAME_FILE to a named pipe",
			path: func(t *testing.T, dir string) string { t.Helper(); return mkfifo(t, filepath.Join(dir, "password")) },
			bind: func(ctx context.Context, env *testEnv) error {
				p, _ := env.lookup("P")
				env.set("DB_PASSWORD_FILE", p)
				var cfg envCfg
				_, err := Bind(ctx, &cfg, WithLookupEnv(env.lookup))
				return err
			},
			want: file.ErrNotRegular, in: "DB_PASSWORD_FILE",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := childtest.Run(t, hostileLimits, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
				env := newEnv("P", tc.path(t, t.TempDir()))
				bind := tc.bind
				if bind == nil {
					bind = func(ctx context.Context, env *testEnv) error {
						var cfg textCfg
						_, err := Bind(ctx, &cfg, WithLookupEnv(env.lookup), WithStartTimeout(time.Minute))
						return err
					}
				}
				var err error
				timed(t, "Bind", func() { err = bind(t.Context(), env) })
				if !errors.Is(err, ErrSource) || !errors.Is(err, tc.want) {
					t.Fatalf("Bind: want an error wrapping ErrSource and %v, got %v", tc.want, err)
				}
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("Bind: want a *FieldError, got %T", err)
				}
				if !strings.Contains(err.Error(), tc.in) || !strings.Contains(err.Error(), envValue(env, "P")) {
					t.Fatalf("Bind error %q lacks %q or the path", err, tc.in)
				}
			})
			if !res.OK() {
				t.Fatalf("child: %v", res)
			}
		})
	}
}

// TestHostileFileAtRun: a bound file replaced at run time by a named pipe,
// a device link or a huge file is an Error update (from the watch) and a
// Reload error, both prompt; the last good value stays; Close returns at
// once.
func TestHostileFileAtRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("named pipes and /dev files as on Linux")
	}
	type cfg struct {
		Name string `live:"file=${P}; key=name; debounce=10ms"`
	}
	for _, tc := range []struct {
		name    string
		replace func(t *testing.T, path string) // turns path into something hostile
		want    error
	}{
		{"named pipe", func(t *testing.T, path string) { t.Helper(); mkfifo(t, path) }, file.ErrNotRegular},
		{"symlink to dev-zero", func(t *testing.T, path string) {
			t.Helper()
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}, file.ErrNotRegular},
		{"sparse 1GiB", func(t *testing.T, path string) {
			t.Helper()
			// Made aside and renamed in, so that no read sees it empty.
			if err := os.Rename(sparseFile(t, path+".tmp", 1<<30), path); err != nil {
				t.Fatal(err)
			}
		}, sources.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := childtest.Run(t, hostileLimits, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
				dir := t.TempDir()
				path := writeFile(t, dir, "app.toml", "name = \"good\"\n")
				var c cfg
				b, err := Bind(t.Context(), &c, WithLookupEnv(newEnv("P", path).lookup))
				if err != nil {
					t.Fatal(err)
				}
				rec := record(t, b)
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				tc.replace(t, path)
				u, _ := rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind == Error })
				if !errors.Is(u.Err, tc.want) || u.Field != "Name" {
					t.Fatalf("watch: want an Error update for Name wrapping %v, got %v", tc.want, u)
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				timed(t, "Reload", func() { err = b.Reload(ctx) })
				if !errors.Is(err, tc.want) {
					t.Fatalf("Reload: want an error wrapping %v, got %v", tc.want, err)
				}
				if got := b.Get().Name; got != "good" {
					t.Fatalf("the last good value must stay, got %q", got)
				}
				timed(t, "Close", func() { err = b.Close() })
				if err != nil {
					t.Fatal(err)
				}
			})
			if !res.OK() {
				t.Fatalf("child: %v", res)
			}
		})
	}
}

// TestRelativePathAfterChdir: a relative file= path resolves once, at Bind.
// After os.Chdir, Reload reads the same file (it used to report Removed, or
// read a file of the same name in the new directory). Not parallel: it
// changes the working directory (t.Chdir restores it).
func TestRelativePathAfterChdir(t *testing.T) {
	type cfg struct {
		Name string `live:"file=conf/app.toml; key=name"`
	}
	home, elsewhere := t.TempDir(), t.TempDir()
	for _, d := range []string{home, elsewhere} {
		if err := os.Mkdir(filepath.Join(d, "conf"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := writeFile(t, filepath.Join(home, "conf"), "app.toml", "name = \"home\"\n")
	writeFile(t, filepath.Join(elsewhere, "conf"), "app.toml", "name = \"elsewhere\"\n")
	t.Chdir(home)
	var c cfg
	b, err := Bind(t.Context(), &c)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rec := record(t, b)
	t.Chdir(elsewhere)
	if err := b.Reload(t.Context()); err != nil {
		t.Fatalf("Reload after Chdir: %v", err)
	}
	if got := b.Get().Name; got != "home" {
		t.Fatalf("after Chdir and Reload: want the Bind-time file (home), got %q", got)
	}
	rec.quiet(t, 100*time.Millisecond) // no Removed, no Updated
	if err := os.WriteFile(path, []byte("name = \"home2\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := b.Get().Name; got != "home2" {
		t.Fatalf("the Bind-time file is still the one read: want home2, got %q", got)
	}
}

// TestFormatRule: one rule decides a result's format: format= wins; then a
// specific type the source declares; then the location's extension; then
// text. Generic types (text/plain, octet-stream, unknown) defer to the
// extension.
func TestFormatRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		format   string // format=
		location string
		declared string // Result.Format: a Content-Type or a format name
		want     string
	}{
		{"format= beats a specific type", "text", "https://h/app.json", "application/json", "text"},
		{"format= beats the extension", "yaml", "https://h/app.json", "", "yaml"},
		{".json served as text/plain", "", "https://raw.h/app.json", "text/plain; charset=utf-8", "json"},
		{".yaml served as text/plain", "", "https://raw.h/app.yml", "text/plain", "yaml"},
		{".toml served as octet-stream", "", "https://h/app.toml", "application/octet-stream", "toml"},
		{".json served as text/html", "", "https://h/app.json?x=1", "text/html", "json"},
		{"specific type beats the extension", "", "https://h/app.txt", "application/json", "json"},
		{"+json", "", "https://h/config", "application/problem+json", "json"},
		{"yaml type without extension", "", "https://h/config", "application/yaml", "yaml"},
		{"x-yaml", "", "https://h/config", "application/x-yaml", "yaml"},
		{"toml type", "", "https://h/config", "application/toml", "toml"},
		{"text/plain without extension", "", "https://h/motd", "text/plain", "text"},
		{"nothing declared, no extension", "", "/etc/motd", "", "text"},
		{"extension alone", "", "/etc/app.yaml", "", "yaml"},
		{"a source's own format name", "", "secret/app.json", "text", "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := &target{format: tc.format, guess: formatFromName(tc.location)}
			if got := tg.formatFor(sources.Result{Format: tc.declared}); got != tc.want {
				t.Fatalf("formatFor(%q at %q, format=%q) = %q, want %q", tc.declared, tc.location, tc.format, got, tc.want)
			}
		})
	}
}

// rawHost serves bodies with a given Content-Type, as raw file hosts do.
type rawHost struct {
	mu    sync.Mutex
	body  string
	ctype string
}

func (h *rawHost) set(body string) {
	h.mu.Lock()
	h.body = body
	h.mu.Unlock()
}

func (h *rawHost) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	body, ctype := h.body, h.ctype
	h.mu.Unlock()
	w.Header().Set("Content-Type", ctype)
	fmt.Fprint(w, body)
}

// TestHTTPJSONAsTextPlain: a .json file served as text/plain decodes as
// JSON, at Bind and on every poll.
func TestHTTPJSONAsTextPlain(t *testing.T) {
	t.Parallel()
	host := &rawHost{body: `{"server":{"port":8080}}`, ctype: "text/plain; charset=utf-8"}
	srv := httptest.NewServer(host)
	defer srv.Close()
	type cfg struct {
		Port int `live:"http=${U}/raw/main/app.json; key=server.port; poll=20ms"`
	}
	var c cfg
	b, err := Bind(t.Context(), &c, WithLookupEnv(newEnv("U", srv.URL).lookup))
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	defer b.Close()
	if c.Port != 8080 {
		t.Fatalf("want port 8080 from JSON served as text/plain, got %d", c.Port)
	}
	rec := record(t, b)
	host.set(`{"server":{"port":9090}}`)
	u, _ := rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind == Updated })
	if b.Get().Port != 9090 || u.Field != "Port" {
		t.Fatalf("want Port updated to 9090, got %v (port %d)", u, b.Get().Port)
	}
}

// TestHTTPEmptyBody: a 200 with an empty body is an ErrEmpty Error update
// for every format, text included (it used to replace a text value with
// ""); the last good value stays, and the next good body applies.
func TestHTTPEmptyBody(t *testing.T) {
	t.Parallel()
	type textCfg struct {
		V string `live:"http=${U}; poll=20ms"`
	}
	type keyCfg struct {
		V string `live:"http=${U}; key=a; poll=20ms"`
	}
	for _, tc := range []struct {
		name, path, ctype string
		body, next        string // good bodies before and after the empty one
		want, wantNext    string // the field's value from each
		keyed             bool   // the field reads key a
	}{
		{name: "text", path: "/motd.txt", ctype: "text/plain", body: "hello", next: "bye", want: "hello", wantNext: "bye"},
		{name: "text without extension", path: "/motd", ctype: "text/plain", body: "hello", next: "bye", want: "hello", wantNext: "bye"},
		{name: "json", path: "/app.json", ctype: "application/json", body: `{"a":"x"}`, next: `{"a":"y"}`, want: "x", wantNext: "y", keyed: true},
		{name: "yaml", path: "/app.yaml", ctype: "application/yaml", body: "a: x\n", next: "a: y\n", want: "x", wantNext: "y", keyed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := &rawHost{body: tc.body, ctype: tc.ctype}
			srv := httptest.NewServer(host)
			defer srv.Close()
			opt := WithLookupEnv(newEnv("U", srv.URL+tc.path).lookup)
			var get func() string
			var closer interface{ Close() error }
			var rec *recorder
			if tc.keyed {
				var c keyCfg
				b, err := Bind(t.Context(), &c, opt)
				if err != nil {
					t.Fatalf("Bind: %v", err)
				}
				get, closer, rec = func() string { return b.Get().V }, b, record(t, b)
			} else {
				var c textCfg
				b, err := Bind(t.Context(), &c, opt)
				if err != nil {
					t.Fatalf("Bind: %v", err)
				}
				get, closer, rec = func() string { return b.Get().V }, b, record(t, b)
			}
			defer closer.Close()
			if got := get(); got != tc.want {
				t.Fatalf("at Bind: want %q, got %q", tc.want, got)
			}
			host.set("")
			u, seen := rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind == Error })
			if !errors.Is(u.Err, ErrEmpty) || u.Field != "V" || len(seen) != 0 {
				t.Fatalf("want only an ErrEmpty Error update for V, got %v after %v", u, seen)
			}
			if got := get(); got != tc.want {
				t.Fatalf("the last good value must stay: want %q, got %q", tc.want, got)
			}
			host.set(tc.next)
			u, _ = rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind != Error })
			if got := get(); got != tc.wantNext || u.Kind != Updated {
				t.Fatalf("after a good body: want %q Updated, got %q (%v)", tc.wantNext, got, u)
			}
		})
	}
}

// TestHTTPEmptyBodyAtBind: an empty body at Bind fails Bind with ErrEmpty,
// text included, instead of binding "".
func TestHTTPEmptyBodyAtBind(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&rawHost{ctype: "text/plain"})
	defer srv.Close()
	type cfg struct {
		V string `live:"http=${U}"`
	}
	var c cfg
	_, err := Bind(t.Context(), &c, WithLookupEnv(newEnv("U", srv.URL+"/motd.txt").lookup))
	if !errors.Is(err, ErrEmpty) {
		t.Fatalf("want Bind to fail with ErrEmpty, got %v", err)
	}
}

// envValue returns the value of a variable of env, or "" when it is unset.
func envValue(env *testEnv, name string) string {
	v, _ := env.lookup(name)
	return v
}
