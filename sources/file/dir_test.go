package file

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/require"
)

func TestWatchParentDirRemoved(t *testing.T) {
	t.Run("removed", func(t *testing.T) {
		d, w, dir, path := watchInConf(t)

		for _, content := range []string{v2, v3} {
			require.NoError(t, os.RemoveAll(dir))
			w.wantMissing(t)
			require.NoError(t, os.Mkdir(dir, 0o755))
			writeFile(t, path, content)
			w.wantData(t, content)
		}
		eventually(t, func() bool { return slices.Equal(watchList(d), []string{dir}) }, "the new directory is watched")
		writeFile(t, path, v1) // events flow from the new directory
		w.wantData(t, v1)
	})
	t.Run("renamed", func(t *testing.T) {
		_, w, dir, path := watchInConf(t)

		require.NoError(t, os.Rename(dir, dir+".old"))
		w.wantMissing(t)
		writeFile(t, filepath.Join(dir+".old", "app.toml"), v3) // not ours any more
		require.NoError(t, os.Mkdir(dir, 0o755))
		writeFile(t, path, v2)
		w.wantData(t, v2)
		w.wantNone(t, path)
	})
	t.Run("missing at start", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		path := filepath.Join(dir, "app.toml")
		w, last := startWatch(t, openDriver(t), target(path))
		require.True(t, last.Missing)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		writeFile(t, path, v1)
		w.wantData(t, v1)
		writeFile(t, path, v2)
		w.wantData(t, v2)
	})
	t.Run("a file in place of the directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "conf")
		path := filepath.Join(dir, "app.toml")
		writeFile(t, dir, "not a directory")
		d := openDriver(t)
		w, last := startWatch(t, d, target(path))
		require.ErrorContains(t, last.Err, "not a directory")
		require.Empty(t, watchList(d), "a file is not watched as the directory")
		// Replace the file by a directory that holds app.toml already.
		require.NoError(t, os.Mkdir(dir+".new", 0o755))
		writeFile(t, filepath.Join(dir+".new", "app.toml"), v1)
		require.NoError(t, os.Remove(dir))
		require.NoError(t, os.Rename(dir+".new", dir))
		w.wantData(t, v1)
		eventually(t, func() bool { return slices.Equal(watchList(d), []string{dir}) }, "the directory is watched")
		writeFile(t, path, v2)
		w.wantData(t, v2)
	})
}

func TestWatchSharedDirectory(t *testing.T) {
	dir := t.TempDir()
	pathA, pathB := filepath.Join(dir, "a.toml"), filepath.Join(dir, "b.toml")
	writeFile(t, pathA, v1)
	writeFile(t, pathB, v1)
	d := openDriver(t)
	wa, _ := startWatch(t, d, target(pathA))
	wb, _ := startWatch(t, d, target(pathB))
	require.Equal(t, map[string]int{dir: 2}, dirState(d))
	require.Equal(t, []string{dir}, watchList(d))

	writeFile(t, pathA, v2)
	wa.wantData(t, v2)
	writeFile(t, pathB, v3)
	wb.wantData(t, v3)
	wa.wantNone(t, pathA) // a did not see b's write

	wa.Stop()
	wa.Stop() // idempotent
	require.Equal(t, map[string]int{dir: 1}, dirState(d))
	require.Equal(t, []string{dir}, watchList(d))
	writeFile(t, pathB, v1)
	wb.wantData(t, v1)

	wb.Stop()
	require.Empty(t, dirState(d))
	require.Empty(t, watchList(d))
	require.Zero(t, wa.Len())
}

// One directory reached through two paths has one inotify watch: stopping
// the target that watched it through the link must not blind the other.
func TestWatchSymlinkedDirectory(t *testing.T) {
	base := t.TempDir()
	realDir, link := filepath.Join(base, "realDir"), filepath.Join(base, "link")
	require.NoError(t, os.Mkdir(realDir, 0o755))
	require.NoError(t, os.Symlink(realDir, link))
	writeFile(t, filepath.Join(realDir, "a.toml"), v1)
	writeFile(t, filepath.Join(realDir, "b.toml"), v1)
	d := openDriver(t)
	wa, _ := startWatch(t, d, target(filepath.Join(link, "a.toml")))
	wb, _ := startWatch(t, d, target(filepath.Join(realDir, "b.toml")))
	// base holds the link: a swap of it is an event there.
	wantDirs(t, d, map[string]int{base: 1, link: 1, realDir: 2})

	writeFile(t, filepath.Join(realDir, "a.toml"), v2)
	wa.wantData(t, v2)
	writeFile(t, filepath.Join(link, "b.toml"), v2)
	wb.wantData(t, v2)

	wa.Stop()
	require.Equal(t, map[string]int{realDir: 1}, dirState(d))
	writeFile(t, filepath.Join(realDir, "b.toml"), v3)
	wb.wantData(t, v3)
	wb.wantNone(t, filepath.Join(realDir, "b.toml"))
}

