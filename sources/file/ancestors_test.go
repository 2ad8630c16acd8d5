package file

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources"
)

// budgetAdd lets n more watches be added, then fails with ENOSPC, as
// fs.inotify.max_user_watches does when n watches are left.
func budgetAdd(t *testing.T, n int32) *atomic.Int32 {
	t.Helper()
	left := new(atomic.Int32)
	left.Store(n)
	orig := addWatch
	addWatch = func(w notifier, name string, entriesOnly bool) error {
		if left.Add(-1) < 0 {
			return &fs.PathError{Op: "inotify_add_watch", Path: name, Err: syscall.ENOSPC}
		}
		return orig(w, name, entriesOnly)
	}
	t.Cleanup(func() { addWatch = orig })
	return left
}

// TestAncestorsLeaveLastWatchToFile: with one inotify watch left, the
// file's directory gets it and the Watch works, as it did before the
// ancestors were watched; they go without. (When they were added first,
// from the root down, they took it and the Watch failed with
// ErrWatchLimit.)
func TestAncestorsLeaveLastWatchToFile(t *testing.T) {
	path := appFile(t, v1)
	budgetAdd(t, 1)
	d := openDriver(t)
	stop, err := d.Watch(target(path), sources.Result{Data: []byte(v1)}, func(sources.Result) {})
	if err == nil {
		stop()
	}
	require.NoError(t, err, "one watch left, the file's directory needs one")
}

