package file

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

func TestLimitError(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		want  string
	}{
		{syscall.ENOSPC, "fs.inotify.max_user_watches"},
		{syscall.EMFILE, "fs.inotify.max_user_instances"},
		{syscall.ENFILE, "open files"},
	} {
		t.Run(tc.errno.Error(), func(t *testing.T) {
			err := limitError("/etc/app.toml", fmt.Errorf("inotify_add_watch: %w", tc.errno))
			require.ErrorIs(t, err, sources.ErrWatchLimit)
			require.ErrorIs(t, err, tc.errno)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, "poll=")
			require.ErrorContains(t, err, "/etc/app.toml")
		})
	}
	require.NoError(t, limitError("/x", syscall.ENOENT))
	require.NoError(t, limitError("/x", errors.New("other")))
}

// failAdd makes adding a watch on dir fail with ENOSPC while the returned
// flag is set (it starts set). Call it before opening the driver, so that
// the hook is removed after every watch has stopped.
func failAdd(t *testing.T, dir string) *atomic.Bool {
	t.Helper()
	failing := new(atomic.Bool)
	failing.Store(true)
	orig := addWatch
	addWatch = func(w notifier, name string, entriesOnly bool) error {
		if failing.Load() && name == dir {
			return fmt.Errorf("inotify_add_watch: %w", syscall.ENOSPC)
		}
		return orig(w, name, entriesOnly)
	}
	t.Cleanup(func() { addWatch = orig })
	return failing
}

func TestWatchLimitAtRuntime(t *testing.T) {
	t.Run("at Watch", func(t *testing.T) {
		path := appFile(t, v1)
		failAdd(t, filepath.Dir(path))
		d := openDriver(t)
		_, err := d.Watch(target(path), sources.Result{Data: []byte(v1)}, func(sources.Result) {
			t.Error("emit called for a failed watch")
		})
		require.ErrorIs(t, err, sources.ErrWatchLimit)
		require.ErrorIs(t, err, syscall.ENOSPC)
		require.ErrorContains(t, err, "fs.inotify.max_user_watches")
		require.Empty(t, dirState(d))
	})
	t.Run("directory re-created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "conf")
		path := filepath.Join(dir, "app.toml")
		require.NoError(t, os.Mkdir(dir, 0o755))
		writeFile(t, path, v1)
		failing := failAdd(t, dir)
		failing.Store(false)
		w, _ := startWatch(t, openDriver(t), target(path))

		require.NoError(t, os.RemoveAll(dir))
		w.wantMissing(t)
		failing.Store(true)
		require.NoError(t, os.Mkdir(dir, 0o755))
		writeFile(t, path, v2)
		msg := w.wantErr(t, sources.ErrWatchLimit)
		require.Contains(t, msg, "max_user_watches")
		time.Sleep(2 * time.Second) // several backoff rounds, each failing again
		failing.Store(false)
		w.wantData(t, v2) // the error was reported once
		writeFile(t, path, v3)
		w.wantData(t, v3)
	})
}
