//go:build unix

package livebindhttp_test

import "syscall"

// smallReadBuffer is a net.Dialer Control function that gives the socket a
// 4 KiB receive buffer before it connects, so the handshake already
// advertises the small window. Shrinking the buffer of a connected socket
// (TCPConn.SetReadBuffer after Dial) leaves the peer with the large window
// and segment size of the handshake: on Linux loopback the server then keeps
// sending 32-64 KiB segments that the 8 KiB buffer drops, and once a few
// hundred KiB wait unsent the stream stalls for good (window probes back
// off exponentially), bye, EOF and all.
func smallReadBuffer(_, _ string, rc syscall.RawConn) error {
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	}); cerr != nil {
		return cerr
	}
	return err
}