// TestNoDirectoryLeftAfterStop: after every watch stops, nothing is left in
// d.dirs (ancestors included) nor in the kernel, after link swaps,
// Kubernetes updates and an ancestor replaced.
func TestNoDirectoryLeftAfterStop(t *testing.T) {
	d := openDriver(t)
	var stops []*watcher

	k := &kubeWriter{dir: t.TempDir()}
	k.write(t, map[string]string{"app.toml": v1})
	wk, _ := startWatch(t, d, target(filepath.Join(k.dir, "app.toml")))
	stops = append(stops, wk)

	base, r1, r2 := twoReleases(t)
	current := filepath.Join(base, "current")
	require.NoError(t, os.Symlink(r1, current))
	wl, _ := startWatch(t, d, target(filepath.Join(current, "app.toml")))
	stops = append(stops, wl)

	b2 := t.TempDir()
	dir := filepath.Join(b2, "etc", "myapp", "conf.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "app.toml")
	writeFile(t, path, v1)
	wa, _ := startWatch(t, d, target(path))
	stops = append(stops, wa)
	wantFirstRead(t, d, path)

	k.write(t, map[string]string{"app.toml": v2})
	wk.wantData(t, v2)
	tmp := filepath.Join(base, "current.tmp")
	require.NoError(t, os.Symlink(r2, tmp))
	require.NoError(t, os.Rename(tmp, current))
	wl.wantData(t, v2)
	require.NoError(t, os.Rename(filepath.Join(b2, "etc"), filepath.Join(b2, "etc.old")))
	wa.wantMissing(t)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	writeFile(t, path, v2)
	wa.wantData(t, v2)

	for _, w := range stops {
		w.Stop()
	}
	d.mu.Lock()
	left := map[string]string{}
	for p, dw := range d.dirs {
		left[p] = fmt.Sprintf("refs=%d anc=%d added=%v", dw.refs, dw.anc, dw.added)
	}
	d.mu.Unlock()
	require.Empty(t, left, "d.dirs after every watch stopped")
	if os.Getenv(fallbackEnv) == "" { // fsnotify's own list keeps a path that shared a kernel watch (see TestLinkSwapLeavesNoWatch)
		require.Empty(t, allWatches(d))
	}
	if n, ok := kernelWatches(t, d); ok {
		require.Zero(t, n, "kernel watches after every watch stopped")
	}
}

// TestFileInRootDirectory: a file directly in / (its directory is its own
// ancestor's root): the counts go back to nothing.
func TestFileInRootDirectory(t *testing.T) {
	d := openDriver(t)
	require.NoError(t, d.hold("/livebind-test-nonexistent.toml", "/"))
	d.mu.Lock()
	dw := d.dirs["/"]
	t.Logf("/ while held: refs=%d anc=%d added=%v full=%v", dw.refs, dw.anc, dw.added, dw.full)
	d.mu.Unlock()
	d.release("/")
	d.mu.Lock()
	require.Empty(t, d.dirs)
	d.mu.Unlock()
	require.Empty(t, allWatches(d))
}

// TestAncestorMaskUpgrade: a directory watched first as an ancestor only,
// then as a file's directory too: writes closed in it are seen; and the
// other order.
func TestAncestorMaskUpgrade(t *testing.T) {
	for _, ancFirst := range []bool{true, false} {
		t.Run(fmt.Sprint("ancestor first ", ancFirst), func(t *testing.T) {
			app := filepath.Join(t.TempDir(), "myapp")
			conf := filepath.Join(app, "conf.d")
			require.NoError(t, os.MkdirAll(conf, 0o755))
			deep, top := filepath.Join(conf, "app.toml"), filepath.Join(app, "top.toml")
			writeFile(t, deep, v1)
			writeFile(t, top, v1)
			d := openDriver(t)
			var wd, wt *watcher
			if ancFirst {
				wd, _ = startWatch(t, d, target(deep))
				wantFirstRead(t, d, deep)
				wt, _ = startWatch(t, d, target(top))
			} else {
				wt, _ = startWatch(t, d, target(top))
				wantFirstRead(t, d, top)
				wd, _ = startWatch(t, d, target(deep))
			}
			wantFirstRead(t, d, deep)
			wantFirstRead(t, d, top)
			writeFile(t, top, v2) // in place: seen by its close only
			wt.wantData(t, v2)
			writeFile(t, deep, v2)
			wd.wantData(t, v2)
			// The top file stops: app is an ancestor only again, and a
			// watch of top again must still see closes.
			wt.Stop()
			wt2, _ := startWatch(t, d, target(top))
			wantFirstRead(t, d, top)
			writeFile(t, top, v3)
			wt2.wantData(t, v3)
		})
	}
}

// TestRefusedAncestorRetriedAfterChmod: an ancestor whose watch was refused
// (mode 711 for another user: EACCES) is tried again once its permissions
// are fixed: by an attribute event where the backend reports one for an
// ancestor (fsnotify), else by the look before a read at least
// refusedRetry after the refusal (inotify: entriesMask has no IN_ATTRIB).
// It was never tried again until an event above it.
func TestRefusedAncestorRetriedAfterChmod(t *testing.T) {
	base := t.TempDir()
	etc := filepath.Join(base, "etc")
	dir := filepath.Join(etc, "myapp", "conf.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "app.toml")
	writeFile(t, path, v1)
	refusing := new(atomic.Bool)
	refusing.Store(true)
	orig, origRetry := addWatch, refusedRetry
	addWatch = func(w notifier, name string, entriesOnly bool) error {
		if refusing.Load() && name == etc {
			return &fs.PathError{Op: "inotify_add_watch", Path: name, Err: syscall.EACCES}
		}
		return orig(w, name, entriesOnly)
	}
	refusedRetry = 100 * time.Millisecond
	t.Cleanup(func() { addWatch, refusedRetry = orig, origRetry })
	d := openDriver(t)
	w, _ := startWatch(t, d, target(path))
	wantFirstRead(t, d, path)
	d.mu.Lock()
	require.True(t, d.dirs[etc].refused)
	d.mu.Unlock()

	refusing.Store(false)
	require.NoError(t, os.Chmod(etc, 0o755)) // IN_ATTRIB "etc" in base's watch, where asked for
	time.Sleep(2 * refusedRetry)
	writeFile(t, path, v2)
	w.wantData(t, v2)
	d.mu.Lock()
	added := d.dirs[etc].added
	d.mu.Unlock()
	require.True(t, added, "%s still unwatched after its permissions were fixed and the file was read", etc)
}

// TestAncestorReplacedRepeatedly: the grandparent replaced again and again, the file
// written at once in each new directory (no wait for the missing report):
// the last content must be read, never an old directory's.
func TestAncestorReplacedRepeatedly(t *testing.T) {
	base := t.TempDir()
	app := filepath.Join(base, "etc", "myapp")
	dir := filepath.Join(app, "conf.d")
	path := filepath.Join(dir, "app.toml")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	writeFile(t, path, v1)
	d := openDriver(t)
	w, _ := startWatch(t, d, target(path))
	wantFirstRead(t, d, path)
	last := ""
	for i := range 40 {
		require.NoError(t, os.Rename(app, fmt.Sprintf("%s.old%d", app, i)))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		last = fmt.Sprintf("v = \"%d\"\n", i)
		writeFile(t, path, last)
		if i%3 == 0 { // a write in the old directory, not ours
			writeFile(t, filepath.Join(fmt.Sprintf("%s.old%d", app, i), "conf.d", "app.toml"), "old = \"x\"\n")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	got := ""
	for time.Now().Before(deadline) && got != last {
		r := w.Next(t)
		if r.Err == nil && !r.Missing {
			got = string(r.Data)
			require.NotEqual(t, "old = \"x\"\n", got, "an old directory's write")
		}
	}
	require.Equal(t, last, got)
	w.wantNone(t, path)
	n, _ := kernelWatches(t, d)
	t.Logf("kernel watches at the end: %d (all %v)", n, allWatches(d))
}

// TestSymlinkedAncestor: /etc/myapp is a link to /opt/myapp/etc;
// /opt/myapp is replaced (renamed away, made again). Only the link
// target's ancestors see it.
func TestSymlinkedAncestor(t *testing.T) {
	for _, rel := range []bool{false, true} {
		t.Run(fmt.Sprint("relative ", rel), func(t *testing.T) {
			base := t.TempDir()
			opt := filepath.Join(base, "opt", "myapp")
			realDir := filepath.Join(opt, "etc", "conf.d")
			require.NoError(t, os.MkdirAll(realDir, 0o755))
			require.NoError(t, os.MkdirAll(filepath.Join(base, "etc"), 0o755))
			tgt := filepath.Join(opt, "etc")
			if rel {
				tgt = "../opt/myapp/etc"
			}
			require.NoError(t, os.Symlink(tgt, filepath.Join(base, "etc", "myapp")))
			path := filepath.Join(base, "etc", "myapp", "conf.d", "app.toml")
			writeFile(t, filepath.Join(realDir, "app.toml"), v1)
			d := openDriver(t)
			w, _ := startWatch(t, d, target(path))
			wantFirstRead(t, d, path)

			require.NoError(t, os.Rename(opt, opt+".old"))
			w.wantMissing(t)
			require.NoError(t, os.MkdirAll(realDir, 0o755))
			writeFile(t, filepath.Join(realDir, "app.toml"), v2)
			w.wantData(t, v2)
			writeFile(t, filepath.Join(realDir, "app.toml"), v3)
			w.wantData(t, v3)
			writeFile(t, filepath.Join(opt+".old", "etc", "conf.d", "app.toml"), "old = \"x\"\n")
			w.wantNone(t, path)
		})
	}
}

// TestLinkSwapLeavesNoWatch: after a link swap and the watch's stop,
// neither the driver nor the notifier watches anything. (On fsnotify's
// backend, which the native one stands in front of on Linux, its list
// keeps a path that shared a kernel watch; not run there.)
func TestLinkSwapLeavesNoWatch(t *testing.T) {
	if os.Getenv(fallbackEnv) != "" {
		t.Skip("fsnotify's list keeps a path that shared a kernel watch")
	}
	d := openDriver(t)
	base, r1, r2 := twoReleases(t)
	current := filepath.Join(base, "current")
	require.NoError(t, os.Symlink(r1, current))
	wl, _ := startWatch(t, d, target(filepath.Join(current, "app.toml")))
	tmp := filepath.Join(base, "current.tmp")
	require.NoError(t, os.Symlink(r2, tmp))
	require.NoError(t, os.Rename(tmp, current))
	wl.wantData(t, v2)
	wl.Stop()
	d.mu.Lock()
	require.Empty(t, d.dirs)
	w := d.w
	d.mu.Unlock()
	require.Empty(t, w.WatchList())
}

// TestMissingChainFoundByEvents: the file's directory and two above it
// are missing at Watch, made, removed and made again three times; with
// polling for missing directories off, each time is found by the events
// of the nearest watched directory above alone.
func TestMissingChainFoundByEvents(t *testing.T) {
	noDirPolls.Store(true)
	t.Cleanup(func() { noDirPolls.Store(false) })
	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "c")
	path := filepath.Join(dir, "app.toml")
	d := openDriver(t)
	w, last := startWatch(t, d, target(path))
	require.True(t, last.Missing)
	skipWithoutAncestors(t, d)
	for i := range 3 {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		v := fmt.Sprintf("v = \"%d\"\n", i)
		writeFile(t, path, v)
		w.wantData(t, v)
		require.NoError(t, os.RemoveAll(filepath.Join(base, "a")))
		w.wantMissing(t)
	}
}

// TestConcurrentNoAncestorLeak: TestConcurrentWatchStopClose's
// first half, with links and ancestors replaced meanwhile, checking d.dirs
// itself (dirState no longer shows ancestors).
func TestConcurrentNoAncestorLeak(t *testing.T) {
	base, r1, r2 := twoReleases(t)
	current := filepath.Join(base, "current")
	require.NoError(t, os.Symlink(r1, current))
	deep := filepath.Join(base, "etc", "myapp", "conf.d")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	paths := []string{filepath.Join(current, "app.toml"), filepath.Join(deep, "a.toml"), filepath.Join(deep, "b.toml"), filepath.Join(r1, "app.toml")}
	for _, p := range paths[1:3] {
		writeFile(t, p, v1)
	}
	d := openDriver(t)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 30 {
				stop, err := d.Watch(target(paths[(g+i)%len(paths)]), sources.Result{Data: []byte(v1)}, func(sources.Result) {})
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Millisecond)
				stop()
			}
		})
	}
	wg.Go(func() {
		for i := range 30 {
			tmp := filepath.Join(base, "current.tmp")
			_ = os.Symlink(map[bool]string{true: r1, false: r2}[i%2 == 0], tmp)
			_ = os.Rename(tmp, current)
			etc := filepath.Join(base, "etc")
			_ = os.Rename(etc, fmt.Sprintf("%s.old%d", etc, i))
			_ = os.MkdirAll(deep, 0o755)
			writeFile(t, paths[1], v2)
			time.Sleep(2 * time.Millisecond)
		}
	})
	wg.Wait()
	d.mu.Lock()
	left := map[string]string{}
	for p, dw := range d.dirs {
		left[p] = fmt.Sprintf("refs=%d anc=%d added=%v", dw.refs, dw.anc, dw.added)
	}
	d.mu.Unlock()
	require.Empty(t, left)
	require.Empty(t, allWatches(d))
	if n, ok := kernelWatches(t, d); ok {
		require.Zero(t, n)
	}
}

