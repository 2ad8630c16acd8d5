package file

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/livebind/livebind/sources"
)

// DefaultMaxBytes is the largest file accepted when the tag has no
// maxbytes=: 16 MiB. A larger file is an error wrapping
// [sources.ErrTooLarge], found from the file's size before any byte of it is
// read or allocated for.
const DefaultMaxBytes = 16 << 20

// ErrNotRegular reports a path that leads, after following symbolic links,
// to something other than a regular file: a directory, a named pipe (FIFO),
// a device such as /dev/zero, or a socket. Such paths are refused at once,
// since reading them could block forever or never end.
var ErrNotRegular = errors.New("not a regular file")

// errChangedWhileRead reports a file whose stat after a read differs from
// the one before it: a writer truncated, wrote or grew it meanwhile.
var errChangedWhileRead = errors.New("changed while being read")

// readHook, when set, runs after each read call of readBounded: tests
// change the file between two of them.
var readHook func()

// initialBuf is the least buffer allocated for a read. Files whose size
// stat does not know (those of /proc say 0) grow it as they are read.
const initialBuf = 512

// readBounded reads the regular file at path, at most maxBytes of it. It
// never blocks on a named pipe, refuses anything that is not a regular
// file, and fails with [sources.ErrTooLarge] when the file is larger than
// maxBytes: from its size before allocating, and from what a read returns
// (a file may grow between stat and read) rather than truncating. Every
// error names path once and keeps its cause (errors.Is(err,
// fs.ErrNotExist) holds for a missing file).
func readBounded(path string, maxBytes int64) ([]byte, error) {
	// Stat first (following links), so that devices and sockets are never
	// opened at all: opening one can have effects, or fail obscurely (a
	// socket gives ENXIO). The opened descriptor is checked again below,
	// since the path may be replaced in between.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, readError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegularError(path, fi.Mode())
	}
	f, err := openNoBlock(path)
	if err != nil {
		return nil, readError(path, err)
	}
	defer f.Close()
	fi, err = f.Stat()
	if err != nil {
		return nil, readError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegularError(path, fi.Mode())
	}
	size := fi.Size()
	if size > maxBytes {
		return nil, &Error{Path: path, Err: fmt.Errorf("%d bytes, more than maxbytes=%d: %w", size, maxBytes, sources.ErrTooLarge)}
	}
	// One byte more than the size, so that reaching EOF needs no growth.
	buf := make([]byte, 0, max(size+1, min(initialBuf, maxBytes+1)))
	lr := io.LimitedReader{R: f, N: maxBytes + 1}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if readHook != nil {
			readHook()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, readError(path, err)
		}
	}
	if int64(len(buf)) > maxBytes {
		return nil, &Error{Path: path, Err: fmt.Errorf("grew past maxbytes=%d while being read: %w", maxBytes, sources.ErrTooLarge)}
	}
	// A writer that truncated, rewrote or grew the file in place between
	// two read calls left the start of one content and the end of another
	// in buf; its events may not be handled yet, so the watch cannot know.
	// The file's stat then differs from the one before the read (a size
	// of 0, as /proc files say, is not compared with what was read).
	after, err := f.Stat()
	if err != nil {
		return nil, readError(path, err)
	}
	if after.Size() != size || !after.ModTime().Equal(fi.ModTime()) || (size > 0 && int64(len(buf)) != size) {
		return nil, &Error{Path: path, Err: errChangedWhileRead}
	}
	return buf, nil
}

// notRegularError names what path leads to. A directory also wraps
// syscall.EISDIR, as reading one always did.
func notRegularError(path string, mode fs.FileMode) error {
	what := "special file"
	switch {
	case mode.IsDir():
		return &Error{Path: path, Err: fmt.Errorf("%w (a directory): %w", ErrNotRegular, syscall.EISDIR)}
	case mode&fs.ModeNamedPipe != 0:
		what = "named pipe"
	case mode&fs.ModeSocket != 0:
		what = "socket"
	case mode&fs.ModeCharDevice != 0:
		what = "character device"
	case mode&fs.ModeDevice != 0:
		what = "block device"
	}
	return &Error{Path: path, Err: fmt.Errorf("%w (a %s); only regular files are read", ErrNotRegular, what)}
}

// maxBytesOf parses the target's maxbytes= option: a positive whole number
// of bytes, [DefaultMaxBytes] when absent.
func maxBytesOf(t *sources.Target) (int64, error) {
	v, ok := t.Param("maxbytes")
	if !ok {
		return DefaultMaxBytes, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 || n == math.MaxInt64 {
		q := v
		if len(q) > 32 {
			q = q[:32] + "..."
		}
		return 0, &Error{Path: t.Location, Err: fmt.Errorf("option maxbytes: want a positive whole number of bytes, got %s", strconv.Quote(q))}
	}
	return n, nil
}
