//go:build !unix

package livebind

import (
	"io/fs"
	"os"
)

// openNoFollow opens path for reading. Outside Unix there is no
// O_NOFOLLOW: a symbolic link is refused by a check before opening.
func openNoFollow(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink
	}
	return os.Open(path)
}

var errSymlink = &fs.PathError{Op: "open", Err: fs.ErrInvalid}

// isSymlinkErr reports the error openNoFollow gives for a symbolic link.
func isSymlinkErr(err error) bool { return err == errSymlink }

// fileOwner reports no owner: ownership is not checked outside Unix.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }
