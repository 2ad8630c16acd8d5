// Package file registers the "file" scheme: configuration kept in a file on a
// local (or network) filesystem, read once at Bind and watched for changes.
// Import it for its side effect:
//
//	import _ "github.com/livebind/livebind/sources/file"
//
//	type Config struct {
//		Server Server `live:"file=/etc/app/app.toml"`
//		Limits Limits `live:"file=${CONF_DIR:-.}/limits.yaml; debounce=250ms"`
//		Motd   string `live:"file=/mnt/nfs/motd.txt; poll=10s; format=text"`
//	}
//
// The location is a path, relative to the working directory at Bind unless it
// is absolute: it is resolved once, when Bind opens the driver, so a later
// os.Chdir does not change which file is read. The format is inferred from
// the extension.
//
// # Bounded reads
//
// Only regular files are read, after following symbolic links. A path that
// leads to a directory, a named pipe (FIFO), a device such as /dev/zero or a
// socket is an error wrapping [ErrNotRegular] at once: it is never opened
// for a read that could block forever or never end (a pipe is opened with
// O_NONBLOCK and checked from its descriptor; and with O_NOCTTY, so that a
// terminal swapped in after the check never becomes the process's
// controlling terminal). maxbytes=N bounds the size, default
// [DefaultMaxBytes] (16 MiB): a larger file is an error wrapping
// [sources.ErrTooLarge], found from its size before anything is allocated,
// and a file that grows past the bound while being read is refused too,
// never cut short into a value. Reads at Bind, on Reload, after a change
// notification and when polling all go through this one reader, and so do
// files named by env's NAME_FILE convention.
//
// # Change notifications
//
// Without poll=, the scheme uses one watcher per Binding and watches the
// directory that holds each file, never the file itself, so editors that
// save by renaming a new file over the old one, or that delete and re-create
// it, keep being followed. When the path is a symbolic link to a file in
// another directory, that directory is watched too and the link is resolved
// again after every read; this covers Kubernetes ConfigMap and Secret volumes,
// whose `..data` link is swapped atomically on update (files mounted with
// subPath are never updated by the kubelet). A symbolic link along the
// file's directory (a deployment's current -> releases/N) is followed too:
// the directory that holds the link is watched, and when the link is
// swapped the watch moves to the directory it leads to now, even while the
// old one stays on disk. The directories above the file's, up to the root,
// are watched too (one watch each, shared by every file below them, and
// only for names created, deleted or renamed in them): a parent or higher
// directory renamed away or deleted and made again, or replaced by a
// rename (mv /etc/app /etc/app.old; mkdir -p /etc/app/conf.d), moves the
// watch to the new directory and reads the file there, and writes in the
// old one are no longer taken for the file's. A directory that does not
// exist yet, or that is removed, is watched for from the nearest one above
// it that exists, and checked again with backoff (50ms doubling up to 1s)
// until it reappears. On systems where fsnotify uses kqueue (macOS, the
// BSDs) or FEN (illumos), which open every entry of a watched directory,
// the directories above are not watched: a replacement there is seen at
// the next read of the file.
//
// Fields that watch one file with the same poll= and maxbytes= share one
// watch, and one read per change: the shortest debounce= and maxwait= among
// them apply, and each field's format decides for itself whether the
// content parses.
//
// On Linux the watcher is inotify, and a file is read when a writer is done
// with it: when it closes the file after writing (IN_CLOSE_WRITE), when a
// complete file or a Kubernetes ..data link is renamed into place
// (IN_MOVED_TO), when a link to it is created, and when it is deleted or
// renamed away. A write in progress is never read, and there is no debounce
// unless debounce= is given (then closes within it are read once). A writer
// that closes the file and re-opens it to append publishes each closed
// state that parses, and the final state last; one that does not parse is
// retried as below, and the next close ends the wait. A write that no close
// follows (a writer that keeps the file open, truncate(2)) is read maxwait
// after it. Files changed through a mount that sends no inotify events (NFS
// or SMB changes made on other machines, most FUSE filesystems) are never
// noticed: use poll= there.
//
// Elsewhere the watcher is fsnotify, which reports every write, so
// notifications for one file are debounced: the file is read
// [DefaultDebounce] after the last notification (debounce=), but never later
// than maxwait= after the first one of a burst, so a file that is rewritten
// continuously is still read. The default maxwait is the larger of
// [DefaultMaxWait] and ten debounce intervals. debounce=0 reads at the first
// notification.
//
// An empty file, one that does not parse (for example a half-written TOML
// file), or one whose size or modification time changed while it was read
// (a writer rewrote it in place meanwhile: what was read may mix two
// contents), is taken for a write in progress: it is read again twice, one
// debounce interval apart ([DefaultDebounce] when there is none), before
// the error is reported. The error wraps
// [sources.ErrEmpty] for an empty file. A missing file is retried the same way
// before it is reported as missing, so that a save through a backup file
// (`app.toml` renamed to `app.toml~`, then written again) reports nothing but
// the new content. A read that changes nothing (same bytes) is not reported.
//
// # Polling
//
// With poll=, no notifications are used: the file is checked with stat every
// interval and read again when its size, modification time or identity
// changed, or while its modification time is less than two seconds older than
// the last read (for filesystems with coarse timestamps). A change is read at
// the first poll that sees it; debounce= only spaces the retries of an empty
// or unparsable read. Use it for NFS, SMB, FUSE and other filesystems that do
// not deliver inotify events, or when the system limits on inotify
// (fs.inotify.max_user_watches, fs.inotify.max_user_instances) are exhausted:
// errors that report such a limit wrap [sources.ErrWatchLimit].
package file

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// DefaultDebounce is how long the file scheme waits after the last change
// notification for a file before reading it, when the tag has no debounce=,
// on systems without the Linux inotify backend (there, a close is the
// notification, and nothing is waited for). It is also the interval between the retries of a read that found the file
// missing, empty or unparsable.
const DefaultDebounce = 100 * time.Millisecond

