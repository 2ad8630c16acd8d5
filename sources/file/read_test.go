package file

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

func TestRead(t *testing.T) {
	d := openDriver(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		return p
	}
	t.Run("data", func(t *testing.T) {
		r := d.Read(t.Context(), target(write("ok.toml", v1)))
		require.NoError(t, r.Err)
		require.Equal(t, v1, string(r.Data))
		require.Equal(t, version([]byte(v1)), r.Version)
		require.Len(t, r.Version, 16)
		require.Empty(t, r.Format)
	})
	t.Run("missing", func(t *testing.T) {
		start := time.Now()
		r := d.Read(t.Context(), target(filepath.Join(dir, "nope.toml")))
		require.Equal(t, sources.Result{Missing: true}, r)
		require.Less(t, time.Since(start), DefaultDebounce, "Read does not wait for a missing file")
	})
	t.Run("missing directory", func(t *testing.T) {
		r := d.Read(t.Context(), target(filepath.Join(dir, "no", "app.toml")))
		require.True(t, r.Missing)
	})
	t.Run("directory", func(t *testing.T) {
		r := d.Read(t.Context(), target(dir))
		require.ErrorIs(t, r.Err, syscall.EISDIR)
		require.ErrorContains(t, r.Err, dir)
	})
	t.Run("empty path", func(t *testing.T) {
		r := d.Read(t.Context(), target(""))
		require.Error(t, r.Err)
	})
	t.Run("empty", func(t *testing.T) {
		tg := target(write("empty.toml", ""))
		tg.Debounce = 10 * time.Millisecond
		start := time.Now()
		r := d.Read(t.Context(), tg)
		require.ErrorIs(t, r.Err, sources.ErrEmpty)
		require.GreaterOrEqual(t, time.Since(start), 2*tg.Debounce, "retried twice")
	})
	t.Run("filled while retrying", func(t *testing.T) {
		p := write("later.toml", "")
		tg := target(p)
		tg.Debounce = 200 * time.Millisecond
		done := make(chan sources.Result)
		go func() { done <- d.Read(t.Context(), tg) }()
		time.Sleep(50 * time.Millisecond)
		writeFile(t, p, v2)
		r := <-done
		require.NoError(t, r.Err)
		require.Equal(t, v2, string(r.Data))
	})
	t.Run("check", func(t *testing.T) {
		tg := target(write("half.toml", half))
		tg.Debounce = time.Millisecond
		tg.Check = checkTOML
		r := d.Read(t.Context(), tg)
		require.ErrorIs(t, r.Err, errBadLine)
		tg.Secret = true
		r = d.Read(t.Context(), tg)
		require.ErrorIs(t, r.Err, errUnparsable)
		require.NotContains(t, r.Err.Error(), "thr")
	})
	t.Run("context ends the retries", func(t *testing.T) {
		tg := target(write("empty2.toml", ""))
		tg.Debounce = time.Hour
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		r := d.Read(ctx, tg)
		require.ErrorIs(t, r.Err, sources.ErrEmpty)
		require.Less(t, time.Since(start), time.Second)
	})
	t.Run("relative", func(t *testing.T) {
		// Relative paths resolve against the working directory when the
		// driver was opened (at Bind), not at each read.
		write("rel.toml", v3)
		t.Chdir(dir)
		rd := openDriver(t)
		r := rd.Read(t.Context(), target("rel.toml"))
		require.Equal(t, v3, string(r.Data))
		t.Chdir(t.TempDir())
		r = rd.Read(t.Context(), target("rel.toml"))
		require.Equal(t, v3, string(r.Data), "a later Chdir does not move the path")
		r = d.Read(t.Context(), target("rel.toml"))
		require.True(t, r.Missing, "a driver opened elsewhere resolves against its own directory")
	})
}

// A change between Read and Watch is reported by the first check.
func TestWatchInitialCheck(t *testing.T) {
	path := appFile(t, v1)
	d := openDriver(t)
	last := d.Read(t.Context(), target(path))
	writeFile(t, path, v2)
	w := watchFrom(t, d, target(path), last)
	w.wantData(t, v2)

	require.NoError(t, os.Remove(path))
	tg := pollTarget(path)
	w = watchFrom(t, d, tg, sources.Result{Data: []byte(v2)})
	w.wantMissing(t)
}

func TestWatchAfterClose(t *testing.T) {
	d := openDriver(t)
	require.NoError(t, d.Close())
	path := filepath.Join(t.TempDir(), "app.toml")
	_, err := d.Watch(target(path), sources.Result{Missing: true}, func(sources.Result) {})
	require.ErrorIs(t, err, sources.ErrClosed)
	_, err = d.Watch(pollTarget(path), sources.Result{Missing: true}, func(sources.Result) {})
	require.ErrorIs(t, err, sources.ErrClosed)
}

// TestReadRewrittenWhileRead: a writer truncates and rewrites the file in
// place between two read calls of one read (the watch's first check, a
// retry, or a read that a close started while the next writer begins).
// The read got the old content's start and the new content's end, and
// reported that mixture whenever the writer's events were handled after
// the read ended: TestWatchSharedDirectory saw "name = \"one\"\n\"\n".
// The file's stat after the read must match the one before it.
func TestReadRewrittenWhileRead(t *testing.T) {
	path := appFile(t, v1)
	once := false
	readHook = func() {
		if !once {
			once = true
			writeFile(t, path, v3) // longer than v1: its end is read next
		}
	}
	t.Cleanup(func() { readHook = nil })
	o := readRaw(path, DefaultMaxBytes)
	require.Nil(t, o.Data, "a mixture of two contents was read: %q", o.Data)
	require.ErrorIs(t, o.Err, errChangedWhileRead)
	require.True(t, o.retry, "a write in progress: read again")
	readHook = nil
	o = readRaw(path, DefaultMaxBytes)
	require.NoError(t, o.Err)
	require.Equal(t, v3, string(o.Data))
}
