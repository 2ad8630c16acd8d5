package ws_test

import (
	"bufio"
	"context"
	"crypto/sha1" //nolint:gosec // RFC 6455 fixes SHA-1 for Sec-WebSocket-Accept
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/ws"
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

// A close frame whose reason echoes the client's Authorization header
// and the token of its URL: the ErrDisconnected the watch reports shows
// neither.
func TestCloseReasonScrubbed(t *testing.T) {
	loc := rawServer(t, "/cfg?token=url-secret-token", func(c net.Conn, w *bufio.Writer, key string) {
		upgrade(w, key)
		frame(w, 0x81, []byte(`{"a":1}`))
		frame(w, 0x88, append([]byte{0x03, 0xf0}, "ws-secret-token url-secret-token"...)) // 1008 policy violation
		_ = w.Flush()
		wait(t, c)
	})
	log := kit.Watch(t, loc, map[string]string{"header": "Authorization: Bearer ws-secret-token"})
	log.Until(t, "the document", isData(`{"a":1}`))
	_, r, _ := log.Wait(t, 1, "the close", isErr(sources.ErrDisconnected))
	require.Contains(t, r.Err.Error(), "StatusPolicyViolation")
	require.NotContains(t, r.Err.Error(), "ws-secret-token")
	require.NotContains(t, r.Err.Error(), "url-secret-token")
}

// Frames a server must not send, and messages over the limit however
// they are split: a Read reports an error (never the data), without
// holding more than maxbytes=.
func TestProtocolAbuse(t *testing.T) {
	big := []byte(strings.Repeat("y", 600))
	for _, tc := range []struct {
		name   string
		frames func(w *bufio.Writer)
		want   error // nil: any *ws.Error
	}{
		{"masked frame from the server", func(w *bufio.Writer) {
			p := []byte(`{"a":1}`)
			_, _ = w.Write([]byte{0x81, 0x80 | byte(len(p)), 0, 0, 0, 0}) // mask key 0: the payload reads as is
			_, _ = w.Write(p)
		}, nil},
		{"reserved opcode", func(w *bufio.Writer) { frame(w, 0x83, []byte(`{"a":1}`)) }, nil},
		{"reserved control opcode", func(w *bufio.Writer) { frame(w, 0x8b, nil) }, nil},
		{"compressed without negotiation (RSV1)", func(w *bufio.Writer) { frame(w, 0xc1, []byte{0xaa, 0x56, 0x4a, 0x54, 0xb2, 0x32, 0xac, 0x05, 0x00}) }, nil},
		{"RSV2", func(w *bufio.Writer) { frame(w, 0xa1, []byte(`{"a":1}`)) }, nil},
		{"control frame over 125 bytes", func(w *bufio.Writer) { frame(w, 0x89, big[:200]) }, nil},
		{"fragmented control frame", func(w *bufio.Writer) { frame(w, 0x09, []byte("p")) }, nil},
		{"continuation without a start", func(w *bufio.Writer) { frame(w, 0x80, []byte(`{"a":1}`)) }, nil},
		{"fragments over the limit", func(w *bufio.Writer) {
			frame(w, 0x01, big)
			frame(w, 0x00, big)
			frame(w, 0x80, big)
		}, sources.ErrTooLarge},
		{"fragments over the limit with pings between", func(w *bufio.Writer) {
			frame(w, 0x01, big)
			frame(w, 0x89, []byte("p"))
			frame(w, 0x80, big)
		}, sources.ErrTooLarge},
		{"frame length far over the limit", func(w *bufio.Writer) {
			_, _ = w.Write([]byte{0x81, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			_, _ = w.Write(big)
		}, sources.ErrTooLarge},
		{"negative frame length", func(w *bufio.Writer) {
			_, _ = w.Write([]byte{0x81, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := rawServer(t, "/cfg", func(c net.Conn, w *bufio.Writer, key string) {
				upgrade(w, key)
				tc.frames(w)
				_ = w.Flush()
				wait(t, c)
			})
			tg := target(loc, map[string]string{"maxbytes": "1000"})
			tg.Timeout = 2 * time.Second
			start := time.Now()
			r := kit.Open(t, fastConfig()).Read(t.Context(), tg)
			require.Nil(t, r.Data, "no data from a broken frame")
			kit.Fails(t, r.Err, tc.want, 0)
			require.NotErrorIs(t, r.Err, context.DeadlineExceeded, "the error is the frame's, not a timeout: %v", r.Err)
			require.Less(t, time.Since(start), time.Second)
		})
	}
}

// A server that floods pings before its message: each is answered, and
// the message is read.
func TestPingFlood(t *testing.T) {
	loc := rawServer(t, "/cfg", func(c net.Conn, w *bufio.Writer, key string) {
		upgrade(w, key)
		for range 5000 {
			frame(w, 0x89, []byte("flood"))
		}
		frame(w, 0x81, []byte(`{"a":1}`))
		_ = w.Flush()
		wait(t, c)
	})
	r := readRaw(t, loc, 5*time.Second)
	require.NoError(t, r.Err)
	require.Equal(t, `{"a":1}`, string(r.Data))
}

// Redirects a client must not follow: to another origin (where the
// configured headers must not go; here another port, and wss to ws) and
// in a loop. Each is an Error wrapping sources.ErrRedirect that names no
// secret, the other server never sees a request, and the refusal, which
// needs someone to fix the server, is retried on the slow backoff.
func TestRedirectRefused(t *testing.T) {
	kit.RedirectRefused(t, func(c *nethttp.Client, h nethttp.Header) ws.Config {
		cfg := fastConfig()
		cfg.MaxBackoff = time.Second // the slow backoff waits [0.5s, 1s)
		cfg.Client, cfg.Header = c, h
		return cfg
	}, func(u string) string { return "ws" + strings.TrimPrefix(u, "http") }, 0)
}

// A server that refuses the handshake (503) with a body it never
// finishes: the Read still ends at timeout=, and so does Close of a watch
// meanwhile.
func TestRefusalBodyStalls(t *testing.T) {
	kit.RefusalBodyStalls(t, func(u string) string { return "ws" + strings.TrimPrefix(u, "http") })
}

// The caller's own cancellation of a Read, before or after the handshake,
// is context.Canceled and not sources.ErrUnreachable: the server did
// nothing wrong.
func TestReadCanceled(t *testing.T) {
	loc := rawServer(t, "/cfg", func(c net.Conn, w *bufio.Writer, key string) {
		upgrade(w, key)
		_ = w.Flush()
		wait(t, c)
	})
	kit.ReadCanceled(t, loc)
}

// A Read whose caller cancels it with a cause of its own while the
// handshake waits for an answer is context.Canceled, not the cause alone
// (net/http reports context.Cause). Before the fix: "handshake: Get ...:
// shutting down", neither Canceled nor a timeout.
func TestHandshakeCanceledWithCause(t *testing.T) {
	loc := rawServer(t, "/cfg", func(c net.Conn, _ *bufio.Writer, _ string) { wait(t, c) })
	d := kit.Open(t, fastConfig())
	ctx, cancel := context.WithCancelCause(t.Context())
	time.AfterFunc(200*time.Millisecond, func() { cancel(errors.New("shutting down")) })
	r := d.Read(ctx, target(loc, nil))
	require.ErrorIs(t, r.Err, context.Canceled)
	require.NotErrorIs(t, r.Err, sources.ErrUnreachable)
}
