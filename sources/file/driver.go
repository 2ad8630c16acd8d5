package file

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/livebind/livebind/sources"
)

// addWatch adds a directory to the watcher. Tests replace it to simulate
// limits that cannot be reached safely on a shared machine (ENOSPC from
// fs.inotify.max_user_watches is per user, not per process).
var addWatch = func(n notifier, dir string, entriesOnly bool) error { return n.Add(dir, entriesOnly) }

// watchKey is what fields share one watch by: the file, and the options
// that change how it is observed or what is accepted.
type watchKey struct {
	path     string // cleaned absolute path
	poll     time.Duration
	maxBytes int64
}

// watch is the shared watch of one file; see [sources.Watches]. Each
// subscriber's value is its Target, for its debounce and Check.
type watch = sources.Watch[watchKey, *sources.Target]

// driver is the file scheme's driver for one Binding. It owns one
// notification backend (inotify on Linux, else fsnotify; see [notifier]),
// created on the first notification watch, shared by every file, the
// goroutine that drains it, and the watches of the directories the files
// are in.
type driver struct {
	logger  *slog.Logger
	wd      string // working directory when the driver was opened (at Bind)
	wdErr   error  // why wd is unknown; only relative locations need it
	watches sources.Watches[watchKey, *sources.Target]

	mu        sync.Mutex
	w         notifier             // nil until the first notification watch, and after Close
	dirs      map[string]*dirWatch // watched directories, by cleaned path
	followers map[*follower]struct{}
	loop      sync.WaitGroup

	// closeEvents: the backend reports closes and renames into place, not
	// writes in progress, so the default debounce is none.
	closeEvents atomic.Bool
	// ancestors: the directories above each watched directory are watched
	// too, up to the root (see ensureAncestorsLocked). Set with d.w.
	ancestors bool
}

// dirWatch is one directory that watches need watched: as a file's
// directory (or one holding a link along it, or a link target's), or as an
// ancestor of one, or both. d.dirs holds the ancestors of each of its
// directories.
type dirWatch struct {
	refs      int         // Watch calls and link targets that need it
	anc       int         // directories below it that need it as an ancestor
	added     bool        // the notifier's watch is in place
	full      bool        // added for everything, not only for its entries
	refused   bool        // an ancestor whose watch failed (not missing); tried again after an event above it, or refusedRetry later
	refusedAt time.Time   // when it was last refused
	info      os.FileInfo // the directory when the watch was added
	shared    bool        // another watched path led to the same directory when one of them was added
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Watch implements [sources.Driver]. Fields that watch one file with the
// same poll= and maxbytes= share one watch. Without poll=, the file's
// directory is watched before Watch returns: a refused watch (an operating
// system limit) is Watch's error.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	path, maxBytes, err := d.resolve(t)
	if err != nil {
		return nil, err
	}
	key := watchKey{path: path, poll: t.Poll, maxBytes: maxBytes}
	sub := sources.Sub[*sources.Target]{Target: t, Value: t, Last: last, Emit: emit}
	run := func(w *watch) { d.newFollower(key).run(w) }
	if t.Poll > 0 {
		return d.watches.Subscribe(key, sub, run)
	}
	dir := filepath.Dir(path)
	if err := d.hold(path, dir); err != nil {
		return nil, err
	}
	stop, err := d.watches.Subscribe(key, sub, run)
	if err != nil {
		d.release(dir)
		return nil, err
	}
	var once sync.Once
	return func() {
		stop()
		once.Do(func() { d.release(dir) })
	}, nil
}

