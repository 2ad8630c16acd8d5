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

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hub is a real WebSocket server on 127.0.0.1 built with coder/websocket's
// Accept: each path holds a document, sent whole as one message when a
// client connects and again on every change, as docs/push.md asks of a
// server. It counts what crosses the wire on its side.
type hub struct {
	srv    *fixture.Server
	mu     sync.Mutex
	topics map[string]*topic
	status map[string]int // a status answered instead of the upgrade
	auth   string         // when set, the Authorization header required

	handshakes atomic.Int64 // upgrade requests
	frames     atomic.Int64 // data messages sent
	pings      atomic.Int64 // pings received
	noPong     atomic.Bool  // when set, pings go unanswered
	cut        atomic.Bool  // when set, each connection is cut off in a message after the first
}

type topic struct {
	doc  []byte // nil while removed
	subs map[*peer]struct{}
}

// peer is one accepted connection with its queue of messages.
type peer struct {
	conn *websocket.Conn
	out  chan []byte
	done chan struct{}
	code websocket.StatusCode // the close code to send when done
	once sync.Once
}

func (p *peer) end(code websocket.StatusCode) {
	p.once.Do(func() {
		p.code = code
		close(p.done)
	})
}

func newHub(t testing.TB) *hub {
	t.Helper()
	h := &hub{topics: map[string]*topic{}, status: map[string]int{}}
	h.srv = fixture.NewServer(t, h)
	t.Cleanup(func() {
		h.mu.Lock()
		h.endAll(websocket.StatusGoingAway)
		h.mu.Unlock()
		h.srv.Close()
	})
	return h
}

func (h *hub) endAll(code websocket.StatusCode) { // h.mu held
	for _, tp := range h.topics {
		for p := range tp.subs {
			p.end(code)
		}
		clear(tp.subs)
	}
}

// restart drops every connection (with code, or abruptly when code is
// 0), keeps the server down for down (running whileDown), and starts it
// again on the same address with the same documents.
func (h *hub) restart(t testing.TB, code websocket.StatusCode, down time.Duration, whileDown ...func()) {
	t.Helper()
	h.mu.Lock()
	h.endAll(code)
	h.mu.Unlock()
	h.srv.Restart(t, down, whileDown...)
}

func (h *hub) url(path string) string { return "ws://" + h.srv.Addr() + path }

func (h *hub) topic(path string) *topic { // h.mu held
	tp := h.topics[path]
	if tp == nil {
		tp = &topic{subs: map[*peer]struct{}{}}
		h.topics[path] = tp
	}
	return tp
}

// set stores doc at path and sends it to every connection of path.
func (h *hub) set(path string, doc []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tp := h.topic(path)
	tp.doc = doc
	for p := range tp.subs {
		select {
		case p.out <- doc:
		default: // a client this far behind is dropped
			p.end(websocket.StatusPolicyViolation)
			delete(tp.subs, p)
		}
	}
}

// remove deletes path's document: its connections are closed normally and
// later handshakes are answered 404.
func (h *hub) remove(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tp := h.topic(path)
	tp.doc = nil
	for p := range tp.subs {
		p.end(websocket.StatusNormalClosure)
	}
	clear(tp.subs)
}

func (h *hub) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	h.handshakes.Add(1)
	path := r.URL.Path
	if strings.HasPrefix(path, "/stall") { // never answers the upgrade
		select {
		case <-h.srv.Released():
		case <-r.Context().Done():
		}
		return
	}
	h.mu.Lock()
	code := h.status[path]
	if code == 0 && h.auth != "" && r.Header.Get("Authorization") != h.auth {
		code = nethttp.StatusUnauthorized
	}
	tp := h.topic(path)
	if code == 0 && tp.doc == nil {
		code = nethttp.StatusNotFound
	}
	h.mu.Unlock()
	if code != 0 {
		nethttp.Error(w, nethttp.StatusText(code), code)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OnPingReceived: func(context.Context, []byte) bool {
		h.pings.Add(1)
		return !h.noPong.Load()
	}})
	if err != nil {
		return
	}
	p := &peer{conn: conn, out: make(chan []byte, 20000), done: make(chan struct{})}
	h.mu.Lock()
	if tp.doc == nil {
		h.mu.Unlock()
		_ = conn.Close(websocket.StatusNormalClosure, "")
		return
	}
	doc := tp.doc
	if h.cut.Load() {
		h.mu.Unlock()
		cutOff(conn, doc)
		return
	}
	p.out <- doc
	tp.subs[p] = struct{}{}
	h.mu.Unlock()
	h.serve(p)
}

// serve writes p's queue until it ends, then closes with its code (0:
// drops the connection without a closing handshake).
func (h *hub) serve(p *peer) {
	ctx := p.conn.CloseRead(context.Background()) // answers pings, notices the client leaving
	defer func() {
		h.mu.Lock()
		for _, tp := range h.topics {
			delete(tp.subs, p)
		}
		h.mu.Unlock()
	}()
	for {
		select {
		case m := <-p.out:
			if err := p.conn.Write(ctx, websocket.MessageText, m); err != nil {
				_ = p.conn.CloseNow()
				return
			}
			h.frames.Add(1)
		case <-p.done:
			if p.code == 0 {
				_ = p.conn.CloseNow()
				return
			}
			_ = p.conn.Close(p.code, "")
			return
		case <-ctx.Done():
			_ = p.conn.CloseNow()
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
