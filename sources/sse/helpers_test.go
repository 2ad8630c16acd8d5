package sse_test

import (
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sse"
)

// hub is a real event stream server on 127.0.0.1: each path holds a
// document, sent whole as one event when a client connects and again on
// every change, as docs/push.md asks of a server.
type hub struct {
	srv      *fixture.Server
	mu       sync.Mutex
	topics   map[string]*topic
	status   map[string]int // a status answered instead of the stream
	lastIDs  []string       // Last-Event-ID of each request, "" without one
	times    []time.Time    // when each stream request came
	requests atomic.Int64
	frames   atomic.Int64 // events written
	retry    string       // a retry: field sent first on each stream, or ""
}

type topic struct {
	frame []byte // the current document as an event, or nil while removed
	id    int
	subs  map[*client]struct{}
}

// client is one open stream; frames go through a buffer deep enough for a
// 10,000-event burst.
type client struct {
	frames chan []byte
	done   chan struct{}
	once   sync.Once
}

func (c *client) end() { c.once.Do(func() { close(c.done) }) }

func newHub(t testing.TB) *hub {
	t.Helper()
	h := &hub{topics: map[string]*topic{}, status: map[string]int{}}
	h.srv = fixture.NewServer(t, h)
	t.Cleanup(func() {
		h.mu.Lock()
		h.endAll()
		h.mu.Unlock()
		h.srv.Close()
	})
	return h
}

// endAll ends every open stream; h.mu held.
func (h *hub) endAll() {
	for _, tp := range h.topics {
		for c := range tp.subs {
			c.end()
		}
		clear(tp.subs)
	}
}

// restart ends every stream, stops the server, keeps it down for down
// (running whileDown), and starts it again on the same address with the
// same documents.
func (h *hub) restart(t testing.TB, down time.Duration, whileDown ...func()) {
	t.Helper()
	h.mu.Lock()
	h.endAll()
	h.mu.Unlock()
	h.srv.Restart(t, down, whileDown...)
}

func (h *hub) url(path string) string { return "http://" + h.srv.Addr() + path }

func (h *hub) topic(path string) *topic { // h.mu held
	tp := h.topics[path]
	if tp == nil {
		tp = &topic{subs: map[*client]struct{}{}}
		h.topics[path] = tp
	}
	return tp
}

// set stores doc at path and sends it to every open stream of path.
func (h *hub) set(path, doc string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tp := h.topic(path)
	tp.id++
	tp.frame = encode(tp.id, doc)
	for c := range tp.subs {
		select {
		case c.frames <- tp.frame:
		default: // a client this far behind is dropped
			c.end()
			delete(tp.subs, c)
		}
	}
}

// remove deletes path's document: its streams end cleanly and later
// connects are answered 404.
func (h *hub) remove(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tp := h.topic(path)
	tp.frame = nil
	for c := range tp.subs {
		c.end()
	}
	clear(tp.subs)
}

// setRetry sets the retry: field sent on each new stream.
func (h *hub) setRetry(ms string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.retry = ms
}

// drop ends path's streams cleanly, keeping its document.
func (h *hub) drop(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tp := h.topic(path)
	for c := range tp.subs {
		c.end()
	}
	clear(tp.subs)
}

// send writes a raw frame to every open stream of path.
func (h *hub) send(path, frame string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.topic(path).subs {
		c.frames <- []byte(frame)
	}
}

// streams returns when each stream request came.
func (h *hub) streams() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.times...)
}

// answer makes path answer status instead of a stream (0: a stream again).
func (h *hub) answer(path string, status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if status == 0 {
		delete(h.status, path)
		return
	}
	h.status[path] = status
	tp := h.topic(path)
	for c := range tp.subs {
		c.end()
	}
	clear(tp.subs)
}

func (h *hub) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lastIDs...)
}

// encode writes doc as one event: an id, then one data: line per line.
func encode(id int, doc string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %d\n", id)
	for line := range strings.SplitSeq(doc, "\n") {
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
	case strings.HasPrefix(path, "/stall"):
		select {
		case <-h.srv.Released():
		case <-r.Context().Done():
		}
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
	if code := h.status[path]; code != 0 {
		h.mu.Unlock()
		w.WriteHeader(code)
		return
	}
	tp := h.topic(path)
	if tp.frame == nil {
		h.mu.Unlock()
		nethttp.NotFound(w, r)
		return
	}
	c := &client{frames: make(chan []byte, 20000), done: make(chan struct{})}
	c.frames <- tp.frame
	tp.subs[c] = struct{}{}
	retry := h.retry
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(tp.subs, c)
		h.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	if retry != "" {
		_, _ = io.WriteString(w, "retry: "+retry+"\n\n")
	}
	fl := w.(nethttp.Flusher)
	fl.Flush()
	for {
		select {
		case f := <-c.frames:
			if _, err := w.Write(f); err != nil {
				return
			}
			h.frames.Add(1)
			for i := 0; i < 256 && len(c.frames) > 0; i++ { // write what is queued, then flush once
				f = <-c.frames
				if _, err := w.Write(f); err != nil {
					return
				}
				h.frames.Add(1)
			}
			fl.Flush()
		case <-c.done:
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