// DefaultMaxWait is the least time a burst of change notifications may
// postpone a read when the tag has no maxwait=. The default is the larger of
// DefaultMaxWait and ten debounce intervals.
const DefaultMaxWait = time.Second

// retries is how many times a read that looks like a write in progress
// (missing, empty or unparsable) is repeated before it is reported.
const retries = 2

// errUnparsable is what a Check error of a secret target says, since parse
// errors might quote the content; the Check error stays reachable through
// errors.Is and errors.As.
var errUnparsable = errors.New("file content does not parse")

// hiddenError reports errUnparsable while still wrapping the Check error.
type hiddenError struct{ check error }

func (e hiddenError) Error() string   { return errUnparsable.Error() }
func (e hiddenError) Unwrap() []error { return []error{errUnparsable, e.check} }

func init() {
	sources.Register(sources.Scheme{
		Name:           "file",
		Options:        []string{"maxbytes"},
		Poll:           true,
		Timeout:        false,
		NativeDebounce: true,
		Local:          true,
		Check:          check,
		Open:           open,
	})
}

// check validates a target at Bind, without I/O: a location and a
// maxbytes= that parses.
func check(t *sources.Target) error {
	if t.Location == "" {
		return &Error{Err: errors.New("empty path")}
	}
	_, err := maxBytesOf(t)
	return err
}

func open(cfg sources.Config) (sources.Driver, error) {
	logger := cfg.Logger
	if logger == nil { // The contract says never nil; do not crash if it is.
		logger = discardLogger()
	}
	// Relative locations resolve against the working directory of Bind
	// (which opens the driver), once: a later os.Chdir does not move them.
	wd, wdErr := os.Getwd()
	return &driver{
		wd:        wd,
		wdErr:     wdErr,
		logger:    logger,
		dirs:      make(map[string]*dirWatch),
		followers: make(map[*follower]struct{}),
	}, nil
}

// Read implements [sources.Driver]. It never blocks on the file: a named
// pipe or device is refused at once, the read is bounded by maxbytes=, and
// the retries of a write in progress end with ctx.
func (d *driver) Read(ctx context.Context, t *sources.Target) sources.Result {
	path, maxBytes, err := d.resolve(t)
	if err != nil {
		return sources.Result{Err: err}
	}
	if err := ctx.Err(); err != nil {
		return sources.Result{Err: &Error{Path: path, Err: err}}
	}
	o := readFile(path, t, maxBytes)
	if o.Missing {
		return o.Result // Read reports a missing file at once; only Watch waits.
	}
	for attempt := 0; o.retry && attempt < retries; attempt++ {
		timer := time.NewTimer(retryGapOf(t))
		select {
		case <-ctx.Done():
			timer.Stop()
			return o.Result
		case <-timer.C:
		}
		o = readFile(path, t, maxBytes)
	}
	return o.Result
}

// resolve returns the target's cleaned absolute path and its maxbytes=.
func (d *driver) resolve(t *sources.Target) (string, int64, error) {
	path, err := d.absPath(t.Location)
	if err != nil {
		return "", 0, err
	}
	maxBytes, err := maxBytesOf(t)
	if err != nil {
		return "", 0, err
	}
	return path, maxBytes, nil
}

// absPath cleans the location and makes it absolute against the working
// directory the driver was opened in.
func (d *driver) absPath(loc string) (string, error) {
	if loc == "" {
		return "", &Error{Err: errors.New("empty path")}
	}
	if filepath.IsAbs(loc) {
		return filepath.Clean(loc), nil
	}
	if d.wdErr != nil {
		return "", &Error{Path: loc, Err: fmt.Errorf("relative path, and the working directory at Bind is unknown: %w", d.wdErr)}
	}
	return filepath.Join(d.wd, loc), nil
}

