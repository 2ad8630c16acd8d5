package ws_test

import (
	"bytes"
	"context"
	nethttp "net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/ws"
)

// kit opens ws drivers, follows their watches and checks that a failure
// is a *ws.Error naming the location.
var kit = bindtest.StreamKit[ws.Config, *ws.Error]{
	Scheme: "ws", Settle: 5 * time.Second, Prefix: "ws ws://127.0.0.1",
	Fast: fastConfig(), Status: func(e *ws.Error) int { return e.Status },
}

var (
	isData = fixture.IsData
	isErr  = fixture.IsErr
)

// A server restart: an abrupt drop is an Error wrapping ErrDisconnected
// at once, failed reconnects are Errors, and once the server is back its
// first message (the full document) is reported.
func TestServerRestartAbrupt(t *testing.T) {
	h := newHub(t)
	log := kit.Start(t, h.PushServer, "/cfg", `{"a":1}`, nil)
	h.restart(t, 0, 300*time.Millisecond)
	_, r, _ := log.Wait(t, 1, "the drop", fixture.Failed)
	kit.Fails(t, r.Err, sources.ErrDisconnected, 0)
	log.Until(t, "the document after the restart", isData(`{"a":1}`))
	h.Set("/cfg", []byte(`{"a":2}`))
	log.Until(t, "a change after the restart", isData(`{"a":2}`))
}

// A server going away in an orderly way (close 1001) is no error by
// itself: only the failed reconnects while it is down are, and the first
// message after it is back is reported.
func TestServerRestartGoingAway(t *testing.T) {
	h := newHub(t)
	log := kit.Start(t, h.PushServer, "/cfg", `{"a":1}`, nil)
	h.restart(t, websocket.StatusGoingAway, 300*time.Millisecond)
	_, r, _ := log.Wait(t, 1, "a failed reconnect", fixture.Failed)
	require.NotErrorIs(t, r.Err, sources.ErrDisconnected, "an orderly close is not a broken connection")
	kit.Fails(t, r.Err, nil, 0)
	h.Set("/cfg", []byte(`{"a":3}`))
	log.Until(t, "the document after the restart", isData(`{"a":3}`))
}

// A connection dropped in the middle of a message: the half message is
// never reported, the drop is an Error wrapping ErrDisconnected, and the
// watch reconnects (this server cuts every connection the same way, so
// the full first message comes again each time).
func TestDropMidMessage(t *testing.T) {
	h := newHub(t)
	h.cut.Store(true)
	log := kit.Start(t, h.PushServer, "/cut", `{"a":1}`, nil)
	_, r, _ := log.Wait(t, 1, "the drop", fixture.Failed)
	require.ErrorIs(t, r.Err, sources.ErrDisconnected)
	log.Wait(t, 2, "the document again after reconnecting", isData(`{"a":1}`))
	for _, r := range log.All() {
		require.True(t, r.Err != nil || string(r.Data) == `{"a":1}`, "only whole messages are data: got %d bytes", len(r.Data))
	}
}

// A message over maxbytes= is an Error wrapping ErrTooLarge, read no
// further than the limit; the connection is reopened (on the slow backoff)
// and a good document recovers.
func TestMessageOverLimit(t *testing.T) {
	h := newHub(t)
	log := kit.Start(t, h.PushServer, "/big", `{"a":1}`, map[string]string{"maxbytes": "1024"})
	h.Set("/big", bytes.Repeat([]byte("x"), 4096))
	_, r, _ := log.Wait(t, 1, "the oversized message", isErr(sources.ErrTooLarge))
	kit.Fails(t, r.Err, nil, 0)
	h.Set("/big", []byte(`{"a":2}`))
	log.Until(t, "recovery", isData(`{"a":2}`))
}

// A refused handshake (401) is an Error wrapping ErrAuth with the status,
// retried on the slow backoff (not hot), and recovers once the server
// accepts the client.
func TestAuthFailure(t *testing.T) {
	h := newHub(t)
	h.Set("/cfg", []byte(`{"a":1}`))
	h.auth = "Bearer right"
	cfg := ws.Config{MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second, Header: map[string][]string{"Authorization": {"Bearer wrong-secret-token"}}}
	log := kit.Follow(t, kit.Open(t, cfg), target(h.URL("/cfg"), nil))
	kit.Refused(t, log, sources.ErrAuth, 401, "wrong-secret-token", &h.handshakes)
	h.mu.Lock()
	h.auth = ""
	h.mu.Unlock()
	log.Until(t, "recovery once accepted", isData(`{"a":1}`))
}

// A missed pong drops the connection (ErrNoPong, an ErrDisconnected) and
// the watch reconnects.
func TestKeepaliveMissedPong(t *testing.T) {
	h := newHub(t)
	h.noPong.Store(true)
	log := kit.Start(t, h.PushServer, "/cfg", `{"a":1}`, map[string]string{"ping": "50ms", "timeout": "100ms"})
	_, r, _ := log.Wait(t, 1, "the missed pong", isErr(ws.ErrNoPong))
	require.ErrorIs(t, r.Err, sources.ErrDisconnected)
	h.noPong.Store(false)
	log.Until(t, "recovery", isData(`{"a":1}`))
	require.Positive(t, h.pings.Load())
}

type flags struct {
	A int `live:"ws=${WS}; key=a; format=json"`
}