// watchInConf writes v1 to conf/app.toml in a new temporary directory and
// watches it with a new driver.
func watchInConf(t *testing.T) (d *driver, w *watcher, dir, path string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "conf")
	path = filepath.Join(dir, "app.toml")
	require.NoError(t, os.Mkdir(dir, 0o755))
	writeFile(t, path, v1)
	d = openDriver(t)
	w, _ = startWatch(t, d, target(path))
	return d, w, dir, path
}

// TestWatchSwappedDirectoryLink: the file's directory is reached through a
// symbolic link that a deployment swaps to a new release (Capistrano's
// current -> releases/N, replaced by rename), while the old release stays
// on disk. inotify watches the directory the link led to when the watch
// was added, so only the old release was watched: the swap and every later
// edit of the new release were never seen.
func TestWatchSwappedDirectoryLink(t *testing.T) {
	base, r1, r2 := twoReleases(t)
	current := filepath.Join(base, "current")
	require.NoError(t, os.Symlink(r1, current))
	w, _ := startWatch(t, openDriver(t), target(filepath.Join(current, "app.toml")))

	tmp := filepath.Join(base, "current.tmp")
	require.NoError(t, os.Symlink(r2, tmp))
	require.NoError(t, os.Rename(tmp, current)) // the old release stays
	w.wantData(t, v2)
	writeFile(t, filepath.Join(r2, "app.toml"), v3)
	w.wantData(t, v3)
	writeFile(t, filepath.Join(r1, "app.toml"), "old = \"release\"\n")
	w.wantNone(t, filepath.Join(r2, "app.toml"))
}

// TestWatchDirectoryLinkRecreated: the directory that holds the link is
// deleted and made again, with the link now leading to another release.
// Its watch must be put back, or the new link is never seen.
func TestWatchDirectoryLinkRecreated(t *testing.T) {
	base, r1, r2 := twoReleases(t)
	app := filepath.Join(base, "app")
	require.NoError(t, os.Mkdir(app, 0o755))
	require.NoError(t, os.Symlink(r1, filepath.Join(app, "current")))
	w, _ := startWatch(t, openDriver(t), target(filepath.Join(app, "current", "app.toml")))

	require.NoError(t, os.RemoveAll(app))
	w.wantMissing(t)
	require.NoError(t, os.Mkdir(app, 0o755))
	require.NoError(t, os.Symlink(r2, filepath.Join(app, "current")))
	w.wantData(t, v2)
}

// TestWatchDirectoryLinkParentRenamed: the directory that holds the link
// is renamed away and a new one made with the link leading to another
// release (mv app app.old; mkdir app; ln -s releases/2 app/current). The
// rename is an event of app's own watch only, which kicked the watches of
// files in app, not those whose link app holds: the file kept being
// reported from the old release.
func TestWatchDirectoryLinkParentRenamed(t *testing.T) {
	base, r1, r2 := twoReleases(t)
	app := filepath.Join(base, "app")
	require.NoError(t, os.Mkdir(app, 0o755))
	require.NoError(t, os.Symlink(r1, filepath.Join(app, "current")))
	d := openDriver(t)
	w, _ := startWatch(t, d, target(filepath.Join(app, "current", "app.toml")))
	wantDirs(t, d, map[string]int{app: 1, filepath.Join(app, "current"): 1, r1: 1}) // the first read is over

	require.NoError(t, os.Rename(app, app+".old"))
	require.NoError(t, os.Mkdir(app, 0o755))
	require.NoError(t, os.Symlink(r2, filepath.Join(app, "current")))
	w.wantData(t, v2)
	writeFile(t, filepath.Join(r2, "app.toml"), v3)
	w.wantData(t, v3)
}

