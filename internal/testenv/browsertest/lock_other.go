//go:build !unix

package browsertest

// lockFile is a no-op where flock does not exist; installing with apt-get
// only works on Debian anyway.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
