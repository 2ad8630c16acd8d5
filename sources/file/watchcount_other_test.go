//go:build !linux

package file

import "testing"

// kernelWatches: only Linux lists the watches of a descriptor.
func kernelWatches(testing.TB, *driver) (int, bool) { return 0, false }
