package file

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

const (
	v1 = "name = \"one\"\n"
	v2 = "name = \"two\"\n"
	v3 = "name = \"three\"\n"
)

func TestScheme(t *testing.T) {
	s, ok := sources.Lookup("file")
	require.True(t, ok)
	require.True(t, s.Poll)
	require.False(t, s.Timeout)
	require.True(t, s.NativeDebounce)
	require.Equal(t, []string{"maxbytes"}, s.Options)
}

func TestWatchPlainWrite(t *testing.T) {
	path := appFile(t, v1)
	w, last := startWatch(t, openDriver(t), target(path))
	require.Equal(t, v1, string(last.Data))

	writeFile(t, path, v2)
	w.wantData(t, v2)
	writeFile(t, path, v3)
	w.wantData(t, v3)
	w.wantNone(t, path)
}

func TestWatchRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, "app.toml", v1)
	w, last := startWatch(t, openDriver(t), target("./sub/../app.toml"))
	require.Equal(t, v1, string(last.Data))
	writeFile(t, filepath.Join(dir, "app.toml"), v2)
	w.wantData(t, v2)
}

func TestWatchTruncateThenWrite(t *testing.T) {
	t.Run("pause shorter than debounce", func(t *testing.T) {
		w, path := watchApp(t, v1)

		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		require.NoError(t, err)
		time.Sleep(DefaultDebounce / 2) // an in-place writer between truncate and write
		_, err = f.WriteString(v2)
		require.NoError(t, err)
		require.NoError(t, f.Close())

		w.wantData(t, v2) // and never the empty file
		w.wantNone(t, path)
	})
	t.Run("pause longer than the retries", func(t *testing.T) {
		w, path := watchApp(t, v1)

		require.NoError(t, os.Truncate(path, 0))
		msg := w.wantErr(t, sources.ErrEmpty)
		require.Contains(t, msg, path)

		writeFile(t, path, v2)
		w.wantData(t, v2)
		w.wantNone(t, path)
	})
	t.Run("empty then same bytes again", func(t *testing.T) {
		// After an error, the good value is reported even if it equals the
		// last good one, so that livebind can clear the error.
		w, path := watchApp(t, v1)
		require.NoError(t, os.Truncate(path, 0))
		w.wantErr(t, sources.ErrEmpty)
		writeFile(t, path, v1)
		w.wantData(t, v1)
	})
}

func TestWatchAtomicSave(t *testing.T) {
	t.Run("rename over", func(t *testing.T) {
		w, path := watchApp(t, v1)
		writeAtomic(t, path, v2)
		w.wantData(t, v2)
		writeAtomic(t, path, v3)
		w.wantData(t, v3)
		w.wantNone(t, path)
	})
	t.Run("vim backup", func(t *testing.T) {
		w, path := watchApp(t, v1)
		for _, content := range []string{v2, v3} {
			require.NoError(t, os.Rename(path, path+"~"))
			time.Sleep(10 * time.Millisecond) // the editor writes the new file
			writeFile(t, path, content)
			require.NoError(t, os.Remove(path+"~"))
			w.wantData(t, content) // never missing in between
		}
		w.wantNone(t, path)
	})
}

func TestWatchDeleteAndRecreate(t *testing.T) {
	path := appFile(t, v1)
	d := openDriver(t)
	w, _ := startWatch(t, d, target(path))
	for _, content := range []string{v2, v3} {
		require.NoError(t, os.Remove(path))
		w.wantMissing(t)
		writeFile(t, path, content)
		w.wantData(t, content)
	}
	require.Equal(t, []string{filepath.Dir(path)}, watchList(d), "the directory stays watched")
}

func TestWatchMissingAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.toml")
	w, last := startWatch(t, openDriver(t), target(path))
	require.True(t, last.Missing)
	writeFile(t, path, v1)
	w.wantData(t, v1)
}

func TestWatchSameBytes(t *testing.T) {
	w, path := watchApp(t, v1)
	writeFile(t, path, v1)
	time.Sleep(3 * DefaultDebounce) // let the rewrite be read on its own
	writeAtomic(t, path, v1)
	time.Sleep(3 * DefaultDebounce)
	w.wantNone(t, path)
}

