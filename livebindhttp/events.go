package livebindhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/livebind/livebind"
)

// writeTimeout bounds one write to an event stream, of at most writeChunk
// bytes: a client that stops reading for longer loses its stream (and
// reconnects on its own).
const writeTimeout = 10 * time.Second

// writeChunk is how many bytes of a stream one write deadline covers. A
// client keeps its stream while it takes writeChunk bytes per writeTimeout
// (6.4 KiB/s), however many events wait in its queue; one deadline for all
// the events a handler takes at once would ask a client with a full 4 MiB
// queue for 410 KiB/s.
const writeChunk = 64 << 10

// reconnectMillis is the reconnection delay the stream asks browsers for.
const reconnectMillis = 2000

// DefaultMaxStreams is how many /events streams a handler serves at once
// unless [WithMaxStreams] says otherwise; one more is answered with 503
// Service Unavailable and a Retry-After header.
const DefaultMaxStreams = 100

// DefaultStreamQueueBytes is how many bytes of encoded events may wait for
// one /events client unless [WithStreamQueueBytes] says otherwise. A client
// that falls further behind is disconnected with a reason (the bye event);
// the page then reconnects and reads the state again. One event larger than
// the bound is still sent to a client that has nothing else waiting.
const DefaultStreamQueueBytes = 4 << 20

// WithMaxStreams sets the maximum number of concurrent /events streams
// (default [DefaultMaxStreams]).
func WithMaxStreams(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxStreams = n
		}
	})
}

// WithStreamQueueBytes sets how many bytes of encoded events may wait for
// one /events client before it is disconnected (default
// [DefaultStreamQueueBytes]).
func WithStreamQueueBytes(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.queueBytes = n
		}
	})
}

// frame is one encoded event, shared read-only by every client.
type frame struct {
	gen  uint64
	data []byte
}

// hub fans the binding's updates out to the stream clients: one
// subscription while any client is connected, each update encoded once.
type hub struct {
	gen       func() uint64 // the binding's current generation
	subscribe func(deliver func(livebind.Update), done func()) (stop func())
	max       int
	limit     int

	mu      sync.Mutex
	clients map[*client]struct{}
	epoch   uint64        // numbers subscriptions, so a stopped one's end is ignored
	stop    func()        // ends the current subscription; nil when none
	closed  bool          // the binding is closed
	closing *frame        // the closed event, once closed
	ended   chan struct{} // closed when the current subscription's goroutine ends
}

// client is one stream's queue. Bytes counts what is queued and what its
// handler has taken but not yet written.
type client struct {
	mu     sync.Mutex
	frames []*frame
	bytes  int
	bye    string // why the client is disconnected; set once
	closed bool   // the binding closed
	wake   chan struct{}
}

func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// errTooManyStreams is join's answer past the maximum.
var errTooManyStreams = errors.New("too many event streams")

// join registers a client, starting the shared subscription if it is the
// first one.
func (h *hub) join() (*client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients) >= h.max {
		return nil, errTooManyStreams
	}
	c := &client{wake: make(chan struct{}, 1)}
	h.clients[c] = struct{}{}
	if h.closed {
		c.closed = true
		c.signal()
		return c, nil
	}
	if h.stop == nil {
		h.epoch++
		epoch := h.epoch
		h.ended = make(chan struct{})
		ended := h.ended
		h.stop = h.subscribe(func(u livebind.Update) { h.broadcast(epoch, u) },
			func() { h.subscriptionEnded(epoch); close(ended) })
	}
	return c, nil
}

// leave unregisters a client; the last one out ends the subscription and
// waits for its goroutine.
func (h *hub) leave(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	var stop func()
	var ended chan struct{}
	if len(h.clients) == 0 && h.stop != nil {
		stop, ended = h.stop, h.ended
		h.stop = nil
		h.epoch++ // what the old subscription still delivers goes nowhere
	}
	h.mu.Unlock()
	if stop != nil {
		stop()
		<-ended
	}
}

