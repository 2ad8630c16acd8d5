package file

import (
	"errors"
	"runtime"
	"sync/atomic"

	"github.com/fsnotify/fsnotify"
)

// op is what happened to a name in a watched directory.
type op uint32

const (
	opCreate   op = 1 << iota // created (fsnotify also reports a rename into place so)
	opWrite                   // written (fsnotify only: the write may be in progress)
	opRemove                  // deleted; for a watched directory, the directory itself
	opRename                  // renamed away; for a watched directory, the directory itself
	opChmod                   // attributes changed
	opClosed                  // closed by a writer (inotify IN_CLOSE_WRITE)
	opMovedIn                 // renamed into place, complete (inotify IN_MOVED_TO)
	opComplete                // with opCreate: created complete (a symbolic link, a directory, a hard link)
)

// event is one change notification.
type event struct {
	Name string // cleaned by handleEvent
	Op   op
}

// Has reports whether the event has any of the bits of o.
func (e event) Has(o op) bool { return e.Op&o != 0 }

// notifier is a change notification backend: the Linux inotify one, which
// reports when a writer is done with a file, or fsnotify, which reports
// every write. It watches directories, and delivers what happens in them
// to loop's callbacks until Close.
type notifier interface {
	// Add watches dir. entriesOnly: only the names in dir being created,
	// deleted, renamed or changing attributes matter (dir is watched as
	// an ancestor of a file's directory), not writes to files in it: the
	// backend may ask for less. A later Add of the same directory without
	// it asks for everything; one with it never asks for less than the
	// directory is watched for already.
	Add(dir string, entriesOnly bool) error
	// Remove drops the watch of dir; a watch that is gone already is
	// fsnotify.ErrNonExistentWatch.
	Remove(dir string) error
	Close() error
	WatchList() []string
	// loop delivers events and errors until Close, then returns.
	loop(onEvent func(event), onError func(error))
	// closeEvents reports that the backend reports closes and renames into
	// place, and never a write in progress.
	closeEvents() bool
	// watchAncestors reports that watching the ancestors of each file's
	// directory costs one watch each (see driver.ensureAncestorsLocked).
	watchAncestors() bool
}

// forceFallback makes new drivers use fsnotify even where the close-aware
// backend exists. Tests and benchmarks set it to measure the fallback.
var forceFallback atomic.Bool

// errNoCloseEvents: this system has no close-aware backend.
var errNoCloseEvents = errors.New("no close-aware notification backend on this system")

// newNotifier returns the close-aware backend where it exists, else
// fsnotify. An operating system limit is returned as is, for limitError.
func newNotifier() (notifier, error) {
	if !forceFallback.Load() {
		n, err := newCloseNotifier()
		if !errors.Is(err, errNoCloseEvents) {
			return n, err
		}
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return fsnotifier{w}, nil
}

// fsnotifier is the fsnotify backend.
type fsnotifier struct{ w *fsnotify.Watcher }

func (n fsnotifier) Add(dir string, _ bool) error { return n.w.Add(dir) }
func (n fsnotifier) Remove(dir string) error      { return n.w.Remove(dir) }
func (n fsnotifier) Close() error                 { return n.w.Close() }
func (n fsnotifier) WatchList() []string          { return n.w.WatchList() }
func (n fsnotifier) closeEvents() bool            { return false }

// watchAncestors: where fsnotify uses inotify or ReadDirectoryChangesW, a
// directory is one watch. Its kqueue backend (macOS, the BSDs) and its FEN
// one (illumos) open every entry of a watched directory, which for / or a
// home directory is a descriptor per file there: no ancestors are watched
// on them.
func (n fsnotifier) watchAncestors() bool {
	return runtime.GOOS == "linux" || runtime.GOOS == "windows" || runtime.GOOS == "android"
}

func (n fsnotifier) loop(onEvent func(event), onError func(error)) {
	events, errs := n.w.Events, n.w.Errors
	for events != nil || errs != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			onEvent(fromFsnotify(ev))
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			onError(err)
		}
	}
}

// fromFsnotify translates an fsnotify event.
func fromFsnotify(ev fsnotify.Event) event {
	var o op
	for _, m := range []struct {
		f fsnotify.Op
		o op
	}{{fsnotify.Create, opCreate}, {fsnotify.Write, opWrite}, {fsnotify.Remove, opRemove}, {fsnotify.Rename, opRename}, {fsnotify.Chmod, opChmod}} {
		if ev.Has(m.f) {
			o |= m.o
		}
	}
	return event{Name: ev.Name, Op: o}
}
