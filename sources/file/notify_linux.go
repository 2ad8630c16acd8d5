//go:build linux

package file

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"
)

// inotifyMask is what the close-aware backend asks the kernel for.
// IN_MODIFY never causes a read by itself (the write may be half done):
// the driver reads a modified file that nobody closes only after maxwait.
// IN_ONLYDIR makes a file that replaced a directory fail the watch.
const inotifyMask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CREATE |
	unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB | unix.IN_ONLYDIR

// entriesMask is what a directory watched only as an ancestor of a file's
// directory needs: its names created, deleted or renamed, and its own
// deletion or rename; not the writes and closes of every file in it (an
// ancestor may be /tmp or /). Nor IN_ATTRIB: an attribute change is an
// event of a directory's children, and a mask with one makes the kernel
// mark every cached entry of the directory (deleted names included) when
// the watch is added and unmark them when it goes, and check the parent on
// every change of every entry, system-wide: adding a watch on this
// machine's /tmp took 8 ms with it, 7 µs without. IN_MASK_ADD keeps what
// the directory is watched for already (through another path, or as a
// file's directory), since inotify has one mask per directory.
const entriesMask = unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_CREATE | unix.IN_DELETE | unix.IN_DELETE_SELF |
	unix.IN_MOVE_SELF | unix.IN_ONLYDIR | unix.IN_MASK_ADD

// inotify is the close-aware backend: inotify through golang.org/x/sys/unix,
// reporting a file when its writer closes it (IN_CLOSE_WRITE) or when a
// complete file, or a Kubernetes ..data link, is renamed into place
// (IN_MOVED_TO). The descriptor is non-blocking and read through the Go
// runtime's poller, so an idle watch costs no CPU and Close ends the read.
type inotify struct {
	file *os.File

	mu     sync.Mutex
	fd     int // valid until closed
	closed bool
	paths  map[int]string // watch descriptor -> the path last added for it
	wds    map[string]int // path -> watch descriptor (two paths may share one)
	full   map[int]bool   // watch descriptor -> added with inotifyMask at least once
}

func newCloseNotifier() (notifier, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	return &inotify{
		file:  os.NewFile(uintptr(fd), "inotify"),
		fd:    fd,
		paths: make(map[int]string),
		wds:   make(map[string]int),
		full:  make(map[int]bool),
	}, nil
}

func (n *inotify) closeEvents() bool    { return true }
func (n *inotify) watchAncestors() bool { return true }

// Add watches dir, for everything or (entriesOnly) for changes of its
// names only. Adding a directory watched already through another path (a
// symbolic link to it) shares its watch descriptor.
func (n *inotify) Add(dir string, entriesOnly bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return fsnotify.ErrClosed
	}
	mask := uint32(inotifyMask)
	if entriesOnly {
		mask = entriesMask
	}
	wd, err := unix.InotifyAddWatch(n.fd, dir, mask)
	if err != nil {
		return &fs.PathError{Op: "inotify_add_watch", Path: dir, Err: err}
	}
	n.paths[wd] = dir
	n.wds[dir] = wd
	if !entriesOnly {
		n.full[wd] = true
	}
	return nil
}

// Remove drops the watch of dir, and with it that of every other path of
// the same directory, as inotify has one watch per directory.
func (n *inotify) Remove(dir string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return fsnotify.ErrClosed
	}
	wd, ok := n.wds[dir]
	if !ok {
		return fsnotify.ErrNonExistentWatch
	}
	n.forgetLocked(wd)
	if _, err := unix.InotifyRmWatch(n.fd, uint32(wd)); err != nil && !errors.Is(err, unix.EINVAL) {
		// EINVAL: the kernel dropped it already (the directory is gone).
		return &fs.PathError{Op: "inotify_rm_watch", Path: dir, Err: err}
	}
	return nil
}

func (n *inotify) forgetLocked(wd int) {
	delete(n.paths, wd)
	delete(n.full, wd)
	for p, w := range n.wds {
		if w == wd {
			delete(n.wds, p)
		}
	}
}

// Close closes the descriptor, which ends loop.
func (n *inotify) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	return n.file.Close()
}

// WatchList returns the watched paths.
func (n *inotify) WatchList() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.wds))
	for p := range n.wds {
		out = append(out, p)
	}
	return out
}

// loop reads events until Close.
func (n *inotify) loop(onEvent func(event), onError func(error)) {
	buf := make([]byte, 256*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		k, err := n.file.Read(buf)
		switch {
		case errors.Is(err, os.ErrClosed):
			return
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			onError(err)
			time.Sleep(100 * time.Millisecond) // do not spin on a persistent error
			continue
		}
		parseEvents(buf[:k], func(wd int, mask uint32, name string) {
			n.dispatch(wd, mask, name, onEvent, onError)
		})
	}
}

// parseEvents calls fn for each struct inotify_event in buf (native byte
// order), with its name without the NUL padding. A truncated event at the
// end is dropped: the kernel never splits one, but the buffer is not
// trusted.
func parseEvents(buf []byte, fn func(wd int, mask uint32, name string)) {
	for len(buf) >= unix.SizeofInotifyEvent {
		wd := int(int32(binary.NativeEndian.Uint32(buf[0:])))
		mask := binary.NativeEndian.Uint32(buf[4:])
		nameLen := uint64(binary.NativeEndian.Uint32(buf[12:]))
		buf = buf[unix.SizeofInotifyEvent:]
		if nameLen > uint64(len(buf)) {
			return
		}
		name := strings.TrimRight(string(buf[:nameLen]), "\x00")
		buf = buf[nameLen:]
		fn(wd, mask, name)
	}
}

// dispatch translates one inotify event.
func (n *inotify) dispatch(wd int, mask uint32, name string, onEvent func(event), onError func(error)) {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		onError(fsnotify.ErrEventOverflow)
		return
	}
	n.mu.Lock()
	dir, ok := n.paths[wd]
	full := n.full[wd]
	if ok && mask&unix.IN_IGNORED != 0 {
		// The watch is gone (its directory was deleted, or Remove): the
		// DELETE_SELF before it was reported already.
		n.forgetLocked(wd)
		ok = false
	}
	n.mu.Unlock()
	if !ok {
		return
	}
	path := dir
	if name != "" {
		path = filepath.Join(dir, name)
	}
	var o op
	if mask&unix.IN_CREATE != 0 {
		o |= opCreate
		// In a directory watched as an ancestor only, what matters is
		// that the name exists again: no lstat for every file made in
		// /tmp.
		if mask&unix.IN_ISDIR != 0 || (full && createdComplete(path)) {
			o |= opComplete
		}
	}
	for _, m := range []struct {
		in uint32
		o  op
	}{
		{unix.IN_MODIFY, opWrite},
		{unix.IN_CLOSE_WRITE, opClosed},
		{unix.IN_MOVED_TO, opMovedIn},
		{unix.IN_MOVED_FROM | unix.IN_MOVE_SELF, opRename},
		{unix.IN_DELETE | unix.IN_DELETE_SELF, opRemove},
		{unix.IN_ATTRIB, opChmod},
	} {
		if mask&m.in != 0 {
			o |= m.o
		}
	}
	if o != 0 {
		onEvent(event{Name: path, Op: o})
	}
}

// createdComplete reports a name created with its content already there: a
// symbolic link (ln -s) or a hard link (ln), which no close follows. A new
// regular file is being written: its close reports it.
func createdComplete(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false // gone again: its deletion reports it
	}
	if !fi.Mode().IsRegular() {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink > 1
}
