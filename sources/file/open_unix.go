//go:build unix

package file

import (
	"os"
	"syscall"
)

// openNoBlock opens path for reading, following symbolic links, without
// blocking on a named pipe that has no writer: O_NONBLOCK makes open(2)
// return at once. readBounded refuses anything but a regular file right
// after, from the opened descriptor, so the flag never affects a read.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
