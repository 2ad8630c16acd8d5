package ws_test

import (
	"bufio"
	"context"
	"crypto/sha1" //nolint:gosec // RFC 6455 fixes SHA-1 for Sec-WebSocket-Accept
	"encoding/base64"
	"encoding/binary"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// A hostile or broken server, written frame by frame: its handler takes
// over the connection of each upgrade request and serve writes what it
// likes (the handshake answer, then frames).

// rawServer starts a real net/http server on 127.0.0.1 whose handler
// hijacks each request and hands serve the connection and the request's
// Sec-WebSocket-Key; the connection is closed when serve returns. It
// returns the ws:// URL of path.
func rawServer(t *testing.T, path string, serve func(c net.Conn, w *bufio.Writer, key string)) string {
	t.Helper()
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		c, rw, err := w.(nethttp.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c, rw.Writer, r.Header.Get("Sec-WebSocket-Key"))
		_ = rw.Flush()
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

// accept is the Sec-WebSocket-Accept of key.
func accept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) //nolint:gosec // RFC 6455
	return base64.StdEncoding.EncodeToString(h[:])
}

// upgrade writes a valid 101 answer to key.
func upgrade(w *bufio.Writer, key string) {
	_, _ = w.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(key) + "\r\n\r\n")
}

// frame writes one unmasked frame: b0 is its first byte (FIN, RSV bits,
// opcode).
func frame(w *bufio.Writer, b0 byte, payload []byte) {
	n := len(payload)
	switch {
	case n < 126:
		_, _ = w.Write([]byte{b0, byte(n)})
	case n < 1<<16:
		_, _ = w.Write([]byte{b0, 126, byte(n >> 8), byte(n)})
	default:
		var b [10]byte
		b[0], b[1] = b0, 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
		_, _ = w.Write(b[:])
	}
	_, _ = w.Write(payload)
}

// wait holds a connection open until the client leaves or the test ends.
func wait(t *testing.T, c net.Conn) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [512]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-t.Context().Done():
	}
}

// readRaw reads loc once with timeout and the header "Authorization:
// Bearer ws-secret-token".
func readRaw(t *testing.T, loc string, timeout time.Duration) sources.Result {
	t.Helper()
	tg := target(loc, map[string]string{"header": "Authorization: Bearer ws-secret-token"})
	tg.Timeout = timeout
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return kit.Open(t, fastConfig()).Read(ctx, tg)
}

// A Read of a server that completes the handshake and then sends
// nothing: timeout= ends it as a server that gave no answer in time
// (sources.ErrUnreachable, context.DeadlineExceeded), never as
// context.Canceled, which is the caller's own.
func TestReadTimeoutAfterHandshake(t *testing.T) {
	loc := rawServer(t, "/cfg", func(c net.Conn, w *bufio.Writer, key string) {
		upgrade(w, key)
		_ = w.Flush()
		wait(t, c)
	})
	start := time.Now()
	r := readRaw(t, loc, 200*time.Millisecond)
	require.Less(t, time.Since(start), 3*time.Second, "the Read is bounded by timeout=")
	kit.Fails(t, r.Err, sources.ErrUnreachable, 0)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.NotErrorIs(t, r.Err, context.Canceled)
}

// A 101 answer that breaks the protocol, with header values that echo the
// client's Authorization header and run to 64 KiB: the handshake error
// neither shows the secret nor holds the server's text beyond
// sources.MaxServerText.
func TestHandshakeViolationText(t *testing.T) {
	echo := "Bearer ws-secret-token " + strings.Repeat("x", 64<<10)
	for _, tc := range []struct{ name, answer string }{
		{"connection", "Upgrade: websocket\r\nConnection: " + echo + "\r\nSec-WebSocket-Accept: %s\r\n"},
		{"upgrade", "Upgrade: " + echo + "\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"},
		{"accept", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + echo + "\r\n"},
		{"protocol", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: " + echo + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := rawServer(t, "/cfg", func(_ net.Conn, w *bufio.Writer, key string) {
				_, _ = w.WriteString("HTTP/1.1 101 Switching Protocols\r\n" + strings.Replace(tc.answer, "%s", accept(key), 1) + "\r\n")
			})
			r := readRaw(t, loc, 2*time.Second)
			kit.Fails(t, r.Err, nil, 0)
			require.NotContains(t, r.Err.Error(), "ws-secret-token")
			require.Less(t, len(r.Err.Error()), 2*sources.MaxServerText, "the server's text is cut: %.200s", r.Err)
		})
	}
}

// A close frame whose reason echoes the client's Authorization header:
// the ErrDisconnected the watch reports does not show it.
func TestCloseReasonScrubbed(t *testing.T) {
	loc := rawServer(t, "/cfg", func(c net.Conn, w *bufio.Writer, key string) {
		upgrade(w, key)
		frame(w, 0x81, []byte(`{"a":1}`))
		frame(w, 0x88, append([]byte{0x03, 0xf0}, "ws-secret-token"...)) // 1008 policy violation
		_ = w.Flush()
		wait(t, c)
	})
	log := kit.Watch(t, loc, map[string]string{"header": "Authorization: Bearer ws-secret-token"})
	log.Until(t, "the document", isData(`{"a":1}`))
	_, r, _ := log.Wait(t, 1, "the close", isErr(sources.ErrDisconnected))
	require.Contains(t, r.Err.Error(), "StatusPolicyViolation")
	require.NotContains(t, r.Err.Error(), "ws-secret-token")
}