// subscriptionEnded runs when a subscription's goroutine ends: by leave
// (a stale epoch: nothing to do) or because the binding closed.
func (h *hub) subscriptionEnded(epoch uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if epoch != h.epoch {
		return
	}
	h.closed, h.stop = true, nil
	h.closing = &frame{data: encodeEvent("closed", genJSON{Generation: h.gen()})}
	for c := range h.clients {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.signal()
	}
}

// broadcast encodes u once and queues it for every client. A client whose
// queue would exceed the limit is disconnected instead.
func (h *hub) broadcast(epoch uint64, u livebind.Update) {
	f := &frame{gen: u.Gen, data: updateFrame(u)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if epoch != h.epoch {
		return
	}
	for c := range h.clients {
		c.mu.Lock()
		switch {
		case c.bye != "" || c.closed:
		case c.bytes > 0 && c.bytes+len(f.data) > h.limit:
			c.bye = fmt.Sprintf("fell behind: %d bytes of events waiting, limit %d; reconnect and read the state again", c.bytes+len(f.data), h.limit)
			for _, q := range c.frames {
				c.bytes -= len(q.data)
			}
			c.frames = nil
		default:
			c.frames = append(c.frames, f)
			c.bytes += len(f.data)
		}
		c.mu.Unlock()
		c.signal()
	}
}

// take returns the queued frames and the client's state.
func (c *client) take() (frames []*frame, bye string, closed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	frames, c.frames = c.frames, nil
	return frames, c.bye, c.closed
}

// written releases the bytes of frames the handler has written.
func (c *client) written(n int) {
	c.mu.Lock()
	c.bytes -= n
	c.mu.Unlock()
}

// events streams updates as server-sent events:
//
//	retry: 2000
//
//	event: hello
//	data: {"generation":7}
//
//	event: update
//	data: {"kind":"updated","field":"Port",...}
//
//	: heartbeat
//
//	event: bye
//	data: {"reason":"fell behind: ..."}
//
//	event: closed
//	data: {"generation":9}
//
// hello comes first, once the client is registered, so a client that
// rendered an older generation knows to fetch config.json again; updates of
// that generation or older are not sent. An update with an empty field is a
// drop notice (updates were merged or dropped): the client should fetch
// config.json. bye means the server disconnects the client (it fell behind
// by more than the queue bound); the client should reconnect and read the
// state again. closed means the Binding was closed; the stream then ends.
// Past the maximum number of streams the answer is 503.
func (h *handler[T]) events(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return
	}
	ends, flush := unwrapChain(w)
	if !ends {
		http.Error(w, errUnwrapLoop, http.StatusInternalServerError)
		return
	}
	if !flush {
		// Without Flush nothing reaches the client until the handler
		// returns: the stream would be a hello and an end, and browsers
		// would reconnect every few seconds.
		http.Error(w, errNoFlush, http.StatusInternalServerError)
		return
	}
	c, err := h.hub.join()
	if err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(reconnectMillis/1000*2))
		http.Error(w, fmt.Sprintf("%v (at most %d); retry later", err, h.hub.max), http.StatusServiceUnavailable)
		return
	}
	defer h.hub.leave(c)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	out := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: h.cfg.writeTimeout, chunk: writeChunk}
	hello := h.hub.gen()
	var head bytes.Buffer
	fmt.Fprintf(&head, "retry: %d\n\n", reconnectMillis)
	head.Write(encodeEvent("hello", genJSON{Generation: hello}))
	if !out.write(head.Bytes()) || !out.flush() {
		return
	}

	beat := time.NewTicker(h.cfg.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			if !out.write([]byte(": heartbeat\n\n")) || !out.flush() {
				return
			}
			continue
		case <-c.wake:
		}
		frames, bye, closed := c.take()
		for i, f := range frames {
			if f.gen > hello || f.gen == 0 {
				if !out.write(f.data) {
					return
				}
			}
			frames[i] = nil
			c.written(len(f.data))
		}
		switch {
		case bye != "":
			if out.write(encodeEvent("bye", byeJSON{Reason: bye})) {
				out.flush()
			}
			return
		case closed:
			h.hub.mu.Lock()
			f := h.hub.closing
			h.hub.mu.Unlock()
			if f == nil {
				f = &frame{data: encodeEvent("closed", genJSON{Generation: h.hub.gen()})}
			}
			if out.write(f.data) {
				out.flush()
			}
			return
		}
		if !out.flush() {
			return
		}
	}
}

