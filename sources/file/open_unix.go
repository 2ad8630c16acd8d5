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
//
// O_NOCTTY: readBounded refuses a terminal from its stat, but the path may
// lead to one by the time it is opened (swapped in between). A session
// leader without a controlling terminal (a daemon, a service started with
// setsid) that opens a terminal without it makes that terminal its
// controlling terminal, whose hangup or ^C then signals the process.
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}
