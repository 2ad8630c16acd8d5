//go:build unix

package nats_test

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	lbnats "github.com/livebind/livebind/sources/nats"
)

// blackhole returns a loopback address whose TCP connects hang: a socket
// listening with a backlog of 0 that never accepts, its queue filled, so
// that the kernel drops further SYNs (as a firewall that drops does).
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	for range 10 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // the queue is full: connects hang
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	t.Skip("connects to a full listen queue do not hang here")
	return ""
}

// TestCloseWhileDialing: the driver's dial waits for a TCP connect that
// hangs (a host behind a firewall that drops). Close must end it at once,
// not wait for the connection Timeout (5 s here), and the Read waiting
// for the dial returns.
func TestCloseWhileDialing(t *testing.T) {
	addr := blackhole(t)
	o := natsgo.GetDefaultOptions()
	o.Url = "nats://" + addr
	o.Timeout = 5 * time.Second
	d := open(t, lbnats.Config{Options: &o})
	read := make(chan error, 1)
	go func() { read <- d.Read(t.Context(), target("subject:app.mode", nil)).Err }()
	time.Sleep(300 * time.Millisecond) // the dial is under way
	start := time.Now()
	require.NoError(t, d.Close())
	took := time.Since(start)
	t.Logf("Close took %v", took)
	require.Less(t, took, time.Second, "Close waited for the dial")
	select {
	case err := <-read:
		require.Error(t, err)
	case <-time.After(time.Second):
		t.Fatal("the Read did not return after Close")
	}
}