// TestWatchThroughDataLink: the path is spelled through a Kubernetes
// volume's ..data link (/vol/..data/app.toml), so the file's directory is
// the link the kubelet swaps at every update, and the directory it led to
// is then deleted.
func TestWatchThroughDataLink(t *testing.T) {
	k := &kubeWriter{dir: t.TempDir()}
	k.write(t, map[string]string{"app.toml": v1})
	d := openDriver(t)
	dataDir := filepath.Join(k.dir, "..data")
	w, _ := startWatch(t, d, target(filepath.Join(dataDir, "app.toml")))
	wantDirs(t, d, map[string]int{k.dir: 1, dataDir: 1, filepath.Join(k.dir, k.ts): 1}) // the first read is over

	for _, v := range []string{v2, v3, v1} {
		k.write(t, map[string]string{"app.toml": v})
		w.wantData(t, v)
		wantWatchOn(t, d, dataDir, filepath.Join(k.dir, k.ts))
	}
	k.write(t, map[string]string{"other.toml": v1}) // app.toml removed
	w.wantMissing(t)
	k.write(t, map[string]string{"app.toml": v2})
	w.wantData(t, v2)
}

// twoReleases makes base/releases/1 and base/releases/2, each holding an
// app.toml (v1 and v2), for the tests of a link that a deployment swaps.
func twoReleases(t *testing.T) (base, r1, r2 string) {
	t.Helper()
	base = t.TempDir()
	r1, r2 = filepath.Join(base, "releases", "1"), filepath.Join(base, "releases", "2")
	for r, v := range map[string]string{r1: v1, r2: v2} {
		require.NoError(t, os.MkdirAll(r, 0o755))
		writeFile(t, filepath.Join(r, "app.toml"), v)
	}
	return base, r1, r2
}

// TestWatchSwappedLinkAboveDirectory: the file is in a directory below the
// swapped link (current/conf/app.toml), and two files share it: what was
// kept of the directory must be dropped for both at the swap, and its
// watch moved.
func TestWatchSwappedLinkAboveDirectory(t *testing.T) {
	base, r1, r2 := twoReleases(t)
	content := map[string]string{}
	for _, r := range []string{r1, r2} {
		content[r] = "a = \"" + filepath.Base(r) + "\"\n"
		require.NoError(t, os.Mkdir(filepath.Join(r, "conf"), 0o755))
		writeFile(t, filepath.Join(r, "conf", "a.toml"), content[r])
		writeFile(t, filepath.Join(r, "conf", "b.toml"), "b = \""+filepath.Base(r)+"\"\n")
	}
	current := filepath.Join(base, "current")
	conf := filepath.Join(current, "conf")
	require.NoError(t, os.Symlink(r1, current))
	d := openDriver(t)
	wa, _ := startWatch(t, d, target(filepath.Join(conf, "a.toml")))
	wb, _ := startWatch(t, d, target(filepath.Join(conf, "b.toml")))
	wantWatchOn(t, d, conf, filepath.Join(r1, "conf"))

	for i, r := range []string{r2, r1, r2} { // a swap back finds the first watch gone
		tmp := filepath.Join(base, "current.tmp")
		require.NoError(t, os.Symlink(r, tmp))
		require.NoError(t, os.Rename(tmp, current))
		wa.wantData(t, content[r])
		wb.wantData(t, "b = \""+filepath.Base(r)+"\"\n")
		wantWatchOn(t, d, conf, filepath.Join(r, "conf"))
		content[r] = fmt.Sprintf("a = \"edit %d\"\n", i)
		writeFile(t, filepath.Join(r, "conf", "a.toml"), content[r])
		wa.wantData(t, content[r])
	}
	writeFile(t, filepath.Join(r1, "conf", "b.toml"), "old = \"release\"\n")
	wb.wantNone(t, filepath.Join(r2, "conf", "b.toml"))
}

// TestWatchSwappedLinkFileLater: the link is swapped to a release that has
// no file yet, which is made later. The read at the swap finds the file
// missing, so nothing resolves the link target again: the swap's event
// itself must have the directory watch moved to the new release, also for
// a directory below the link, or the file's creation there is never seen.
func TestWatchSwappedLinkFileLater(t *testing.T) {
	for _, sub := range []string{"", "conf"} {
		t.Run("dir="+filepath.Join("current", sub), func(t *testing.T) {
			base, r1, r2 := twoReleases(t)
			for _, r := range []string{r1, r2} {
				require.NoError(t, os.Remove(filepath.Join(r, "app.toml")))
				require.NoError(t, os.MkdirAll(filepath.Join(r, sub), 0o755))
			}
			writeFile(t, filepath.Join(r1, sub, "app.toml"), v1)
			current := filepath.Join(base, "current")
			dir := filepath.Join(current, sub)
			require.NoError(t, os.Symlink(r1, current))
			d := openDriver(t)
			w, _ := startWatch(t, d, target(filepath.Join(dir, "app.toml")))
			// The first read is over.
			wantDirs(t, d, map[string]int{base: 1, dir: 1, filepath.Join(r1, sub): 1})
			wantWatchOn(t, d, dir, filepath.Join(r1, sub))

			tmp := filepath.Join(base, "current.tmp")
			require.NoError(t, os.Symlink(r2, tmp))
			require.NoError(t, os.Rename(tmp, current))
			w.wantMissing(t)
			writeFile(t, filepath.Join(r2, sub, "app.toml"), v3)
			w.wantData(t, v3)
		})
	}
}

