// Package browsertest runs headless Chromium for livebind's end-to-end tests.
//
// [Chromium] finds Debian's chromium (/usr/bin/chromium, or the path in
// $LIVEBIND_CHROMIUM) and, when it is missing and the test runs as root,
// installs it with apt-get, under a file lock so that parallel test
// processes install it once. If neither works the test fails with the
// command to run: an end-to-end test is never skipped silently.
//
// [New] starts a browser with a fresh profile and the flags this machine
// needs (no sandbox as root, no GPU, no background networking, no QUIC),
// connected over a pipe, and stops it when the test ends.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// DefaultPath is where Debian's chromium package puts the browser.
const DefaultPath = "/usr/bin/chromium"

// EnvPath names an environment variable that overrides [DefaultPath].
const EnvPath = "LIVEBIND_CHROMIUM"

// installTimeout bounds apt-get update plus install.
const installTimeout = 10 * time.Minute

// startTimeout bounds starting the browser and opening its first tab.
const startTimeout = 60 * time.Second

// Chromium returns the path of a Chromium binary. If there is none and the
// process runs as root, it installs Debian's chromium package first. It
// fails tb with the reason and the command to run if it cannot.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := find(); p != "" {
		return p
	}
	if os.Geteuid() != 0 {
		tb.Fatalf("browsertest: no Chromium at %s (or $%s) and not root, so it cannot be installed here; run: sudo apt-get install -y chromium", DefaultPath, EnvPath)
	}
	if err := install(tb); err != nil {
		tb.Fatalf("browsertest: installing Chromium failed: %v\nrun: apt-get update && apt-get install -y chromium", err)
	}
	p := find()
	if p == "" {
		tb.Fatalf("browsertest: apt-get installed chromium but %s is still missing", DefaultPath)
	}
	return p
}

// find returns the first executable candidate, or "".
func find() string {
	candidates := []string{os.Getenv(EnvPath), DefaultPath}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// installMu serializes installs within this process; the file lock does
// it across processes (go test runs packages in parallel).
var installMu sync.Mutex

func install(tb testing.TB) error {
	tb.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	// One lock for every test process on the machine, so not tb.TempDir.
	unlock, err := fixture.LockFile(filepath.Join(os.TempDir(), "livebind-chromium-install.lock")) //nolint:usetesting // shared across processes on purpose
	if err != nil {
		return fmt.Errorf("install %w", err)
	}
	defer unlock()
	if find() != "" { // another process installed it while we waited
		return nil
	}
	ctx, cancel := context.WithTimeout(tb.Context(), installTimeout)
	defer cancel()
	start := time.Now()
	tb.Logf("browsertest: Chromium not found; installing Debian's chromium package (apt-get, up to %v)", installTimeout)
	for _, args := range [][]string{
		{"apt-get", "update"},
		{"apt-get", "install", "-y", "chromium"},
	} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, tail(out, 2000))
		}
	}
	tb.Logf("browsertest: installed Chromium in %v", time.Since(start).Round(time.Second))
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Browser is one headless Chromium with one tab, owned by a test.
type Browser struct {
	tb  testing.TB
	ctx context.Context
}

// New starts headless Chromium with a fresh profile and opens a tab. Drive
// it with [Run], [Browser.Do] and [Browser.Screenshot], each step bounded by
// a timeout. The browser is closed, and its process waited for, when the
// test ends.
func New(tb testing.TB) *Browser {
	tb.Helper()
	path := Chromium(tb)
	out := &fixture.Buffer{} // the browser's output
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root, in a container
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
	)
	// tb.Context ends before cleanups run; the browser must instead close
	// in the cleanup below, gracefully and in order.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(tb.Context()), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			tb.Logf("browsertest: closing the browser: %v", err)
		}
		cancelTab()
		cancelAlloc() // waits for the browser process
		if tb.Failed() {
			tb.Logf("browsertest: browser output:\n%s", tail([]byte(out.String()), 4000))
		}
	})

	// The first Do starts the browser and binds its life to ctx, so it
	// cannot carry a timeout itself: bound it from outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			tb.Fatalf("browsertest: starting %s: %v\n%s", path, err, tail([]byte(out.String()), 4000))
		}
	case <-time.After(startTimeout):
		cancelTab()
		err := <-started
		tb.Fatalf("browsertest: %s did not start within %v (%v)\n%s", path, startTimeout, err, tail([]byte(out.String()), 4000))
	}
	return &Browser{tb: tb, ctx: ctx}
}

// Context returns the tab's chromedp context, for chromedp calls that
// [Run] and [Browser.Do] do not cover. Derive timeouts from it.
func (b *Browser) Context() context.Context { return b.ctx }

// Run runs one chromedp action in b's tab, bounded by timeout, and fails
// the test if it fails.
func Run[T any](b *Browser, timeout time.Duration, a chromedp.Action[T]) T {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.tb.Fatalf("browsertest: %v", err)
	}
	return v
}

// Do runs actions that return nothing, bounded by timeout together.
func (b *Browser) Do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	Run(b, timeout, chromedp.Steps(actions...))
}

// Screenshot saves a PNG of the whole page into the test's artifact
// directory (kept with go test -artifacts -outputdir DIR) and logs its
// path.
func (b *Browser) Screenshot(name string) string {
	b.tb.Helper()
	png := Run(b, 20*time.Second, chromedp.FullScreenshot(100))
	path := filepath.Join(b.tb.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.tb.Fatalf("browsertest: saving screenshot: %v", err)
	}
	b.tb.Logf("screenshot: %s", path)
	return path
}