// TestUnreadableAncestor: as nobody, an ancestor that can be
// searched but not read (mode 0311): inotify refuses its watch (EACCES),
// the file is still watched, and the ancestor's child replaced by a rename
// is still followed (its own watch sees the move; the backoff finds the
// new one).
func TestUnreadableAncestor(t *testing.T) {
	if os.Geteuid() == 0 {
		require.Empty(t, os.Getenv(childEnv), "still root in the child")
		t.Logf("child output:\n%s", childtest.AsNobody(t, "^TestUnreadableAncestor$", childEnv+"=1"))
		return
	}
	priv := filepath.Join(t.TempDir(), "priv")
	etc := filepath.Join(priv, "etc")
	dir := filepath.Join(etc, "myapp", "conf.d")
	path := filepath.Join(dir, "app.toml")
	for _, e := range []string{etc, etc + ".new"} {
		require.NoError(t, os.MkdirAll(filepath.Join(e, "myapp", "conf.d"), 0o755))
	}
	writeFile(t, path, v1)
	writeFile(t, filepath.Join(etc+".new", "myapp", "conf.d", "app.toml"), v2)
	require.NoError(t, os.Chmod(priv, 0o311))
	t.Cleanup(func() { _ = os.Chmod(priv, 0o755) })
	d := openDriver(t)
	w, _ := startWatch(t, d, target(path))
	wantFirstRead(t, d, path)
	d.mu.Lock()
	t.Logf("priv: refused=%v added=%v; etc: added=%v", d.dirs[priv].refused, d.dirs[priv].added, d.dirs[etc].added)
	d.mu.Unlock()

	start := time.Now()
	require.NoError(t, os.Rename(etc, etc+".old"))
	require.NoError(t, os.Rename(etc+".new", etc))
	for {
		r := w.Next(t)
		if !r.Missing {
			require.NoError(t, r.Err)
			require.Equal(t, v2, string(r.Data))
			break
		}
	}
	t.Logf("the replacement below the unreadable ancestor was read after %v", time.Since(start))
}

