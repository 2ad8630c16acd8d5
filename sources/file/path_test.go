package file

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// hostileNames are file names that could forge a log line or garble one
// if printed as they are: a newline followed by what looks like a log
// record, a carriage return, invalid UTF-8, a right-to-left override.
var hostileNames = []string{
	"app.toml\ntime=2026-01-01T00:00:00Z level=ERROR msg=forged",
	"app.toml\rforged",
	"app\xff\xfe.toml",
	"app\u202elmot.toml",
}

// TestErrorShowsHostilePathQuoted: an error names its path, and a path
// that is not printable UTF-8 is quoted, never written raw into a message
// that ends up in a log.
func TestErrorShowsHostilePathQuoted(t *testing.T) {
	dir := t.TempDir()
	d := openDriver(t)
	for _, name := range hostileNames {
		path := filepath.Join(dir, name)
		if err := os.Mkdir(path, 0o755); err != nil { // a directory: the read fails and names it
			t.Skipf("this file system refuses the name %q: %v", name, err)
		}
		r := d.Read(t.Context(), target(path))
		require.ErrorIs(t, r.Err, ErrNotRegular)
		msg := r.Err.Error()
		require.Contains(t, msg, strconv.Quote(path))
		requirePrintable(t, msg)
	}
	t.Run("a path inside the cause", func(t *testing.T) {
		conf := filepath.Join(dir, hostileNames[0]+".d")
		require.NoError(t, os.Mkdir(conf, 0o755))
		path := filepath.Join(conf, "app.toml")
		orig := addWatch
		addWatch = func(w notifier, name string, entriesOnly bool) error {
			if name == conf { // as the inotify backend reports it
				return &fs.PathError{Op: "inotify_add_watch", Path: name, Err: syscall.ENOSPC}
			}
			return orig(w, name, entriesOnly)
		}
		t.Cleanup(func() { addWatch = orig })
		_, err := openDriver(t).Watch(target(path), sources.Result{Missing: true}, func(sources.Result) {})
		require.ErrorIs(t, err, sources.ErrWatchLimit)
		var pe *fs.PathError
		require.ErrorAs(t, err, &pe, "the cause is still reachable")
		require.Equal(t, conf, pe.Path)
		require.Contains(t, err.Error(), strconv.Quote(conf))
		requirePrintable(t, err.Error())
	})
	t.Run("log lines", func(t *testing.T) {
		// An ancestor that cannot be watched is logged with its error;
		// the path attributes are the handler's to escape, and slog's
		// text handler does.
		above := filepath.Join(dir, hostileNames[0]+".up")
		conf := filepath.Join(above, "conf")
		require.NoError(t, os.MkdirAll(conf, 0o755))
		path := filepath.Join(conf, "app.toml")
		writeFile(t, path, v1)
		orig := addWatch
		addWatch = func(w notifier, name string, entriesOnly bool) error {
			if name == above {
				return &fs.PathError{Op: "inotify_add_watch", Path: name, Err: syscall.ENOSPC}
			}
			return orig(w, name, entriesOnly)
		}
		t.Cleanup(func() { addWatch = orig })
		var buf lockedBuffer
		d := fixture.OpenDriverWith(t, "file", sources.Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}).(*driver) //nolint:forcetypeassert // the file scheme's driver
		w, _ := startWatch(t, d, target(path))
		w.Stop()
		d.mu.Lock()
		ancestors := d.ancestors
		d.mu.Unlock()
		if !ancestors {
			t.Skip("this backend does not watch the directories above")
		}
		out := buf.String()
		require.Contains(t, out, "cannot watch a directory above")
		require.Contains(t, out, strconv.Quote(above)[1:len(strconv.Quote(above))-1], "the error names the directory, escaped")
		for line := range strings.Lines(out) {
			require.True(t, strings.HasPrefix(line, "time="), "a forged line: %q", line)
		}
	})
	t.Run("printable paths are shown as they are", func(t *testing.T) {
		path := filepath.Join(dir, "my app é.toml")
		require.NoError(t, os.Mkdir(path, 0o755))
		r := d.Read(t.Context(), target(path))
		require.ErrorContains(t, r.Err, "file "+path+": ")
	})
}

// lockedBuffer is a bytes.Buffer that a logger may write to from the
// driver's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// requirePrintable fails unless msg is valid UTF-8 made of printable
// characters only.
func requirePrintable(tb testing.TB, msg string) {
	tb.Helper()
	require.True(tb, strings.ToValidUTF8(msg, "?") == msg, "invalid UTF-8 in %q", msg)
	for _, r := range msg {
		require.True(tb, strconv.IsPrint(r), "unprintable %U in %q", r, msg)
	}
}