// kubeWriter lays out a volume the way kubernetes' atomic_writer does:
// <dir>/..<timestamp>/<file>, the link ..data to it, and <dir>/<file> ->
// ..data/<file>.
type kubeWriter struct {
	dir string
	ts  string // current timestamped directory
	n   int
}

func (k *kubeWriter) write(tb testing.TB, files map[string]string) {
	tb.Helper()
	k.n++
	ts := fmt.Sprintf("..2026_11_27_12_00_%02d.%09d", k.n, 100+k.n)
	require.NoError(tb, os.Mkdir(filepath.Join(k.dir, ts), 0o755))
	for name, content := range files {
		require.NoError(tb, os.WriteFile(filepath.Join(k.dir, ts, name), []byte(content), 0o644))
	}
	data := filepath.Join(k.dir, "..data")
	if k.ts == "" {
		require.NoError(tb, os.Symlink(ts, data))
		for name := range files {
			require.NoError(tb, os.Symlink(filepath.Join("..data", name), filepath.Join(k.dir, name)))
		}
	} else {
		tmp := filepath.Join(k.dir, "..data_tmp")
		require.NoError(tb, os.Symlink(ts, tmp))
		require.NoError(tb, os.Rename(tmp, data))
		require.NoError(tb, os.RemoveAll(filepath.Join(k.dir, k.ts)))
	}
	k.ts = ts
}

func TestWatchKubernetesConfigMap(t *testing.T) {
	k := &kubeWriter{dir: t.TempDir()}
	k.write(t, map[string]string{"app.toml": v1, "other.toml": v1})
	d := openDriver(t)
	path := filepath.Join(k.dir, "app.toml")
	w, last := startWatch(t, d, target(path))
	require.Equal(t, v1, string(last.Data))
	wantDirs(t, d, map[string]int{k.dir: 1, filepath.Join(k.dir, k.ts): 1})

	k.write(t, map[string]string{"app.toml": v2, "other.toml": v1})
	w.wantData(t, v2)
	wantDirs(t, d, map[string]int{k.dir: 1, filepath.Join(k.dir, k.ts): 1}) // the link target directory follows the ..data swap

	k.write(t, map[string]string{"app.toml": v3, "other.toml": v2})
	w.wantData(t, v3)

	k.write(t, map[string]string{"app.toml": v3, "other.toml": v3}) // app.toml unchanged
	time.Sleep(3 * DefaultDebounce)
	k.write(t, map[string]string{"app.toml": v1})
	w.wantData(t, v1)
	eventually(t, func() bool {
		wl := watchList(d)
		slices.Sort(wl)
		return slices.Equal(wl, []string{k.dir, filepath.Join(k.dir, k.ts)})
	}, "old timestamped directories are no longer watched")
}

func TestWatchSymlinkElsewhere(t *testing.T) {
	linkDir, dirB, dirC := t.TempDir(), t.TempDir(), t.TempDir()
	realB, realC := filepath.Join(dirB, "real.toml"), filepath.Join(dirC, "real.toml")
	writeFile(t, realB, v1)
	writeFile(t, realC, v2)
	path := filepath.Join(linkDir, "app.toml")
	require.NoError(t, os.Symlink(realB, path))
	d := openDriver(t)
	w, _ := startWatch(t, d, target(path))

	writeFile(t, realB, v3)
	w.wantData(t, v3)

	// Point the link elsewhere (ln -sfn: new link renamed over the old).
	require.NoError(t, os.Symlink(realC, path+".new"))
	require.NoError(t, os.Rename(path+".new", path))
	w.wantData(t, v2)
	wantDirs(t, d, map[string]int{linkDir: 1, dirC: 1})

	writeFile(t, realC, v1)
	w.wantData(t, v1)
	writeFile(t, realB, v2) // no longer the target
	w.wantNone(t, realC)
}

func TestWatchReadErrorRecovers(t *testing.T) {
	// Works as root too: a directory in place of the file is a real read
	// error that is neither "missing" nor retried.
	w, path := watchApp(t, v1)

	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Mkdir(path, 0o755))
	msg := w.wantErr(t, syscall.EISDIR)
	require.Contains(t, msg, path)

	require.NoError(t, os.Remove(path))
	writeFile(t, path, v1) // the last good bytes: still reported, to clear the error
	w.wantData(t, v1)
	w.wantNone(t, path)
}