// errNoFlush is the answer to /events behind a ResponseWriter that cannot
// flush.
const errNoFlush = "livebindhttp: /events needs a ResponseWriter that can flush " +
	"(a middleware wraps it without Flush; give the wrapper an Unwrap method)"

// errUnwrapLoop is the answer to /events behind a ResponseWriter whose
// Unwrap chain does not end.
const errUnwrapLoop = "livebindhttp: /events needs a ResponseWriter whose Unwrap chain ends " +
	"(a middleware's Unwrap returns its own wrapper, or another without end)"

// maxUnwrap bounds how far the handler follows a ResponseWriter's Unwrap
// chain.
const maxUnwrap = 100

// unwrapChain walks w's Unwrap chain, the chain http.ResponseController
// follows, at most maxUnwrap writers deep. ends reports that the chain
// ends within that bound: http.ResponseController follows it without one
// until a writer has the method it calls, so on a wrapper whose Unwrap
// returns itself SetWriteDeadline (and Flush, without a flusher) spins for
// good, and the handler uses a ResponseController only where ends holds.
// flush reports that w, or a writer it unwraps to, can flush.
func unwrapChain(w http.ResponseWriter) (ends, flush bool) {
	for range maxUnwrap {
		switch w.(type) {
		case http.Flusher, interface{ FlushError() error }:
			flush = true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return true, flush
		}
		w = u.Unwrap()
	}
	return false, flush
}

// streamWriter writes an event stream under a write deadline per chunk:
// every chunk bytes written, and every flush, start a new deadline of
// timeout, so the deadline bounds how long one bounded write may block and
// a client that reads slowly but steadily keeps its stream. A flush that
// succeeds clears the deadline: the stream may then wait for longer than
// timeout, and over HTTP/2 a deadline is a timer that resets the stream
// when it fires, whether or not a write is under way. Deadlines are best
// effort: a ResponseWriter that does not support them just blocks like any
// other write.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	chunk   int
	left    int // bytes the current deadline still covers
}

// renew starts a new deadline, for the next chunk bytes.
func (s *streamWriter) renew() bool {
	s.left = s.chunk
	return s.deadline(time.Now().Add(s.timeout))
}

// deadline sets the write deadline (none for the zero time).
func (s *streamWriter) deadline(t time.Time) bool {
	err := s.rc.SetWriteDeadline(t)
	return err == nil || errors.Is(err, http.ErrNotSupported)
}

// write writes p, at most chunk bytes under one deadline. The first write
// after a flush starts a new deadline: the stream may have been idle since.
func (s *streamWriter) write(p []byte) bool {
	for len(p) > 0 {
		if s.left == 0 && !s.renew() {
			return false
		}
		n := min(len(p), s.left)
		if _, err := s.w.Write(p[:n]); err != nil {
			return false
		}
		s.left -= n
		p = p[n:]
	}
	return true
}

// flush sends what the ResponseWriter holds (at most its buffer, a few KiB)
// under a new deadline, then clears the deadline until the next write.
func (s *streamWriter) flush() bool {
	ok := s.renew() && s.rc.Flush() == nil && s.deadline(time.Time{})
	s.left = 0
	return ok
}

type genJSON struct {
	Generation uint64 `json:"generation"`
}

type byeJSON struct {
	Reason string `json:"reason"`
}

// encodeEvent encodes one event. Compact JSON holds no raw newline, so the
// data is one line.
func encodeEvent(name string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		data = mustString("cannot encode event: " + err.Error())
	}
	out := make([]byte, 0, len(name)+len(data)+16)
	out = append(out, "event: "...)
	out = append(out, name...)
	out = append(out, "\ndata: "...)
	out = append(out, data...)
	return append(out, "\n\n"...)
}