// hold creates the watcher if needed and puts a watch on dir in place for
// one Watch of path. It fails only when the driver is closed or an
// operating system limit refuses the watch; a missing directory is the
// follower's business.
func (d *driver) hold(path, dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.watches.Context().Err() != nil {
		return sources.ErrClosed
	}
	if d.w == nil {
		w, err := newNotifier()
		if err != nil {
			if lerr := limitError(path, err); lerr != nil {
				return lerr
			}
			return &Error{Path: path, Err: fmt.Errorf("create watcher: %w", err)}
		}
		d.w = w
		d.closeEvents.Store(w.closeEvents())
		d.ancestors = w.watchAncestors()
		d.loop.Add(1)
		go func() {
			defer d.loop.Done()
			w.loop(d.handleEvent, d.handleError)
		}()
	}
	d.acquireLocked(dir)
	if err := d.ensureWithAncestorsLocked(dir); err != nil {
		if lerr := limitError(path, err); lerr != nil {
			d.releaseLocked(dir)
			return lerr
		}
	}
	return nil
}

// release drops one hold of dir.
func (d *driver) release(dir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.releaseLocked(dir)
}

// ensure puts the watches on dir and on its ancestors in place if they
// are not.
func (d *driver) ensure(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ensureWithAncestorsLocked(dir)
}

// ensureWithAncestorsLocked puts the watch on dir in place, then those of
// its ancestors, and returns dir's error. dir goes first: the ancestors
// are a help, dir is what the file needs, and with few inotify watches
// left (fs.inotify.max_user_watches) the ancestors must not take the one
// dir would have had. After a watch limit error on dir none is tried. A
// dir that was missing is looked for again after the ancestors' watches
// are in place: made between its look and their watches, its creation
// was no event of theirs.
func (d *driver) ensureWithAncestorsLocked(dir string) error {
	err := d.ensureLocked(dir)
	if err != nil && limitError(dir, err) != nil {
		return err
	}
	d.ensureAncestorsLocked(dir)
	if err != nil && isMissing(err) && d.ancestors {
		err = d.ensureLocked(dir)
	}
	return err
}

// acquireLocked holds dir for a file, and its ancestors as ancestors.
func (d *driver) acquireLocked(dir string) {
	d.dirLocked(dir).refs++
	if !d.ancestors {
		return
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		d.dirLocked(p).anc++
		if filepath.Dir(p) == p {
			return
		}
	}
}

func (d *driver) dirLocked(dir string) *dirWatch {
	dw := d.dirs[dir]
	if dw == nil {
		dw = &dirWatch{}
		d.dirs[dir] = dw
	}
	return dw
}

// releaseLocked drops one hold of dir, and of its ancestors.
func (d *driver) releaseLocked(dir string) {
	dw := d.dirs[dir]
	if dw == nil {
		return
	}
	dw.refs--
	d.unusedLocked(dir, dw)
	if !d.ancestors {
		return
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if adw := d.dirs[p]; adw != nil {
			adw.anc--
			d.unusedLocked(p, adw)
		}
		if filepath.Dir(p) == p {
			return
		}
	}
}

// unusedLocked drops dir's watch when nothing needs it any more.
func (d *driver) unusedLocked(dir string, dw *dirWatch) {
	if dw.refs > 0 || dw.anc > 0 {
		return
	}
	delete(d.dirs, dir)
	if dw.added && d.w != nil {
		// The directory may be gone already (an old Kubernetes ..2024_...
		// directory), in which case fsnotify dropped the watch itself.
		if err := d.w.Remove(dir); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) && !errors.Is(err, fsnotify.ErrClosed) {
			d.logger.Debug("file: remove directory watch", "dir", dir, "err", showPaths(err))
		}
		d.forgetAliasesLocked(dir, dw)
	}
}

// forgetAliasesLocked handles a directory reached through two paths (a
// symbolic link to a directory): inotify has one watch per directory, not per
// path, so removing the watch for one path removed it for the other too.
// Their targets put it back.
func (d *driver) forgetAliasesLocked(dir string, dw *dirWatch) {
	if dw.info == nil || !dw.shared {
		return
	}
	for other, odw := range d.dirs {
		if other == dir || !odw.added || odw.info == nil || !os.SameFile(odw.info, dw.info) {
			continue
		}
		odw.added = false
		d.kickDirLocked(other)
	}
}

