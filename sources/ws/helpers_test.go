package ws_test

import (
	"context"
	nethttp "net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hub is a real WebSocket server on 127.0.0.1 built with coder/websocket's
// Accept: each path holds a document, sent whole as one message when a
// client connects and again on every change, as docs/push.md asks of a
// server. The documents and connections are bindtest.PushServer's; the
// hub counts what crosses the wire on its side.
type hub struct {
	*bindtest.PushServer
	mu   sync.Mutex
	auth string // when set, the Authorization header required

	handshakes atomic.Int64 // upgrade requests
	frames     atomic.Int64 // data messages sent
	pings      atomic.Int64 // pings received
	noPong     atomic.Bool  // when set, pings go unanswered
	cut        atomic.Bool  // when set, each connection is cut off in a message after the first
}

func newHub(t testing.TB) *hub {
	t.Helper()
	h := &hub{}
	h.PushServer = bindtest.NewPushServer(t, h, "ws", nil)
	return h
}

// restart drops every connection (with code, or abruptly when code is
// 0), keeps the server down for down (running whileDown), and starts it
// again on the same address with the same documents.
func (h *hub) restart(t testing.TB, code websocket.StatusCode, down time.Duration, whileDown ...func()) {
	t.Helper()
	h.Restart(t, int(code), down, whileDown...)
}

func (h *hub) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	h.handshakes.Add(1)
	if h.Stall(r) { // never answers the upgrade
		return
	}
	path := r.URL.Path
	code := h.Status(path)
	h.mu.Lock()
	if code == 0 && h.auth != "" && r.Header.Get("Authorization") != h.auth {
		code = nethttp.StatusUnauthorized
	}
	h.mu.Unlock()
	if code != 0 {
		nethttp.Error(w, nethttp.StatusText(code), code)
		return
	}
	// The connection joins before the upgrade, so a document removed since
	// the status check is a 404 as well: a clean close before the first
	// message would be a failed attempt (ws.ErrEnded), not Missing.
	cut := h.cut.Load()
	var doc []byte
	var p *bindtest.PushConn
	if cut {
		doc = h.Current(path)
	} else if c, ok := h.Join(path); ok {
		p = c
	}
	if doc == nil && p == nil {
		nethttp.NotFound(w, r)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OnPingReceived: func(context.Context, []byte) bool {
		h.pings.Add(1)
		return !h.noPong.Load()
	}})
	if err != nil {
		if p != nil {
			h.Leave(p)
		}
		return
	}
	if cut {
		cutOff(conn, doc)
		return
	}
	h.serve(conn, p)
}

// serve writes p's queue on conn until it ends, then closes with its code
// (0: drops the connection without a closing handshake).
func (h *hub) serve(conn *websocket.Conn, p *bindtest.PushConn) {
	ctx := conn.CloseRead(context.Background()) // answers pings, notices the client leaving
	defer h.Leave(p)
	for {
		select {
		case m := <-p.Out:
			if err := conn.Write(ctx, websocket.MessageText, m); err != nil {
				_ = conn.CloseNow()
				return
			}
			h.frames.Add(1)
		case <-p.Done():
			if p.Code() == 0 {
				_ = conn.CloseNow()
				return
			}
			_ = conn.Close(websocket.StatusCode(p.Code()), "")
			return
		case <-ctx.Done():
			_ = conn.CloseNow()
			return
		}
	}
}

// fastConfig reconnects within tens of milliseconds, for tests.
func fastConfig() ws.Config {
	return ws.Config{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
}

// target returns a ws target of location with options.
func target(location string, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "ws", Location: location, Params: params}
}

// cutOff sends doc, then 8 KiB of a message that never ends, and drops
// the connection.
func cutOff(conn *websocket.Conn, doc []byte) {
	defer func() { _ = conn.CloseNow() }()
	ctx := context.Background()
	if conn.Write(ctx, websocket.MessageText, doc) != nil {
		return
	}
	w, err := conn.Writer(ctx, websocket.MessageText)
	if err != nil {
		return
	}
	_, _ = w.Write([]byte(`{"half":"` + strings.Repeat("h", 8<<10)))
}
