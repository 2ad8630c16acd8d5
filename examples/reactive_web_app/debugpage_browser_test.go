package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/browsertest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/livebindhttp"
)

// debugConfig is what the debug-page browser test binds: a file-backed
// struct that takes large values and an env field.
type debugConfig struct {
	Settings struct {
		Name    string   `toml:"name"`
		Workers int      `toml:"workers"`
		Tags    []string `toml:"tags"`
	} `live:"file=${DIR}/app.toml; poll=1h"`
	Mode string `live:"env=MODE; default=prod; poll=1h"`
}

// debugFixture is a bound debugConfig and what changes it.
type debugFixture struct {
	b   *livebind.Binding[debugConfig]
	env *fixture.Env
	dir string
}

func newDebugFixture(t *testing.T) *debugFixture {
	t.Helper()
	f := &debugFixture{dir: t.TempDir()}
	f.env = fixture.NewEnv("DIR", f.dir)
	f.write(t, "app.toml", "name = \"svc\"\nworkers = 4\ntags = [\"a\", \"b\"]\n")
	var cfg debugConfig
	b, err := livebind.Bind(t.Context(), &cfg, livebind.WithLookupEnv(f.env.Lookup))
	if err != nil {
		t.Fatal(err)
	}
	f.b = b
	return f
}

func (f *debugFixture) write(t *testing.T, name, data string) {
	t.Helper()
	fixture.WriteFile(t, f.dir, name, data)
}

func (f *debugFixture) reload(t *testing.T) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return f.b.Reload(ctx)
}

// TestBrowserReconnectsAfterBye opens the page in headless Chromium with a
// queue bound so small that a burst of large updates makes the server drop
// the stream (bye). The page must open a new stream by itself and read the
// state again, so that it ends up showing the last value although the
// update that carried it may never have reached it.
func TestBrowserReconnectsAfterBye(t *testing.T) {
	f := newDebugFixture(t)
	var streams atomic.Int64
	h := livebindhttp.Handler(f.b, livebindhttp.WithStreamQueueBytes(1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/events" {
			streams.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	// The binding closes first (ending the streams), then the server.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = f.b.Close() })

	br := browsertest.New(t)
	const step = 15 * time.Second
	browsertest.Run(br, step, chromedp.Navigate(srv.URL+"/"))
	browsertest.Run(br, step, chromedp.Poll[bool](`document.body.dataset.live === "1"`, chromedp.WithPollingTimeout(10*time.Second)))

	// Each reload publishes two updates at once, Settings (1 MiB, old and
	// new) first, then Mode: Mode finds Settings still queued or being
	// written, over the 1-byte bound.
	big := strings.Repeat("m", 512<<10)
	last := ""
	for i := 0; i < 10 && streams.Load() < 2; i++ {
		last = fmt.Sprintf("burst-%d", i)
		f.env.Set("MODE", last)
		f.write(t, "app.toml", fmt.Sprintf("name = \"svc\"\nworkers = %d\ntags = [%q]\n", 10+i, big))
		if err := f.reload(t); err != nil {
			t.Fatal(err)
		}
		for range 50 { // the page is reconnecting after 2 s: wait a little for it
			if streams.Load() >= 2 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	browsertest.Run(br, step, chromedp.Poll[bool](
		fmt.Sprintf(`document.body.dataset.live === "1" &&
		 document.querySelector('tr[data-field="Mode"] .value').textContent.indexOf(%q) === 1 &&
		 document.getElementById("gen").textContent === %q`, last, fmt.Sprint(snapshotGen(f.b))),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if n := streams.Load(); n < 2 {
		t.Fatalf("the page opened %d streams: the server never dropped it, or it never came back", n)
	}
	t.Logf("the page opened %d streams", streams.Load())
}

// snapshotGen is the binding's current generation.
func snapshotGen[T any](b *livebind.Binding[T]) uint64 {
	_, g := b.Snapshot()
	return g
}