// kickDirLocked has the followers of files at or below dir read now
// (dir, or a directory below it, was deleted, renamed or replaced): those
// of files in it or below it, of files whose link target is, and of files
// reached through a link that it holds.
func (d *driver) kickDirLocked(dir string) {
	for f := range d.followers {
		if f.below(dir) {
			f.ready.Store(true)
			f.kick()
		}
	}
}

// below reports whether f's file is reached through dir: its directory,
// its link target's directory or a link along its directory is dir or
// below it. Called with d.mu held.
func (f *follower) below(dir string) bool {
	return within(f.dir, dir) || (f.resolvedDir != "" && within(f.resolvedDir, dir)) ||
		slices.ContainsFunc(f.links, func(l string) bool { return within(filepath.Dir(l), dir) })
}

// within reports whether path is dir or below it (both clean).
func within(path, dir string) bool {
	if len(path) <= len(dir) {
		return path == dir
	}
	if !strings.HasPrefix(path, dir) {
		return false
	}
	return os.IsPathSeparator(path[len(dir)]) || os.IsPathSeparator(dir[len(dir)-1]) // dir is the root
}

// ensureAncestorsLocked puts in place the missing watches of dir's
// ancestors, from the root down, up to the first one that does not exist
// (its creation is an event of its parent's watch). A directory renamed
// away or deleted with what is below it, and made again, or replaced by
// a rename (mv /etc/app /etc/app.old; mkdir -p /etc/app/conf.d), is an
// event of an ancestor's watch and of none below: the watches below stay
// on the directories that moved, which no longer hold the files. That
// event drops them (see ancestorEventLocked), and this puts them back. A
// watch in place costs nothing here (no system call): the look before each
// read does this too.
func (d *driver) ensureAncestorsLocked(dir string) {
	if !d.ancestors || d.w == nil {
		return
	}
	var buf [16]string
	up := buf[:0]
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		up = append(up, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	for _, p := range slices.Backward(up) {
		dw := d.dirs[p]
		if dw == nil || dw.added || dw.refused && time.Since(dw.refusedAt) < refusedRetry {
			continue
		}
		again := dw.refused // logged already
		err := d.ensureLocked(p)
		switch {
		case err == nil:
		case isMissing(err):
			return // nor is anything below it
		case limitError(p, err) != nil:
			// Out of watches: none below it would fare better. One line,
			// and no system call per read until an event above them.
			for _, q := range up[:slices.Index(up, p)+1] {
				if qw := d.dirs[q]; qw != nil && !qw.added {
					qw.refused, qw.refusedAt = true, time.Now()
				}
			}
			if again {
				return
			}
			d.logger.Warn("file: cannot watch a directory above a watched one (out of inotify watches); "+
				"one of them replaced is not seen until something else has the file read", "dir", p, "err", showPaths(err))
			return
		default: // a directory that cannot be read (mode 711), say
			dw.refused, dw.refusedAt = true, time.Now()
			if again {
				continue
			}
			d.logger.Debug("file: cannot watch a directory above a watched one", "dir", p, "err", showPaths(err))
		}
	}
}

// refusedRetry is how long a refused ancestor's watch is not tried again
// by the looks before reads (an event above it tries it at once). inotify
// reports no attribute change of an ancestor (see entriesMask), so a
// permission fixed is found this way. A variable for tests.
var refusedRetry = 30 * time.Second

// ancestorEventLocked handles an event on name path in a watched
// directory: when path is a watched directory or an ancestor of one, and
// it was deleted, renamed, created or renamed into place, the watches at
// and below it may be on directories the paths no longer reach: they are
// dropped, and the files below it read now (their look puts the watches
// back where the paths lead). An attribute change there lets a failing
// file below it be read again (a directory's permissions fixed).
func (d *driver) ancestorEventLocked(path string, ev event) {
	if d.dirs[path] == nil {
		return
	}
	if ev.Has(opCreate | opRemove | opRename | opMovedIn) {
		for p, dw := range d.dirs {
			if !within(p, path) {
				continue
			}
			dw.refused = false
			if !dw.added {
				continue
			}
			dw.added = false
			if d.w != nil {
				if err := d.w.Remove(p); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) && !errors.Is(err, fsnotify.ErrClosed) {
					d.logger.Debug("file: remove directory watch", "dir", p, "err", showPaths(err))
				}
			}
			d.forgetAliasesLocked(p, dw)
		}
		d.kickDirLocked(path)
		return
	}
	if ev.Has(opChmod) {
		// Its permissions changed: a watch refused at or below it (mode
		// 711, say) may be allowed now, and a file that could not be read
		// through it may be readable. The look before each read kicked here
		// tries the watches again.
		retry := false
		for p, dw := range d.dirs {
			if dw.refused && within(p, path) {
				dw.refused, retry = false, true
			}
		}
		for f := range d.followers {
			if (retry || f.failing.Load()) && f.below(path) {
				f.ready.Store(true)
				f.kick()
			}
		}
	}
}

func (d *driver) ensureLocked(dir string) error {
	dw := d.dirs[dir]
	if dw == nil {
		return fmt.Errorf("file: directory %s is not tracked", sources.ShowPath(dir)) // a bug, not input
	}
	if dw.added {
		fi, err := os.Stat(dir)
		switch {
		case err != nil:
			// The path leads nowhere now (a link along it was removed):
			// the watch is on a directory the path no longer reaches, so
			// wait for it to come back like a missing directory.
			return err
		case (dw.info == nil || os.SameFile(fi, dw.info)) && (dw.full || dw.refs == 0):
			return nil
		case dw.info == nil || os.SameFile(fi, dw.info):
			// Watched as an ancestor only so far, and now as a file's
			// directory: ask for writes and closes too.
			if d.w == nil {
				return sources.ErrClosed
			}
			if err := addWatch(d.w, dir, false); err != nil {
				return err
			}
			dw.full = true
			return nil
		}
		// The path leads to another directory now (a symbolic link along
		// it was swapped, as a deployment swaps current -> releases/N):
		// the watch is on the directory it led to when it was added.
		if d.w != nil {
			if err := d.w.Remove(dir); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) && !errors.Is(err, fsnotify.ErrClosed) {
				d.logger.Debug("file: remove directory watch", "dir", dir, "err", showPaths(err))
			}
		}
		dw.added = false
		d.forgetAliasesLocked(dir, dw)
	}
	if d.w == nil {
		return sources.ErrClosed
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "watch", Path: dir, Err: syscall.ENOTDIR}
	}
	full := dw.refs > 0
	if err := addWatch(d.w, dir, !full); err != nil {
		return err
	}
	dw.added, dw.full, dw.info = true, full, fi
	// Reached through another watched path too (a symbolic link to it)?
	// Events then need matching under both (aliasesLocked); checked here,
	// once per watch added, so that an event need not ask every watch.
	dw.shared = false
	for other, odw := range d.dirs {
		if other != dir && odw.added && odw.info != nil && os.SameFile(odw.info, fi) {
			dw.shared, odw.shared = true, true
		}
	}
	return nil
}

// setResolved records where f's path leads now ("" to forget it), moving
// the extra directory watch when a symbolic link was swapped. It runs on
// f's goroutine.
func (d *driver) setResolved(f *follower, res string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f.resolved = res
	rd := ""
	if res != "" && filepath.Dir(res) != f.dir {
		rd = filepath.Dir(res)
	}
	if rd != f.resolvedDir {
		if f.resolvedDir != "" {
			d.releaseLocked(f.resolvedDir)
		}
		f.resolvedDir = rd
		if rd != "" {
			d.acquireLocked(rd)
		}
	}
	if rd != "" {
		if err := d.ensureWithAncestorsLocked(rd); err != nil && !isMissing(err) {
			d.logger.Warn("file: cannot watch link target directory", "path", f.key.path, "dir", rd, "err", showPaths(err))
		}
	}
}

// setLinks records the symbolic links along f's directory (see
// dirLinks), and watches the directories that hold them, so that a swap
// of one is seen. It runs on f's goroutine.
func (d *driver) setLinks(f *follower, links []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setLinksLocked(f, links)
}