// TestOverflowRenewsAncestorWatches: the events of a replacement of
// etc are lost (an overflow: simulated by taking base's, etc's and
// myapp's kernel watches away while it happens, the driver's bookkeeping
// untouched), and the overflow is reported. The overflow drops the
// watches of the directories watched as ancestors only, so that the read
// it causes puts them back where the paths lead, as it moves the file's
// directory watch: a later replacement of myapp is read. (Before, the look
// skipped an ancestor marked added, the later replacement was an event
// of no watch, and it was never read.)
func TestOverflowRenewsAncestorWatches(t *testing.T) {
	closeAware(t)
	base := t.TempDir()
	etc := filepath.Join(base, "etc")
	app := filepath.Join(etc, "myapp")
	dir := filepath.Join(app, "conf.d")
	path := filepath.Join(dir, "app.toml")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	writeFile(t, path, v1)
	d := openDriver(t)
	w, _ := startWatch(t, d, target(path))
	wantFirstRead(t, d, path)

	d.mu.Lock()
	n := d.w
	d.mu.Unlock()
	for _, p := range []string{base, etc, app} {
		require.NoError(t, n.Remove(p)) // events lost from here
	}
	require.NoError(t, os.Rename(etc, etc+".old"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	writeFile(t, path, v2)
	require.NoError(t, n.Add(base, true)) // the queue drained again
	time.Sleep(50 * time.Millisecond)
	d.handleError(fmt.Errorf("inotify: %w", syscall.EOVERFLOW)) // what an overflow does
	w.wantData(t, v2)
	wantWatchOn(t, d, dir, dir) // the file's directory mended

	require.NoError(t, os.Rename(app, app+".old"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	writeFile(t, path, v3)
	if r := w.Next(t); !r.Missing { // a read may come before the mkdir: the file missing
		require.NoError(t, r.Err)
		require.Equal(t, v3, string(r.Data))
	} else {
		w.wantData(t, v3)
	}
}
