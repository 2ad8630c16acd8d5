//go:build !unix

package file

import "os"

// openNoBlock opens path for reading. Systems without named pipes in the
// file system namespace cannot block here.
func openNoBlock(path string) (*os.File, error) {
	return os.Open(path)
}
