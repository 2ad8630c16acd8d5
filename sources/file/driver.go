package file

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/fsnotify/fsnotify"

	"github.com/livebind/livebind/sources"
)

var errClosed = errors.New("file: driver closed")

// addWatch adds a directory to the watcher. Tests replace it to simulate
// limits that cannot be reached safely on a shared machine (ENOSPC from
// fs.inotify.max_user_watches is per user, not per process).
var addWatch = (*fsnotify.Watcher).Add

// driver is the file scheme's driver for one Binding. It owns one fsnotify
// watcher, created on the first notification watch, shared by every target,
// and the goroutine that drains it.
type driver struct {
	logger *slog.Logger
	wd     string // working directory when the driver was opened (at Bind)
	wdErr  error  // why wd is unknown; only relative locations need it

	mu      sync.Mutex
	w       *fsnotify.Watcher    // nil until the first notification watch
	dirs    map[string]*dirWatch // watched directories, by cleaned path
	targets map[*runner]struct{} // running watches, polling ones included
	closed  bool

	done chan struct{} // closed by Close
	loop sync.WaitGroup
}

// dirWatch is one directory that targets need watched.
type dirWatch struct {
	refs  int         // targets that need it
	added bool        // the fsnotify watch is in place
	info  os.FileInfo // the directory when the watch was added
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Watch implements [sources.Driver].
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	path, maxBytes, err := d.resolve(t)
	if err != nil {
		return nil, err
	}
	r := newRunner(d, t, path, maxBytes, last, emit)
	if t.Poll > 0 {
		// Polling needs no watcher: only register r so that Close can stop it.
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return nil, errClosed
		}
		d.targets[r] = struct{}{}
		r.start() // under d.mu, so that a concurrent Close sees it running
		d.mu.Unlock()
		return r.stop, nil
	}
	if err := d.addRunner(r); err != nil {
		return nil, err
	}
	return r.stop, nil
}

// addRunner creates the watcher if needed, registers r, puts the watches on
// its directories in place and starts r. It fails only when the driver is
// closed or an operating system limit refuses the watch.
func (d *driver) addRunner(r *runner) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	if d.w == nil {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			if lerr := limitError(r.path, err); lerr != nil {
				return lerr
			}
			return &Error{Path: r.path, Err: fmt.Errorf("create watcher: %w", err)}
		}
		d.w = w
		d.loop.Add(1)
		go d.run(w)
	}
	d.acquireLocked(r.dir)
	if err := d.ensureLocked(r.dir); err != nil {
		if lerr := limitError(r.path, err); lerr != nil {
			d.releaseLocked(r.dir)
			return lerr
		}
		// A missing directory is the runner's business: it reports the file
		// missing and waits for the directory.
	}
	if res, err := filepath.EvalSymlinks(r.path); err == nil {
		r.resolved = res
		if rd := filepath.Dir(res); rd != r.dir {
			d.acquireLocked(rd)
			r.resolvedDir = rd
			if err := d.ensureLocked(rd); err != nil {
				if lerr := limitError(r.path, err); lerr != nil {
					d.releaseLocked(rd)
					d.releaseLocked(r.dir)
					return lerr
				}
			}
		}
	}
	d.targets[r] = struct{}{}
	r.start()
	return nil
}

// removeRunner unregisters r so that no event kicks it any more.
func (d *driver) removeRunner(r *runner) {
	d.mu.Lock()
	delete(d.targets, r)
	d.mu.Unlock()
}

// releaseRunner drops the directory watches r holds. r's goroutine has ended.
func (d *driver) releaseRunner(r *runner) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.releaseLocked(r.dir)
	if r.resolvedDir != "" {
		d.releaseLocked(r.resolvedDir)
		r.resolvedDir = ""
	}
}

// ensure puts the watch on dir in place if it is not.
func (d *driver) ensure(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ensureLocked(dir)
}

func (d *driver) acquireLocked(dir string) {
	dw := d.dirs[dir]
	if dw == nil {
		dw = &dirWatch{}
		d.dirs[dir] = dw
	}
	dw.refs++
}

func (d *driver) releaseLocked(dir string) {
	dw := d.dirs[dir]
	if dw == nil {
		return
	}
	dw.refs--
	if dw.refs > 0 {
		return
	}
	delete(d.dirs, dir)
	if dw.added && d.w != nil {
		// The directory may be gone already (an old Kubernetes ..2024_...
		// directory), in which case fsnotify dropped the watch itself.
		if err := d.w.Remove(dir); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) && !errors.Is(err, fsnotify.ErrClosed) {
			d.logger.Debug("file: remove directory watch", "dir", dir, "err", err)
		}
		d.forgetAliasesLocked(dir, dw)
	}
}

