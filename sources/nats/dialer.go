package nats

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
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
	bound bool            // check what the server sends against the protocol's bounds
	ctx   context.Context // ends at close: a TCP connect in flight ends with it
	stop  context.CancelFunc

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
	switch inner := c.inner.(type) {
	case nil:
		conn, err = c.net.DialContext(c.ctx, network, address)
	case contextDialer:
		conn, err = inner.DialContext(c.ctx, network, address)
	default:
		conn, err = inner.Dial(network, address)
	}
	if err != nil {
		return nil, err
	}
	t := &trackedConn{Conn: conn, d: c}
	if c.bound {
		t.bound = &protoBound{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = conn.Close()
		return nil, sources.ErrClosed
	}
	c.conns[t] = struct{}{}
	return t, nil
}

// SkipTLSHandshake tells the client, as the user's dialer does, that its
// connections need no TLS handshake from the client.
func (c *closingDialer) SkipTLSHandshake() bool {
	sd, ok := c.inner.(interface{ SkipTLSHandshake() bool })
	return ok && sd.SkipTLSHandshake()
}

// contextDialer is a user's dialer that can be canceled (*net.Dialer,
// proxy dialers).
type contextDialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// close ends a connect in flight and closes every open connection, and
// every later one at once.
func (c *closingDialer) close() {
	c.stop()
	c.mu.Lock()
	c.closed = true
	conns := slices.Collect(maps.Keys(c.conns))
	c.mu.Unlock()
	for _, t := range conns {
		_ = t.Close()
	}
}

// trackedConn leaves its dialer's set when closed, and checks what the
// server sends against the protocol's bounds.
type trackedConn struct {
	net.Conn
	d     *closingDialer
	once  sync.Once
	bound *protoBound // nil: not checked
}

// Read implements net.Conn. A server that breaks the bounds fails the
// read, and so the connection: the client reconnects.
func (t *trackedConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if t.bound != nil && n > 0 {
		if berr := t.bound.scan(p[:n]); berr != nil {
			return 0, berr
		}
	}
	return n, err
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		t.d.mu.Lock()
		delete(t.d.conns, t)
		t.d.mu.Unlock()
	})
	return t.Conn.Close()
}

const (
	// MaxControlLine bounds a line the server sends (INFO, MSG, -ERR ...):
	// the client reads a line until its end, however long, before it looks
	// at it. A real server's INFO, with a large cluster's connect_urls,
	// stays far below.
	MaxControlLine = 1 << 20
	// MaxMessage bounds a message the server announces: the client
	// allocates the size a MSG line gives before the payload arrives. A
	// server's max_payload cannot exceed its max_pending, 64 MiB by default;
	// 1 MiB more leaves room for the headers JetStream adds.
	MaxMessage = 64<<20 + 1<<20
)

// protoBound follows the server's side of a plain NATS connection just
// enough to refuse a control line over [MaxControlLine] and a message over
// [MaxMessage] before the client holds them. Once the server's bytes are
// a TLS record, TLS checks them and the bound steps aside.
type protoBound struct {
	line    []byte // the start of the current control line
	lineLen int    // its length so far
	skip    int64  // payload bytes still to pass
	off     bool   // TLS: not checked
}

// opLine is how much of a line is kept to read a MSG or HMSG line's size.
const opLine = 4 << 10

func (b *protoBound) scan(p []byte) error {
	for len(p) > 0 && !b.off {
		if b.skip > 0 {
			n := min(int64(len(p)), b.skip)
			b.skip -= n
			p = p[n:]
			continue
		}
		if b.lineLen == 0 && p[0] == 0x16 { // a TLS handshake record: the upgrade
			b.off = true
			return nil
		}
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i+1]
		}
		b.lineLen += len(chunk)
		if b.lineLen > MaxControlLine {
			return fmt.Errorf("nats: the server sent a line of more than %d bytes", MaxControlLine)
		}
		if keep := min(len(chunk), opLine-len(b.line)); keep > 0 {
			b.line = append(b.line, chunk[:keep]...)
		}
		if i < 0 {
			return nil
		}
		p = p[i+1:]
		size, err := msgSize(b.line, b.lineLen)
		b.line, b.lineLen = b.line[:0], 0
		if err != nil {
			return err
		}
		b.skip = size
	}
	return nil
}

// msgSize returns the size a MSG or HMSG line announces (0 for other
// lines), or an error when it is over [MaxMessage] or the line is cut.
func msgSize(line []byte, n int) (int64, error) {
	f := bytes.Fields(line)
	if len(f) == 0 || !bytes.EqualFold(f[0], []byte("MSG")) && !bytes.EqualFold(f[0], []byte("HMSG")) {
		return 0, nil
	}
	if n > len(line) {
		return 0, fmt.Errorf("nats: the server sent a message line of more than %d bytes", opLine)
	}
	size, err := strconv.ParseInt(string(f[len(f)-1]), 10, 64)
	if err != nil || size < 0 {
		return 0, nil // the client refuses it
	}
	if size > MaxMessage {
		return 0, fmt.Errorf("nats: the server announced a message of %d bytes, more than %d", size, MaxMessage)
	}
	return size, nil
}