// debounceOf is the target's debounce: DefaultDebounce when the tag has
// none (0), none at all for debounce=0 (livebind passes a negative value).
func debounceOf(t *sources.Target) time.Duration {
	if t.Debounce < 0 {
		return 0
	}
	if t.Debounce > 0 {
		return t.Debounce
	}
	return DefaultDebounce
}

// debounceWith is the target's debounce with a backend that reports
// closes (closeEvents) or not: without debounce=, a close says the file is
// complete, so there is none.
func debounceWith(t *sources.Target, closeEvents bool) time.Duration {
	if closeEvents && t.Debounce == 0 {
		return 0
	}
	return debounceOf(t)
}

// retryGapOf spaces the re-reads of what looks like a write in progress:
// the debounce, or DefaultDebounce when debounce=0 turned debouncing off.
func retryGapOf(t *sources.Target) time.Duration {
	if d := debounceOf(t); d > 0 {
		return d
	}
	return DefaultDebounce
}

func maxWaitOf(t *sources.Target) time.Duration {
	if t.MaxWait > 0 {
		return t.MaxWait
	}
	return max(10*debounceOf(t), DefaultMaxWait)
}

// observation is one look at a file: a result, and whether it may come
// from a write in progress (empty or unparsable content and, for watches,
// a missing file), to be read again before it is reported.
type observation struct {
	sources.Result
	retry bool
}

// readFile reads path once, at most maxBytes of it, and classifies what it
// found for t.
func readFile(path string, t *sources.Target, maxBytes int64) observation {
	return classify(readRaw(path, maxBytes), path, t)
}

// readRaw reads path once, at most maxBytes of it (see readBounded), and
// classifies what it found, before any target's Check.
func readRaw(path string, maxBytes int64) observation {
	data, err := readBounded(path, maxBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return observation{sources.Result{Missing: true}, true}
	case errors.Is(err, errChangedWhileRead):
		return observation{sources.Result{Err: err}, true} // a write in progress
	case err != nil:
		return observation{Result: sources.Result{Err: err}}
	case len(data) == 0:
		return observation{sources.Result{Err: &Error{Path: path, Err: sources.ErrEmpty}}, true}
	}
	return observation{Result: sources.Result{Data: data, Version: version(data)}}
}

// classify applies t's Check to data read from path: content that does not
// parse is an error, and may be a write in progress.
func classify(o observation, path string, t *sources.Target) observation {
	if o.Data == nil || t.Check == nil {
		return o
	}
	cerr := t.Check(o.Data)
	switch {
	case cerr == nil:
		return o
	case t.Secret:
		cerr = hiddenError{cerr}
	default:
		cerr = fmt.Errorf("content does not parse: %w", cerr)
	}
	return observation{sources.Result{Err: &Error{Path: path, Err: cerr}}, true}
}

// readError names the path once, keeping the operation and the cause
// (errors.Is(err, fs.ErrPermission) still holds).
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return &Error{Path: path, Err: fmt.Errorf("%s: %w", pe.Op, pe.Err)}
	}
	return &Error{Path: path, Err: showPaths(err)}
}

// Error reports a file that could not be read or watched: it names the
// path (quoted when it is not printable UTF-8, see [sources.ShowPath]) and
// wraps the cause, so that errors.Is finds fs.ErrNotExist,
// fs.ErrPermission, [ErrNotRegular], [sources.ErrEmpty],
// [sources.ErrTooLarge] or [sources.ErrWatchLimit], and errors.As the
// *Error itself. The content of a secret file never appears in it.
type Error struct {
	// Path is the cleaned absolute path (the location as written when it
	// could not be made absolute).
	Path string
	// Err is the cause.
	Err error
}

// Error formats the error as "file <path>: <cause>". A path that is not
// printable UTF-8 (a newline in a file name) is quoted (see
// [sources.ShowPath]), here and in the cause.
func (e *Error) Error() string {
	if e.Path == "" {
		return "file: " + e.Err.Error()
	}
	return "file " + sources.ShowPath(e.Path) + ": " + e.Err.Error()
}

// showPaths returns err with the path of the *fs.PathError it holds (a
// directory that could not be watched, say) shown as [Error] shows paths:
// quoted unless printable. errors.Is and errors.As still see err.
func showPaths(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) || sources.ShowPath(pe.Path) == pe.Path {
		return err
	}
	return &shownError{err: err, text: strings.ReplaceAll(err.Error(), pe.Path, sources.ShowPath(pe.Path))}
}

// shownError is an error shown with another text.
type shownError struct {
	err  error
	text string
}

func (e *shownError) Error() string { return e.text }
func (e *shownError) Unwrap() error { return e.err }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// version is a short content hash.
func version(data []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(data) // hash.Hash.Write never fails
	return hex.EncodeToString(h.Sum(nil))
}
