package file

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// fallbackEnv makes the test binary use the fsnotify backend, for
// TestFallbackBackend and for benchmarks of the fallback:
// LIVEBIND_FILE_TEST_FALLBACK=1 go test -bench . ./sources/file/
const fallbackEnv = "LIVEBIND_FILE_TEST_FALLBACK"

func TestMain(m *testing.M) {
	if os.Getenv(fallbackEnv) != "" {
		forceFallback.Store(true)
	}
	goleak.VerifyTestMain(m)
}

// waitFor bounds every wait for a result.
const waitFor = 5 * time.Second

// openDriver opens the registered file scheme, logging to the test's
// log, closed at cleanup.
func openDriver(tb testing.TB) *driver {
	tb.Helper()
	d, ok := fixture.OpenDriverWith(tb, "file", sources.Config{Logger: fixture.TestLogger(tb)}).(*driver)
	require.True(tb, ok)
	return d
}

// watcher collects what one Watch emits.
type watcher struct{ *fixture.Recorder }

// startWatch reads the target like livebind does, then watches it from that
// result. The watch is stopped at cleanup.
var startWatch = fixture.StartRecordAs[watcher]

// watchFrom watches the target starting from last. The watch is stopped at
// cleanup.
var watchFrom = fixture.RecordAs[watcher]

// wantData asserts that the next result is the given content.
func (w *watcher) wantData(tb testing.TB, want string) {
	tb.Helper()
	r := w.Next(tb)
	require.NoError(tb, r.Err, "want data %q", want)
	require.False(tb, r.Missing, "want data %q, got missing", want)
	require.Equal(tb, want, string(r.Data))
	require.Equal(tb, version([]byte(want)), r.Version)
	require.Empty(tb, r.Format)
}

// wantMissing asserts that the next result reports the file missing.
func (w *watcher) wantMissing(tb testing.TB) {
	tb.Helper()
	r := w.Next(tb)
	require.NoError(tb, r.Err)
	require.True(tb, r.Missing, "want missing, got data %q", r.Data)
	require.Nil(tb, r.Data)
}

// wantErr asserts that the next result is an error matching target, and
// returns its message.
func (w *watcher) wantErr(tb testing.TB, target error) string {
	tb.Helper()
	return w.NextErr(tb, target)
}

// wantNone asserts that nothing was reported before the sentinel content
// written to path: the next result must be the sentinel itself.
func (w *watcher) wantNone(tb testing.TB, path string) {
	tb.Helper()
	sentinel := fmt.Sprintf("sentinel = \"%d\"\n", time.Now().UnixNano())
	writeAtomic(tb, path, sentinel)
	w.wantData(tb, sentinel)
}

// writeFile writes content in place (truncate, then write).
func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	require.NoError(tb, os.WriteFile(path, []byte(content), 0o644))
}

// writeAtomic writes a temporary file in the same directory and renames it
// over path, like most editors and config management tools.
func writeAtomic(tb testing.TB, path, content string) {
	tb.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	require.NoError(tb, os.WriteFile(tmp, []byte(content), 0o644))
	require.NoError(tb, os.Rename(tmp, path))
}

// errBadLine is what checkTOML wraps: its message quotes the content, like
// real parsers do.
var errBadLine = errors.New("bad line")

var tomlLine = regexp.MustCompile(`^[a-z_]+ = "[^"]*"$`)

// checkTOML accepts a tiny subset of TOML: lines of key = "value". A
// half-written file fails it, as it would fail a real decoder.
func checkTOML(data []byte) error {
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\n")
		if line != "" && !tomlLine.MatchString(line) {
			return fmt.Errorf("%w: %q", errBadLine, line)
		}
	}
	return nil
}

// target returns a notification target for path with default options.
func target(path string) *sources.Target {
	return &sources.Target{Scheme: "file", Location: path}
}

// eventually polls cond until it holds, within waitFor.
func eventually(tb testing.TB, cond func() bool, msg string) {
	tb.Helper()
	fixture.Eventually(tb, waitFor, cond, msg)
}

// dirState returns the driver's watched directories and their refcounts:
// those held for files, not those watched only as ancestors of them.
func dirState(d *driver) map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := make(map[string]int, len(d.dirs))
	for k, v := range d.dirs {
		if v.refs > 0 {
			m[k] = v.refs
		}
	}
	return m
}

// wantDirs waits until the driver watches exactly the directories of want,
// with those refcounts: a link target's directory is watched from the
// watch's first check, just after Watch returns.
func wantDirs(tb testing.TB, d *driver, want map[string]int) {
	tb.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		got := dirState(d)
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("watched directories: got %v, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// watchList returns what the notifier watches for files (see dirState):
// allWatches without the directories watched only as ancestors.
func watchList(d *driver) []string {
	all := allWatches(d)
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.DeleteFunc(all, func(p string) bool { dw := d.dirs[p]; return dw != nil && dw.refs == 0 })
}

// allWatches returns every path the notifier watches.
func allWatches(d *driver) []string {
	d.mu.Lock()
	w := d.w
	d.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.WatchList()
}

// appFile writes data to app.toml in a new temporary directory and returns
// its path.
func appFile(tb testing.TB, data string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "app.toml")
	writeFile(tb, path, data)
	return path
}

// watchApp writes data to a new app.toml and watches it with a new driver.
func watchApp(tb testing.TB, data string) (*watcher, string) {
	tb.Helper()
	path := appFile(tb, data)
	w, _ := startWatch(tb, openDriver(tb), target(path))
	return w, path
}
