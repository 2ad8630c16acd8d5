package nats_test

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// fakeServer listens on loopback and runs serve on each connection it
// accepts until the test ends; it returns the nats:// URL.
func fakeServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "nats://" + ln.Addr().String()
}

// fakeInfo is the INFO line of a fake server, with more JSON fields
// (`,"auth_required":true`) when extra is not empty.
func fakeInfo(extra string) []byte {
	return []byte(`INFO {"server_id":"fake","version":"2.9.10","proto":1,"headers":true,"max_payload":1048576` + extra + "}\r\n")
}

// answerPings plays a server's side of a connection: INFO (with extra
// fields), then it reads the client's lines and answers a PING with
// answer; once, it returns after the first. It reports whether the
// connection still works.
func answerPings(c net.Conn, extra, answer string, once bool) (*bufio.Reader, bool) {
	if _, err := c.Write(fakeInfo(extra)); err != nil {
		return nil, false
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, false
		}
		if !strings.HasPrefix(line, "PING") {
			continue
		}
		if _, err := c.Write([]byte(answer)); err != nil || once {
			return br, err == nil
		}
	}
}

// handshake plays a server's side of the connection's start: INFO, then
// the client's CONNECT and PING answered with PONG.
func handshake(c net.Conn) (*bufio.Reader, bool) { return answerPings(c, "", "PONG\r\n", true) }

// hostileConfig is a driver config for the server at url, retrying
// quickly.
func hostileConfig(url string) lbnats.Config {
	o := natsgo.GetDefaultOptions()
	o.Url = url
	o.MaxReconnect = -1
	o.ReconnectWait = 50 * time.Millisecond
	o.Timeout = 5 * time.Second
	return lbnats.Config{Options: &o, MaxBackoff: 200 * time.Millisecond}
}

// TestHostileMessageSize: whatever answers at the server's address says,
// after the handshake, that a message of 1 GiB follows. The client would
// allocate the whole of it from that line alone (or die at a larger
// size); the driver must refuse the connection (an ErrUnreachable error
// for the watch) and stay under 256 MiB of heap. In a child under a heap
// watchdog.
func TestHostileMessageSize(t *testing.T) {
	url := fakeServer(t, func(c net.Conn) {
		br, ok := handshake(c)
		if !ok {
			return
		}
		header := "MSG app.mode 1 1073741824\r\n"
		if _, err := c.Write(append([]byte(header), bytes.Repeat([]byte("x"), 64<<10)...)); err != nil {
			return
		}
		_, _ = br.WriteTo(discard{}) // hold the connection open
	})
	res := childtest.Run(t, childtest.Limits{Timeout: 30 * time.Second, Heap: 256 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		d := open(t, hostileConfig(url))
		tg := target("subject:app.mode", nil)
		log := watch(t, d, tg, d.Read(ctx(t), tg))
		log.Expect(t, "an unreachable error (the connection refused)", isErr(sources.ErrUnreachable))
		time.Sleep(300 * time.Millisecond) // the watchdog samples every 10 ms
	})
	require.True(t, res.OK(), "%s", res)
}

// TestHostileEndlessInfo: whatever answers at the server's address sends
// an INFO line that never ends. The client reads it until its connection
// Timeout (5 s here), growing a string all along; the driver must give up
// once the line passes any real server's INFO, well within a second, with
// an ErrUnreachable error, under 64 MiB of heap. In a child under a heap
// watchdog.
func TestHostileEndlessInfo(t *testing.T) {
	url := fakeServer(t, func(c net.Conn) {
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		if _, err := c.Write([]byte(`INFO {"server_id":"`)); err != nil {
			return
		}
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	res := childtest.Run(t, childtest.Limits{Timeout: 30 * time.Second, Heap: 64 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		d := open(t, hostileConfig(url))
		start := time.Now()
		r := d.Read(ctx(t), target("subject:app.mode", nil))
		require.ErrorIs(t, r.Err, sources.ErrUnreachable)
		require.True(t, isErr(sources.ErrUnreachable)(r), "%v", r.Err)
		require.Less(t, time.Since(start), time.Second, "given up on the line")
		t.Logf("error: %v", r.Err)
	})
	require.True(t, res.OK(), "%s", res)
}

// discard is io.Writer that keeps nothing.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestHostileLongError: whatever answers at the server's address refuses
// the connection with a -ERR of 100 KiB. The error a Read returns (and
// every update would carry) must hold a clipped part of it, not all of
// it.
func TestHostileLongError(t *testing.T) {
	url := fakeServer(t, func(c net.Conn) { answerPings(c, "", "-ERR '"+strings.Repeat("x", 100<<10)+"'\r\n", true) })
	d := open(t, hostileConfig(url))
	for _, loc := range []string{"b/k", "subject:app.mode"} {
		r := d.Read(ctx(t), target(loc, nil))
		require.True(t, isErr(sources.ErrUnreachable)(r), "%s: %.200v", loc, r.Err)
		require.Less(t, len(r.Err.Error()), 2<<10, "%s: the error text is clipped", loc)
	}
}