// TestWatchLinkSwapLostInOverflow: an overflow of the notification queue
// loses events, a link swap among them, to a release that has no file yet.
// The read after the overflow finds the file missing, so its link target
// is not resolved again: unless what was kept of the directories is looked
// at again too, the watch stays on the old release and the file's creation
// in the new one is never seen.
func TestWatchLinkSwapLostInOverflow(t *testing.T) {
	base, r1, r2 := twoReleases(t)
	require.NoError(t, os.Remove(filepath.Join(r2, "app.toml")))
	current := filepath.Join(base, "current")
	require.NoError(t, os.Symlink(r1, current))
	d := openDriver(t)
	w, _ := startWatch(t, d, target(filepath.Join(current, "app.toml")))
	wantDirs(t, d, map[string]int{base: 1, current: 1, r1: 1})
	wantWatchOn(t, d, current, r1)

	// Lose the swap: the watch of the link's directory is dropped behind
	// the driver's back, as if its events had overflowed.
	d.mu.Lock()
	require.NoError(t, d.w.Remove(base))
	d.mu.Unlock()
	tmp := filepath.Join(base, "current.tmp")
	require.NoError(t, os.Symlink(r2, tmp))
	require.NoError(t, os.Rename(tmp, current))
	d.handleError(fsnotify.ErrEventOverflow)
	w.wantMissing(t)
	writeFile(t, filepath.Join(r2, "app.toml"), v3)
	w.wantData(t, v3)
}

// wantWatchOn waits until the driver's watch of dir is on the directory
// want (dir may reach it through a link).
func wantWatchOn(tb testing.TB, d *driver, dir, want string) {
	tb.Helper()
	wfi, err := os.Stat(want)
	require.NoError(tb, err)
	eventually(tb, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		dw := d.dirs[dir]
		return dw != nil && dw.added && dw.info != nil && os.SameFile(dw.info, wfi)
	}, "the watch of "+dir+" is on "+want)
}

// TestWatchAncestorReplaced: a directory above the file's own (its parent
// or higher) is renamed away or deleted, and made again, as a deployment
// does with mv /etc/myapp /etc/myapp.old; mkdir -p /etc/myapp/conf.d. The
// file's directory watch stayed on the old conf.d, which no event
// concerned: the new file was never read, and writes in the old directory
// were taken for the file's.
func TestWatchAncestorReplaced(t *testing.T) {
	for _, tc := range []struct {
		name string
		up   string // the ancestor replaced, relative to the temporary directory
		away func(t *testing.T, anc string)
	}{
		{"parent renamed", "etc/myapp/conf.d", renameAway},
		{"grandparent renamed", "etc/myapp", renameAway},
		{"great-grandparent renamed", "etc", renameAway},
		{"grandparent removed", "etc/myapp", removeAll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "etc", "myapp", "conf.d")
			path := filepath.Join(dir, "app.toml")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			writeFile(t, path, v1)
			d := openDriver(t)
			w, _ := startWatch(t, d, target(path))
			wantFirstRead(t, d, path)

			anc := filepath.Join(base, tc.up)
			tc.away(t, anc)
			w.wantMissing(t)
			require.NoError(t, os.MkdirAll(dir, 0o755))
			writeFile(t, path, v2)
			w.wantData(t, v2)
			wantWatchOn(t, d, dir, dir)
			writeFile(t, path, v3)
			w.wantData(t, v3)
			if old := strings.Replace(path, anc, anc+".old", 1); fileExists(old) {
				// Not ours any more. A watch left on the old directory would
				// at most have path read again, unchanged, so no result
				// tells: wantWatchOn above is the check that it moved.
				writeFile(t, old, "old = \"directory\"\n")
			}
			w.wantNone(t, path)
		})
	}
	t.Run("grandparent replaced by a rename", func(t *testing.T) {
		base := t.TempDir()
		app := filepath.Join(base, "etc", "myapp")
		dir := filepath.Join(app, "conf.d")
		path := filepath.Join(dir, "app.toml")
		for _, a := range []string{app, app + ".new"} {
			require.NoError(t, os.MkdirAll(filepath.Join(a, "conf.d"), 0o755))
		}
		writeFile(t, path, v1)
		writeFile(t, filepath.Join(app+".new", "conf.d", "app.toml"), v2)
		d := openDriver(t)
		w, _ := startWatch(t, d, target(path))
		wantFirstRead(t, d, path)

		require.NoError(t, os.Rename(app, app+".old"))
		require.NoError(t, os.Rename(app+".new", app))
		if r := w.Next(t); !r.Missing { // the read may come between the renames
			require.NoError(t, r.Err)
			require.Equal(t, v2, string(r.Data))
		} else {
			w.wantData(t, v2)
		}
		wantWatchOn(t, d, dir, dir)
		writeFile(t, filepath.Join(app+".old", "conf.d", "app.toml"), v3) // not ours any more (see above: wantWatchOn is the check)
		writeFile(t, path, v3)
		w.wantData(t, v3)
		w.wantNone(t, path)
	})
}