func (d *driver) setLinksLocked(f *follower, links []string) {
	if !slices.Equal(links, f.links) {
		// Acquire first: a directory in both lists keeps its watch (a
		// release to no holder would drop it, and an event with it).
		for _, l := range links {
			d.acquireLocked(filepath.Dir(l))
		}
		for _, l := range f.links {
			d.releaseLocked(filepath.Dir(l))
		}
		f.links = links
	}
	for _, l := range links { // also when one was deleted and made again
		parent := filepath.Dir(l)
		if err := d.ensureLocked(parent); err != nil && !isMissing(err) && !errors.Is(err, sources.ErrClosed) {
			d.logger.Warn("file: cannot watch the directory of a link", "path", f.key.path, "dir", parent, "err", showPaths(err))
		}
	}
}

// lookDir is a watch's look at its file's directory before a read: the
// symbolic links along it are watched, and the directory watch is put in
// place, or moved where the path leads now. It runs on f's goroutine.
func (d *driver) lookDir(f *follower) error {
	// A link along the directory that is swapped moves the file to
	// another directory without any event in the one watched. The
	// links' directories are watched before f.dir is checked, so a
	// swap is either seen by that check or reported by an event. One
	// hold of the lock for both: this runs before every read.
	links := dirLinks(f.dir) // lstat calls, outside the lock
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setLinksLocked(f, links)
	return d.ensureWithAncestorsLocked(f.dir)
}

// dirLinks returns the symbolic links among dir and its parents, as
// spelled in dir: /app/current/config gives /app/current when current is a
// link. inotify follows them when a watch is added, so a watch of dir is
// on the directory they lead to at that moment.
func dirLinks(dir string) []string {
	var links []string
	for p := dir; ; p = filepath.Dir(p) {
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			links = append(links, p)
		}
		if filepath.Dir(p) == p {
			return links
		}
	}
}

// follow registers f for the events of its files; unfollow undoes it and
// drops its link target's directory watch.
func (d *driver) follow(f *follower) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.followers[f] = struct{}{}
}

func (d *driver) unfollow(f *follower) {
	d.setResolved(f, "")
	d.setLinks(f, nil)
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.followers, f)
}

// handleEvent kicks the targets an event may concern. With a close-aware
// backend, only events that say a writer is done make a file ready to read:
// a close after writing, a rename into place, a link created, a deletion, a
// rename away, an attribute change. A write kicks the file without making
// it ready (see follower.waitClose); a plain create does nothing.
func (d *driver) handleEvent(ev event) {
	name := filepath.Clean(ev.Name)
	d.mu.Lock()
	defer d.mu.Unlock()
	base := filepath.Base(name)
	// inotify watches directories, not paths: when one directory is watched
	// through two paths (a symbolic link to it), fsnotify names its events
	// after one of them only. Match the event under every such path.
	dirs := d.aliasesLocked(filepath.Dir(name))
	if d.ancestors {
		for _, dir := range dirs { // also the watched directory itself
			d.ancestorEventLocked(filepath.Join(dir, base), ev)
		}
		if !slices.ContainsFunc(dirs, func(dir string) bool { dw := d.dirs[dir]; return dw != nil && dw.refs > 0 }) {
			return // an event in a directory watched as an ancestor only
		}
	}
	if dw, ok := d.dirs[name]; ok && ev.Has(opRemove|opRename) {
		// A watched directory was deleted (inotify drops the watch) or
		// renamed (the watch would follow it elsewhere): forget it, and let
		// its targets find out whether it is back.
		if dw.added {
			dw.added = false
			if ev.Has(opRename) && d.w != nil {
				_ = d.w.Remove(name) // fsnotify may have dropped it already
			}
			d.forgetAliasesLocked(name, dw)
		}
		d.kickDirLocked(name)
	}
	if _, ok := d.dirs[name]; ok && ev.Has(opChmod) {
		// The watched directory's own permissions changed: a file that
		// could not be read through it may be readable now.
		for f := range d.followers {
			if f.failing.Load() && (f.dir == name || f.resolvedDir == name) {
				f.ready.Store(true)
				f.kick()
			}
		}
	}
	chmodOnly := ev.Op == opChmod
	closeEvents := d.closeEvents.Load()
	// done: a writer is done with the name, read it now.
	done := !closeEvents || ev.Has(opClosed|opMovedIn|opComplete|opRemove|opRename|opChmod)
	if closeEvents && !done && !ev.Has(opWrite) {
		return // a file created, to be written: its close reports it
	}
	dotdot := strings.HasPrefix(base, "..")
	fulls := make([]string, len(dirs))
	for i, dir := range dirs {
		fulls[i] = filepath.Join(dir, base)
	}
	for f := range d.followers {
		if chmodOnly && !f.failing.Load() {
			continue // only a failing watch can be fixed by a chmod
		}
		for i, dir := range dirs {
			full := fulls[i]
			if full == f.key.path || full == f.resolved || (dotdot && dir == f.dir) || slices.Contains(f.links, full) {
				switch {
				case closeEvents && ev.Has(opClosed|opMovedIn|opComplete|opRemove|opRename):
					f.writing.Store(false)
				case closeEvents && ev.Has(opWrite):
					f.writing.Store(true)
				}
				if done {
					f.ready.Store(true)
				}
				f.kick()
				break
			}
		}
	}
}

