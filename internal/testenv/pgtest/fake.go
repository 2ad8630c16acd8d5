package pgtest

// Fake is a PostgreSQL wire-protocol fake for faults a real server cannot be
// made to show: a backend message larger than any real one. Its limits:
//
//   - No TLS or GSS encryption: an SSLRequest or GSSENCRequest is answered
//     'N', so clients must use sslmode=disable (or prefer).
//   - Trust authentication only: any user and password are accepted with
//     AuthenticationOk, BackendKeyData and ReadyForQuery, no ParameterStatus.
//   - Simple query protocol only: every Query message is answered with
//     CommandComplete("LISTEN") and ReadyForQuery, whatever its SQL; the
//     extended protocol (Parse, Bind, ...) is answered at each Sync with an
//     ErrorResponse (SQLSTATE 0A000) and ReadyForQuery. It returns no rows.
//   - It holds no state between connections and checks nothing the client
//     sends beyond message framing.
//
// The messages it sends besides the fault (AuthenticationOk,
// BackendKeyData, CommandComplete, ErrorResponse, ReadyForQuery) have the
// formats of protocol 3.0 as PostgreSQL 15 sends them; the fault is the one
// thing a real server never does.

import (
	"encoding/binary"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// Fault is what a Fake does wrong.
type Fault int

const (
	// OversizeStartup answers the startup message with the header of an
	// Authentication message declaring Size body bytes, then sends nothing
	// more (a client that allocates the body before reading it is caught).
	OversizeStartup Fault = iota + 1
	// OversizeNotify completes the startup and answers queries; after the
	// first Query it sends the header of a NotificationResponse declaring
	// Size body bytes, then nothing more.
	OversizeNotify
)

// FakeServer is a running Fake.
type FakeServer struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string
	// Conns counts the connections it accepted.
	Conns atomic.Int64
}

// Fake starts a fake server that shows fault with a declared message body
// of size bytes, on every connection, until the test ends.
func Fake(tb testing.TB, fault Fault, size uint32) *FakeServer {
	tb.Helper()
	f := &FakeServer{}
	f.Addr, _ = fixture.TCPServer(tb, func(c net.Conn) {
		defer c.Close()
		f.Conns.Add(1)
		serveFake(c, fault, size)
	})
	return f
}

// serveFake runs one connection until the client or the test closes it.
func serveFake(c net.Conn, fault Fault, size uint32) {
	for { // startup, after any encryption requests
		var n [4]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		size := binary.BigEndian.Uint32(n[:])
		if size < 8 || size > 10000 {
			return
		}
		body := make([]byte, size-4)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		if code := binary.BigEndian.Uint32(body); code == 80877103 || code == 80877104 {
			if _, err := c.Write([]byte{'N'}); err != nil {
				return
			}
			continue
		}
		break
	}
	if fault == OversizeStartup {
		_, _ = c.Write(header('R', size))
		_, _ = io.Copy(io.Discard, c)
		return
	}
	out := append(msg('R', 0, 0, 0, 0), msg('K', 0, 0, 0, 1, 0, 0, 0, 2)...)
	if _, err := c.Write(append(out, msg('Z', 'I')...)); err != nil {
		return
	}
	notified := false
	for {
		var h [5]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(h[1:])
		if n < 4 || n > 1<<20 {
			return
		}
		if _, err := io.CopyN(io.Discard, c, int64(n-4)); err != nil {
			return
		}
		var reply []byte
		switch h[0] {
		case 'X':
			return
		case 'Q':
			reply = append(msg('C', []byte("LISTEN\x00")...), msg('Z', 'I')...)
			if fault == OversizeNotify && !notified {
				notified = true
				reply = append(reply, header('A', size)...)
			}
		case 'S':
			e := []byte("SERROR\x00C0A000\x00Mpgtest fake: no extended protocol\x00\x00")
			reply = append(msg('E', e...), msg('Z', 'I')...)
		}
		if reply != nil {
			if _, err := c.Write(reply); err != nil {
				return
			}
		}
	}
}

// header is the type byte and length word of a backend message of size
// body bytes.
func header(typ byte, size uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{typ}, size+4)
}

// msg is a whole backend message.
func msg(typ byte, body ...byte) []byte {
	return append(header(typ, uint32(len(body))), body...) //nolint:gosec // test messages are tiny
}
