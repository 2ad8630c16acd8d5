package sse_test

import (
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sse"
)

// hub is a real event stream server on 127.0.0.1: each path holds a
// document, sent whole as one event (with an id) when a client connects
// and again on every change, as docs/push.md asks of a server. The
// documents and connections are bindtest.PushServer's.
type hub struct {
	*bindtest.PushServer
	mu       sync.Mutex
	lastIDs  []string    // Last-Event-ID of each request, "" without one
	times    []time.Time // when each stream request came
	requests atomic.Int64
	frames   atomic.Int64 // events written
	retry    string       // a retry: field sent first on each stream, or ""
}

func newHub(t testing.TB) *hub {
	t.Helper()
	h := &hub{}
	h.PushServer = bindtest.NewPushServer(t, h, "http", encode)
	return h
}

// restart ends every stream, stops the server, keeps it down for down
// (running whileDown), and starts it again on the same address with the
// same documents.
func (h *hub) restart(t testing.TB, down time.Duration, whileDown ...func()) {
	t.Helper()
	h.Restart(t, bindtest.CloseGoingAway, down, whileDown...)
}

// set stores doc at path and sends it to every open stream of path.
func (h *hub) set(path, doc string) { h.Set(path, []byte(doc)) }

// setRetry sets the retry: field sent on each new stream.
func (h *hub) setRetry(ms string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.retry = ms
}

// send writes a raw frame to every open stream of path.
func (h *hub) send(path, frame string) { h.Send(path, []byte(frame)) }

// streams returns when each stream request came.
func (h *hub) streams() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.times...)
}

func (h *hub) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lastIDs...)
}

// encode writes the id-th document as one event: an id, then one data:
// line per line.
func encode(id int, doc []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %d\n", id)
	for line := range strings.SplitSeq(string(doc), "\n") {
		b.WriteString("data: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

func (h *hub) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	h.requests.Add(1)
	path := r.URL.Path
	switch {
	case h.Stall(r):
		return
	case strings.HasPrefix(path, "/plain"):
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"a":1}`)
		return
	case strings.HasPrefix(path, "/cut"): // an event cut off by a dropped connection
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"half\":")
		w.(nethttp.Flusher).Flush()
		panic(nethttp.ErrAbortHandler)
	}
	h.mu.Lock()
	h.lastIDs = append(h.lastIDs, r.Header.Get("Last-Event-ID"))
	h.times = append(h.times, time.Now())
	retry := h.retry
	h.mu.Unlock()
	if code := h.Status(path); code != 0 {
		w.WriteHeader(code)
		return
	}
	c, ok := h.Join(path)
	if !ok {
		nethttp.NotFound(w, r)
		return
	}
	defer h.Leave(c)
	w.Header().Set("Content-Type", "text/event-stream")
	if retry != "" {
		_, _ = io.WriteString(w, "retry: "+retry+"\n\n")
	}
	fl := w.(nethttp.Flusher)
	fl.Flush()
	for {
		select {
		case f := <-c.Out:
			if _, err := w.Write(f); err != nil {
				return
			}
			h.frames.Add(1)
			for i := 0; i < 256 && len(c.Out) > 0; i++ { // write what is queued, then flush once
				f = <-c.Out
				if _, err := w.Write(f); err != nil {
					return
				}
				h.frames.Add(1)
			}
			fl.Flush()
		case <-c.Done():
			return
		case <-r.Context().Done():
			return
		}
	}
}

// fastConfig reconnects within tens of milliseconds, for tests.
func fastConfig() sse.Config {
	return sse.Config{Retry: 20 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
}

// target returns an sse target of location with options.
func target(location string, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "sse", Location: location, Params: params}
}

// silentStream is a server that answers every request with an event
// stream, sends first (nothing when empty), counts the request in conns
// (when not nil), then holds the connection without a byte more until the
// client leaves.
func silentStream(t *testing.T, first string, conns *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if conns != nil {
			conns.Add(1)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, first)
		w.(nethttp.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv
}