// A malformed message is an Error update (ErrDecode) naming the field and
// source; the last good value stays and the next good message applies.
func TestMalformedMessage(t *testing.T) {
	h := newHub(t)
	bindtest.PushMalformed(t, "ws", h.PushServer, fastConfig(), func(f *flags) int { return f.A })
}

// An unreachable server at Bind fails Bind, as http= does, with the typed
// error; a server that never answers the upgrade fails it once timeout=
// ends, never hanging.
func TestBindFailures(t *testing.T) {
	type slow struct {
		A int `live:"ws=${WS}; key=a; timeout=300ms"`
	}
	err := bindtest.PushBindFailures[flags, slow](t, kit, newHub(t).PushServer, "ws://127.0.0.1:1/cfg?token=bind-secret")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// A slow consumer facing a 10,000-message burst: with throttle= the burst
// coalesces into a few generations, the last message wins, and the heap
// stays bounded (each message is a whole state: only the latest matters).
func TestBurstWithThrottle(t *testing.T) {
	h := newHub(t)
	bindtest.PushBurst(t, "ws", h.PushServer, fastConfig(), func(c *burstConfig) int { return c.A })
}

// Close is prompt in every state: while the handshake hangs, while
// reading, and while backing off after a failure.
func TestClosePrompt(t *testing.T) {
	slow := ws.Config{MinBackoff: time.Minute, MaxBackoff: time.Hour}
	kit.ClosesInEveryState(t, newHub(t).PushServer, slow, "ws://127.0.0.1:1/x")
}

// closingServer is a real WebSocket server on 127.0.0.1 that accepts every
// connection, sends first (when not nil) and closes it in an orderly way
// (1000, normal closure). It counts the handshakes.
func closingServer(t *testing.T, first []byte) (url string, handshakes *atomic.Int64) {
	t.Helper()
	handshakes = new(atomic.Int64)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		handshakes.Add(1)
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if first != nil && conn.Write(ctx, websocket.MessageText, first) != nil {
			_ = conn.CloseNow()
			return
		}
		_ = conn.Close(websocket.StatusNormalClosure, "")
	}))
	t.Cleanup(srv.Close)
	return "ws" + srv.URL[len("http"):] + "/cfg", handshakes
}

// attemptsIn counts the handshakes of the next d.
func attemptsIn(handshakes *atomic.Int64, d time.Duration) int64 {
	before := handshakes.Load()
	time.Sleep(d)
	return handshakes.Load() - before
}

// A server that accepts every connection and closes it in an orderly way
// before its first message never gives the document: each connect is a
// failed attempt, an Error (*ws.Error wrapping ws.ErrEnded, as a Read of
// it at Bind) on the fast backoff. Before the fix the watch reconnected
// for ever and never reported anything.
func TestCleanCloseBeforeFirstMessage(t *testing.T) {
	url, handshakes := closingServer(t, nil)
	log := kit.Follow(t, kit.Open(t, fastConfig()), target(url, nil))
	r := log.Until(t, "an Error for a connection closed before its first message", fixture.Failed)
	kit.Fails(t, r.Err, ws.ErrEnded, 0)
	require.NotErrorIs(t, r.Err, sources.ErrAuth)
	n := attemptsIn(handshakes, time.Second)
	t.Logf("connection attempts in a second: %d", n)
	require.Positive(t, n, "the watch keeps trying")
	require.LessOrEqual(t, n, int64(15), "backoff applies (fastConfig: from 20ms, capped at 200ms)")
	for _, r := range log.All() {
		require.Error(t, r.Err, "nothing but the error is reported")
	}
}

// A server that sends its document and then closes in an orderly way, on
// every connection, is followed as before: the document, then reconnects
// that report nothing (a clean end after a message is no failure).
func TestCleanCloseAfterFirstMessage(t *testing.T) {
	url, handshakes := closingServer(t, []byte(`{"a":1}`))
	log := kit.Follow(t, kit.Open(t, fastConfig()), target(url, nil))
	log.Until(t, "the document", isData(`{"a":1}`))
	n := attemptsIn(handshakes, 500*time.Millisecond)
	t.Logf("reconnects in half a second: %d", n)
	require.GreaterOrEqual(t, n, int64(2), "the server closed each connection: the watch reconnected")
	for _, r := range log.All() {
		require.NoError(t, r.Err)
	}
}

// A server that accepts the connection and then holds it, answering pings,
// without ever sending the document is a failed attempt once timeout= has
// passed since the connect: an Error wrapping sources.ErrUnreachable, and
// the connection is opened again. Before, the watch held it for ever and
// reported nothing, while a Read of it at Bind fails after timeout=.
func TestConnectionWithoutFirstMessage(t *testing.T) {
	var handshakes atomic.Int64
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		handshakes.Add(1)
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		<-conn.CloseRead(r.Context()).Done() // answers pings until the client leaves
		_ = conn.CloseNow()
	}))
	t.Cleanup(srv.Close)
	tg := target("ws"+srv.URL[len("http"):]+"/cfg", map[string]string{"ping": "50ms"})
	tg.Timeout = 200 * time.Millisecond
	log := kit.Follow(t, kit.Open(t, fastConfig()), tg)
	r := log.Until(t, "an Error for a connection without its first message", fixture.Failed)
	kit.Fails(t, r.Err, sources.ErrUnreachable, 0)
	require.ErrorContains(t, r.Err, "no message within timeout=200ms")
	require.Eventually(t, func() bool { return handshakes.Load() >= 2 }, kit.Settle, 10*time.Millisecond, "opened again")
}
