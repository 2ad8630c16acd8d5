package nats

import (
	"maps"
	"net"
	"slices"
	"sync"

	natsgo "github.com/nats-io/nats.go"

	"github.com/livebind/livebind/sources"
)

// closingDialer dials the driver's connections and closes every one still
// open when the driver closes, so that Close also ends a connection attempt
// to a server that accepted the TCP connection but never answers (the
// client would wait for its Timeout).
type closingDialer struct {
	inner natsgo.CustomDialer // the user's dialer, or nil
	net   net.Dialer

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

// Dial implements natsgo.CustomDialer.
func (c *closingDialer) Dial(network, address string) (net.Conn, error) {
	var (
		conn net.Conn
		err  error
	)
	if c.inner != nil {
		conn, err = c.inner.Dial(network, address)
	} else {
		conn, err = c.net.Dial(network, address)
	}
	if err != nil {
		return nil, err
	}
	t := &trackedConn{Conn: conn, d: c}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = conn.Close()
		return nil, sources.ErrClosed
	}
	c.conns[t] = struct{}{}
	return t, nil
}

// close closes every open connection, and every later one at once.
func (c *closingDialer) close() {
	c.mu.Lock()
	c.closed = true
	conns := slices.Collect(maps.Keys(c.conns))
	c.mu.Unlock()
	for _, t := range conns {
		_ = t.Close()
	}
}

// trackedConn leaves its dialer's set when closed.
type trackedConn struct {
	net.Conn
	d    *closingDialer
	once sync.Once
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		t.d.mu.Lock()
		delete(t.d.conns, t)
		t.d.mu.Unlock()
	})
	return t.Conn.Close()
}