// forgetAliasesLocked handles a directory reached through two paths (a
// symbolic link to a directory): inotify has one watch per directory, not per
// path, so removing the watch for one path removed it for the other too.
// Their targets put it back.
func (d *driver) forgetAliasesLocked(dir string, dw *dirWatch) {
	if dw.info == nil {
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

// kickDirLocked kicks the notification targets that watch dir.
func (d *driver) kickDirLocked(dir string) {
	for r := range d.targets {
		if r.poll == 0 && (r.dir == dir || r.resolvedDir == dir) {
			r.kick()
		}
	}
}

func (d *driver) ensureLocked(dir string) error {
	dw := d.dirs[dir]
	if dw == nil {
		return fmt.Errorf("file: directory %s is not tracked", dir) // a bug, not input
	}
	if dw.added {
		return nil
	}
	if d.w == nil || d.closed {
		return errClosed
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "watch", Path: dir, Err: syscall.ENOTDIR}
	}
	if err := addWatch(d.w, dir); err != nil {
		return err
	}
	dw.added, dw.info = true, fi
	return nil
}

// setResolved records where r's path leads now, moving the extra directory
// watch when a symbolic link was swapped. It runs on r's goroutine.
func (d *driver) setResolved(r *runner, res string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r.resolved = res
	rd := filepath.Dir(res)
	if rd == r.dir {
		rd = ""
	}
	if rd == r.resolvedDir {
		if rd != "" {
			if err := d.ensureLocked(rd); err != nil && !isMissing(err) {
				d.logger.Warn("file: cannot watch link target directory", "path", r.path, "dir", rd, "err", err)
			}
		}
		return
	}
	if r.resolvedDir != "" {
		d.releaseLocked(r.resolvedDir)
	}
	r.resolvedDir = rd
	if rd != "" {
		d.acquireLocked(rd)
		if err := d.ensureLocked(rd); err != nil && !isMissing(err) {
			d.logger.Warn("file: cannot watch link target directory", "path", r.path, "dir", rd, "err", err)
		}
	}
}

// run drains the watcher's events and errors until Close.
func (d *driver) run(w *fsnotify.Watcher) {
	defer d.loop.Done()
	events, errs := w.Events, w.Errors
	for events != nil || errs != nil {
		select {
		case <-d.done:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			d.handleEvent(ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			d.handleError(err)
		}
	}
}

// handleEvent kicks the targets an event may concern.
func (d *driver) handleEvent(ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	d.mu.Lock()
	defer d.mu.Unlock()
	if dw, ok := d.dirs[name]; ok && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		// A watched directory was deleted (inotify drops the watch) or
		// renamed (the watch would follow it elsewhere): forget it, and let
		// its targets find out whether it is back.
		if dw.added {
			dw.added = false
			if ev.Has(fsnotify.Rename) && d.w != nil {
				_ = d.w.Remove(name) // fsnotify may have dropped it already
			}
			d.forgetAliasesLocked(name, dw)
		}
		d.kickDirLocked(name)
	}
	chmodOnly := ev.Op == fsnotify.Chmod
	base := filepath.Base(name)
	dotdot := strings.HasPrefix(base, "..")
	// inotify watches directories, not paths: when one directory is watched
	// through two paths (a symbolic link to it), fsnotify names its events
	// after one of them only. Match the event under every such path.
	dirs := d.aliasesLocked(filepath.Dir(name))
	for r := range d.targets {
		if r.poll > 0 || chmodOnly && !r.failing.Load() {
			continue // only a failing target can be fixed by a chmod
		}
		for _, dir := range dirs {
			full := filepath.Join(dir, base)
			if full == r.path || full == r.resolved || (dotdot && dir == r.dir) {
				r.kick()
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
	if dw == nil || !dw.added || dw.info == nil {
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
	for r := range d.targets {
		if r.poll == 0 {
			r.kick()
		}
	}
}

// Close implements [sources.Driver]. It stops any watch still running,
// closes the shared watcher and waits for its goroutine. It is idempotent.
func (d *driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	rs := make([]*runner, 0, len(d.targets))
	for r := range d.targets {
		rs = append(rs, r)
	}
	d.mu.Unlock()
	for _, r := range rs {
		r.stop()
	}
	close(d.done)
	d.mu.Lock()
	w := d.w
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
		sources.ErrWatchLimit, limit, err)}
}
