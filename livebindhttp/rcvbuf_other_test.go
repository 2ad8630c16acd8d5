//go:build !unix

package livebindhttp_test

import "syscall"

// smallReadBuffer keeps the system's receive buffer where setting it before
// connecting needs more than package syscall offers; the tests' streams
// outgrow any socket buffers anyway. See rcvbuf_unix_test.go.
func smallReadBuffer(_, _ string, _ syscall.RawConn) error { return nil }