// removeAll deletes dir and what it holds.
func removeAll(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.RemoveAll(dir))
}

// renameAway renames dir to dir.old.
func renameAway(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.Rename(dir, dir+".old"))
}

// wantFirstRead waits until the watch of path has read it once (its
// follower resolved it), so that what a test does next is not seen by
// that first read instead of by the watch.
func wantFirstRead(tb testing.TB, d *driver, path string) {
	tb.Helper()
	eventually(tb, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		for f := range d.followers {
			if f.key.path == path && f.resolved != "" {
				return true
			}
		}
		return false
	}, "the first read of "+path+" is over")
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestWatchAncestorsShared: files in one directory share its watch and
// those of its ancestors, one each up to the root, and stopping the last
// watch removes them all.
func TestWatchAncestorsShared(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "myapp")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	d := openDriver(t)
	var ws []*watcher
	for i := range 100 {
		path := filepath.Join(dir, fmt.Sprintf("app%d.toml", i))
		writeFile(t, path, v1)
		w, _ := startWatch(t, d, target(path))
		ws = append(ws, w)
	}
	want := []string{dir}
	d.mu.Lock()
	ancestors := d.ancestors
	d.mu.Unlock()
	for p := filepath.Dir(dir); ancestors; p = filepath.Dir(p) {
		want = append(want, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	got := allWatches(d)
	require.ElementsMatch(t, want, got)
	t.Logf("100 files in %s: %d watches", dir, len(got))
	if n, ok := kernelWatches(t, d); ok {
		require.Equal(t, len(want), n, "watches in the kernel")
	}
	require.Equal(t, map[string]int{dir: 100}, dirState(d))
	for _, w := range ws {
		w.Stop()
	}
	require.Empty(t, allWatches(d))
	d.mu.Lock()
	require.Empty(t, d.dirs)
	d.mu.Unlock()
}

// TestWatchDirectoryMadeAgainByEvent: a missing directory (and the ones
// above it) is found by the events of the nearest watched directory above
// it, not only by polling with backoff: with polling off, the file is
// still read as soon as the directories and the file are made.
func TestWatchDirectoryMadeAgainByEvent(t *testing.T) {
	noDirPolls.Store(true)
	t.Cleanup(func() { noDirPolls.Store(false) })
	t.Run("missing at start", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "etc", "myapp", "conf.d")
		path := filepath.Join(dir, "app.toml")
		d := openDriver(t)
		w, last := startWatch(t, d, target(path))
		require.True(t, last.Missing)
		skipWithoutAncestors(t, d)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		writeFile(t, path, v1)
		w.wantData(t, v1)
	})
	t.Run("grandparent renamed away, made again later", func(t *testing.T) {
		base := t.TempDir()
		app := filepath.Join(base, "etc", "myapp")
		dir := filepath.Join(app, "conf.d")
		path := filepath.Join(dir, "app.toml")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		writeFile(t, path, v1)
		d := openDriver(t)
		w, _ := startWatch(t, d, target(path))
		skipWithoutAncestors(t, d)
		wantFirstRead(t, d, path)
		renameAway(t, app)
		w.wantMissing(t)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		writeFile(t, path, v2)
		w.wantData(t, v2)
	})
}

// skipWithoutAncestors skips a test of the watches of the directories
// above a file's on a backend that does not watch them.
func skipWithoutAncestors(t *testing.T, d *driver) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ancestors {
		t.Skip("this backend does not watch the directories above a file's")
	}
}