// aliasesLocked returns dir and the other watched paths of the same
// directory.
func (d *driver) aliasesLocked(dir string) []string {
	dirs := []string{dir}
	dw := d.dirs[dir]
	if dw == nil || !dw.added || dw.info == nil || !dw.shared {
		return dirs
	}
	for other, odw := range d.dirs {
		if other != dir && odw.added && odw.info != nil && os.SameFile(odw.info, dw.info) {
			dirs = append(dirs, other)
		}
	}
	return dirs
}

// handleError logs a watcher error and has every target read again, since
// events may have been lost.
func (d *driver) handleError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		d.logger.Warn("file: change notifications overflowed; reading every file again", "err", err)
	} else {
		d.logger.Warn("file: watcher error; reading every file again", "err", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// A lost event may have been an ancestor's replacement: the look
	// before a read stats the files' directories, not the ancestors it
	// finds added, so drop those (watched as ancestors only) for the looks
	// to put back where the paths lead now.
	for p, dw := range d.dirs {
		if !dw.added || dw.refs > 0 {
			continue
		}
		dw.added = false
		if d.w != nil {
			if err := d.w.Remove(p); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) && !errors.Is(err, fsnotify.ErrClosed) {
				d.logger.Debug("file: remove directory watch", "dir", p, "err", showPaths(err))
			}
		}
		d.forgetAliasesLocked(p, dw)
	}
	for f := range d.followers {
		f.kick()
	}
}

// Close implements [sources.Driver]. It stops every watch still running,
// closes the shared watcher and waits for its goroutine. It is idempotent.
func (d *driver) Close() error {
	d.watches.Close()
	d.mu.Lock()
	w := d.w
	d.w = nil
	clear(d.dirs) // the watcher and its watches go away together
	d.mu.Unlock()
	var err error
	if w != nil {
		err = w.Close()
	}
	d.loop.Wait()
	return err
}

// isMissing reports an error that means a directory is not there (yet).
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// limitError returns an error wrapping [sources.ErrWatchLimit] and err when
// err is an operating system limit on watches, or nil.
func limitError(path string, err error) error {
	var limit string
	switch {
	case errors.Is(err, syscall.ENOSPC):
		limit = "the inotify watch limit (fs.inotify.max_user_watches)"
	case errors.Is(err, syscall.EMFILE):
		limit = "the inotify instance limit (fs.inotify.max_user_instances) or the open files limit (ulimit -n)"
	case errors.Is(err, syscall.ENFILE):
		limit = "the system-wide open files limit (fs.file-max)"
	default:
		return nil
	}
	return &Error{Path: path, Err: fmt.Errorf("%w: %s is exhausted; raise it or use the poll= option: %w",
		sources.ErrWatchLimit, limit, showPaths(err))}
}
