package livebindhttp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/livebindhttp"
)

// TestEventsMaxStreams: past WithMaxStreams the answer is 503 with a
// Retry-After, and a stream that ends frees its place.
func TestEventsMaxStreams(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, livebindhttp.WithMaxStreams(2))
	s1 := f.openEvents(t)
	s1.next(t, "hello", 5*time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp2, err := f.srv.Client().Do(req)
	if err != nil || resp2.StatusCode != http.StatusOK {
		t.Fatalf("second stream: %v %v", resp2, err)
	}
	resp, body := f.get(t, "events")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "too many event streams (at most 2)") {
		t.Fatalf("third stream: %s %q %q", resp.Status, resp.Header.Get("Retry-After"), body)
	}
	// Other endpoints are not limited.
	if resp, _ := f.get(t, "status.json"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status.json: %s", resp.Status)
	}
	cancel()
	resp2.Body.Close()
	f.awaitFreePlace(t, 5*time.Second)
}

// awaitFreePlace opens streams until one is let in rather than answered 503
// (a stream ended and freed its place), failing after within. The stream
// let in is closed again.
func (f *harness) awaitFreePlace(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.url+"events", nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		resp, err := f.srv.Client().Do(req.WithContext(ctx))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		code := resp.StatusCode
		resp.Body.Close()
		cancel()
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the freed place was never given out: %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readHello reads a raw stream up to its hello event, failing after 10 s,
// and returns the reader to go on with.
func readHello(t *testing.T, conn net.Conn) *bufio.Reader {
	t.Helper()
	br := bufio.NewReaderSize(conn, 64<<10)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "event: hello") {
			return br
		}
	}
}

// publishBig reloads n times with a new MODE of 128 KiB each: update
// frames of about 256 KiB (old and new value). Every Reload must return
// within 2 s, whether or not the stream clients read.
//
// With a reading stream paced, each update reaches it before the next
// Reload, so the hub has queued every update as a frame of its own for
// every client: the handler's subscription coalesces updates it falls
// behind on, which leaves fewer frames, few enough at times for the socket
// buffers to take them all.
func (f *harness) publishBig(t *testing.T, n int, paced *stream) {
	t.Helper()
	big := strings.Repeat("y", 128<<10)
	for i := range n {
		f.env.Set("MODE", fmt.Sprintf("%d-%s", i, big))
		t0 := time.Now()
		if err := f.reload(t); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("Reload %d took %v", i, d)
		}
		for want := gen(f.b); paced != nil; {
			var u livebindhttp.UpdateJSON
			decodeStrict(t, paced.next(t, "update", 10*time.Second).Data, &u)
			if u.Gen >= want {
				break
			}
		}
	}
}

// TestEventsSlowClientBye: a client that does not read while more than its
// queue bound of events is published is disconnected with a bye event that
// says why, after the events it could take; the binding never waits.
func TestEventsSlowClientBye(t *testing.T) {
	t.Parallel()
	// The server's write to this client blocks from about the first
	// updates until the client reads, after the last Reload. A write
	// timeout of a minute, not 10 s, keeps that wait short of it however
	// loaded the machine (a silent client losing its stream is
	// TestEventsSilentClientLosesStream's subject).
	f := newFixture(t, nil, livebindhttp.WithStreamQueueBytes(64<<10), livebindhttp.WithWriteTimeout(time.Minute))
	conn := f.slowEvents(t)
	br := readHello(t, conn)
	// Frames of about 256 KiB, 30 of them: far more than the kernel's
	// socket buffers can absorb (they autotune up to a few MiB), so the
	// unread stream must back up into the server's queue whatever the
	// buffers are. (With 64 KiB frames the buffers sometimes took
	// everything, no bye came, and the test timed out.)
	const updates = 30
	f.publishBig(t, updates, nil)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(br) // the server ends the stream after bye
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(rest), err)
	}
	text := string(rest)
	if n := strings.Count(text, "event: update"); n >= updates {
		t.Errorf("%d updates before bye, want fewer than all %d", n, updates)
	}
	if !strings.Contains(text, "event: bye\ndata: {\"reason\":\"fell behind: ") || !strings.Contains(text, "limit 65536") {
		t.Errorf("no bye with a reason at the end:\n%s", text[max(0, len(text)-300):])
	}
	// A new stream starts afresh.
	s := f.openEvents(t)
	s.next(t, "hello", 5*time.Second)
}

// TestEventsSilentClientLosesStream: a client that reads nothing for longer
// than the write timeout loses its stream. The server ends it, cut short
// and without a bye (the queue never overflowed), and frees its place; the
// client, reading at last, gets what the socket buffers held, then EOF.
//
// Regression test for a stall of slowEvents: with its read buffer shrunk
// after Dial, this final read stopped after a few hundred KiB with MiBs
// still unsent and timed out, every time (see rcvbuf_unix_test.go).
func TestEventsSilentClientLosesStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, livebindhttp.WithMaxStreams(2),
		livebindhttp.WithStreamQueueBytes(64<<20), livebindhttp.WithWriteTimeout(300*time.Millisecond))
	conn := f.slowEvents(t)
	br := readHello(t, conn)
	reader := f.openEvents(t)
	reader.next(t, "hello", 5*time.Second)
	// 32 frames of about 256 KiB: 8 MiB, more than the socket buffers take
	// (so a write blocks and times out), less than the queue bound (so no
	// bye is even decided).
	const updates = 32
	f.publishBig(t, updates, reader)
	f.awaitFreePlace(t, 10*time.Second) // the server gave the stream up

	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(rest), err)
	}
	wantCutShort(t, string(rest), updates)
}

// wantCutShort checks the text a timed-out stream delivered: some but not
// all of the updates published, and no bye or closed at the end.
func wantCutShort(t *testing.T, text string, updates int) {
	t.Helper()
	if n := strings.Count(text, "event: update"); n == 0 || n >= updates {
		t.Errorf("%d updates before the stream ended, want some but not all %d", n, updates)
	}
	if strings.Contains(text, "event: bye") || strings.Contains(text, "event: closed") {
		t.Errorf("a timed-out stream ended with an event:\n%s", text[max(0, len(text)-300):])
	}
}

// TestEventsSteadyClientKeepsStream: a client that reads slowly but
// steadily keeps its stream, however full its queue, and gets every event in
// order. The write timeout bounds each write of at most 64 KiB, not the
// whole run of queued events a handler takes at once.
//
// Regression test: the deadline was set once per run of queued events, so
// a client taking 1 MiB/s from a queue of about 3.5 MiB lost its stream
// after a second although every write made progress.
func TestEventsSteadyClientKeepsStream(t *testing.T) {
	t.Parallel()
	const (
		updates = 15      // frames of about 256 KiB: 3.75 MiB, just under the default 4 MiB queue bound
		rate    = 1 << 20 // bytes per second the client takes: 64 KiB in 62 ms, the queue in about 4 s
	)
	f := newFixture(t, nil, livebindhttp.WithWriteTimeout(time.Second))
	f.sendBuffer.Store(64 << 10) // the handler's writes block once about 130 KiB wait in the kernel
	conn := f.slowEvents(t)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	hello := make(chan struct{})
	type result struct {
		events []sseEvent
		err    error
	}
	done := make(chan result, 1)
	go func() {
		evs, err := readPaced(conn, rate, hello)
		done <- result{evs, err}
	}()
	select {
	case <-hello:
	case r := <-done:
		t.Fatalf("stream ended before its hello: %v", r.err)
	}
	// The client reads from its hello on; the updates are published faster
	// than it reads, so its queue fills to near the bound.
	reader := f.openEvents(t)
	reader.next(t, "hello", 5*time.Second)
	start := time.Now()
	f.publishBig(t, updates, reader)
	published := time.Since(start)
	if err := f.b.Close(); err != nil { // the stream ends with closed after the queued events
		t.Fatal(err)
	}
	r := <-done
	t.Logf("%d updates published in %v; the client read for %v at %d KiB/s", updates, published, time.Since(start), rate>>10)
	var names []string
	next := 0
	for _, ev := range r.events {
		names = append(names, ev.Name)
		if ev.Name != "update" {
			continue
		}
		var u livebindhttp.UpdateJSON
		decodeStrict(t, ev.Data, &u)
		if want := fmt.Sprintf(`"%d-y`, next); u.Field != "Mode" || !strings.HasPrefix(string(u.New), want) {
			t.Errorf("update %d: field %q, new value %.10s..., want %s...", next, u.Field, u.New, want)
		}
		next++
	}
	if !errors.Is(r.err, io.EOF) || next != updates || names[0] != "hello" || names[len(names)-1] != "closed" {
		t.Fatalf("the stream ended (%v) after %d of %d updates; events %v", r.err, next, updates, names)
	}
}

// readPaced reads an event stream from conn as a client that is slow but
// steady: reads of at most 4 KiB, at rate bytes per second on average. It
// closes hello once the hello event is in and returns the events up to the
// end of the stream (io.EOF once the server ended it properly).
func readPaced(conn net.Conn, rate int, hello chan<- struct{}) ([]sseEvent, error) {
	p := &pacedReader{r: conn, rate: rate, start: time.Now()}
	resp, err := http.ReadResponse(bufio.NewReaderSize(p, 4<<10), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 4<<10)
	var events []sseEvent
	var ev sseEvent
	for range 1000 { // the stream has a few dozen lines
		line, err := br.ReadString('\n')
		if err != nil {
			return events, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && ev.Name != "":
			if ev.Name == "hello" {
				close(hello)
			}
			events = append(events, ev)
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.Name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.Data += line[len("data: "):]
		}
	}
	return events, errors.New("more lines than the test sends")
}

// pacedReader reads at most 4 KiB at a time from r, at rate bytes per
// second on average since start: after a pause it did not choose (a loaded
// machine) it reads without pausing until it is back on schedule.
type pacedReader struct {
	r     io.Reader
	rate  int
	start time.Time
	n     int64
}

func (p *pacedReader) Read(b []byte) (int, error) {
	time.Sleep(time.Until(p.start.Add(time.Duration(p.n * int64(time.Second) / int64(p.rate)))))
	k, err := p.r.Read(b[:min(len(b), 4<<10)])
	p.n += int64(k)
	return k, err
}

// TestEventsHelloSkipsOlderUpdates: a stream never sends an update of the
// generation its hello reported, or an older one.
func TestEventsHelloSkipsOlderUpdates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	s0 := f.openEvents(t) // keeps the shared subscription running
	s0.next(t, "hello", 5*time.Second)
	f.env.Set("MODE", "one")
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	s := f.openEvents(t)
	var hello struct {
		Generation uint64 `json:"generation"`
	}
	decodeStrict(t, s.next(t, "hello", 5*time.Second).Data, &hello)
	f.env.Set("MODE", "two")
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	var u livebindhttp.UpdateJSON
	decodeStrict(t, s.next(t, "update", 5*time.Second).Data, &u)
	if u.Gen <= hello.Generation || string(u.New) != `"two"` {
		t.Errorf("hello gen %d, then update %+v", hello.Generation, u)
	}
}

// TestEventsIdleStreamOverHTTP2: a stream served over HTTP/2 that is idle
// for longer than the write timeout keeps going, with its heartbeats and the
// next update. HTTP/2's write deadline is a timer that resets the stream
// when it fires, written or not, unlike a connection's deadline, which only
// fails writes made after it.
//
// Regression test: the deadline set for the last write stayed armed while
// the stream waited, so with the default 10 s timeout and 15 s heartbeat
// every idle HTTP/2 stream was reset (INTERNAL_ERROR) 10 s after its last
// event, before its first heartbeat.
func TestEventsIdleStreamOverHTTP2(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	f := newH2Fixture(t, livebindhttp.WithWriteTimeout(timeout), livebindhttp.WithHeartbeat(5*timeout))
	s := f.openEvents(t)
	if s.resp.ProtoMajor != 2 {
		t.Fatalf("served over %s, want HTTP/2", s.resp.Proto)
	}
	s.next(t, "hello", 5*time.Second)
	for range 2 { // idle for 5 timeouts each time
		if ev := s.next(t, "comment", 5*time.Second); ev.Data != "heartbeat" {
			t.Fatalf("comment %q", ev.Data)
		}
	}
	time.Sleep(3 * timeout) // idle again, past the timeout of the last heartbeat
	f.env.Set("MODE", "after-idle")
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	var u livebindhttp.UpdateJSON
	decodeStrict(t, s.next(t, "update", 5*time.Second).Data, &u)
	if string(u.New) != `"after-idle"` {
		t.Errorf("update %+v", u)
	}
	if err := f.b.Close(); err != nil {
		t.Fatal(err)
	}
	s.next(t, "closed", 5*time.Second)
}

// TestEventsSilentClientLosesStreamOverHTTP2: over HTTP/2 too, a client
// that reads nothing for longer than the write timeout loses its stream:
// once its flow-control window is full, the handler's write blocks, the
// deadline resets the stream and the handler frees its place. The client
// sees what it had buffered and then a stream error, never a clean end or
// a bye.
func TestEventsSilentClientLosesStreamOverHTTP2(t *testing.T) {
	t.Parallel()
	f := newH2Fixture(t, livebindhttp.WithMaxStreams(2),
		livebindhttp.WithStreamQueueBytes(64<<20), livebindhttp.WithWriteTimeout(300*time.Millisecond))
	resp := f.requestEvents(t.Context(), t)
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("served over %s, want HTTP/2", resp.Proto)
	}
	reader := f.openEvents(t)
	reader.next(t, "hello", 5*time.Second)
	// 8 MiB, twice the Go client's 4 MiB stream window, in 32 frames.
	const updates = 32
	f.publishBig(t, updates, reader)
	f.awaitFreePlace(t, 10*time.Second) // the server gave the stream up

	rest, err := io.ReadAll(resp.Body)
	if err == nil || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
		t.Fatalf("after %d bytes: %v, want the stream reset", len(rest), err)
	}
	wantCutShort(t, string(rest), updates)
}

// flushOnlyWriter is a ResponseWriter as a middleware might wrap one: it
// can flush but has no deadlines and no Unwrap, so http.ResponseController
// answers ErrNotSupported to SetWriteDeadline. It records the writes.
type flushOnlyWriter struct {
	header http.Header
	mu     sync.Mutex
	body   strings.Builder
	writes int
}

func (w *flushOnlyWriter) Header() http.Header { return w.header }
func (w *flushOnlyWriter) WriteHeader(int)     {}
func (w *flushOnlyWriter) Flush()              {}

func (w *flushOnlyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.body.Write(p)
}

func (w *flushOnlyWriter) text() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body.String(), w.writes
}

// TestEventsWithoutDeadlines: behind a ResponseWriter without write
// deadlines the stream goes on as without a timeout: hello, a frame of
// several 64 KiB pieces written whole and in order, heartbeats, and the
// handler ends with its request, without a spin of empty writes.
func TestEventsWithoutDeadlines(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := livebindhttp.Handler(f.b, livebindhttp.WithHeartbeat(20*time.Millisecond))
	w := &flushOnlyWriter{header: http.Header{}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil))
	}()
	await := func(what string, ok func(string) bool) string {
		t.Helper()
		for range 500 {
			if text, _ := w.text(); ok(text) {
				return text
			}
			select {
			case <-done:
				text, _ := w.text()
				t.Fatalf("the handler ended while waiting for %s:\n%.300s", what, text)
			case <-time.After(10 * time.Millisecond):
			}
		}
		t.Fatalf("no %s within 5 s", what)
		return ""
	}
	await("hello", func(s string) bool { return strings.Contains(s, "event: hello\n") })
	big := strings.Repeat("z", 200<<10) // an update frame of about 400 KiB: 7 pieces
	f.env.Set("MODE", big)
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	text := await("the update and a heartbeat after it", func(s string) bool {
		i := strings.Index(s, "event: update\n")
		return i >= 0 && strings.Contains(s[i:], ": heartbeat\n")
	})
	if strings.Count(text, "event: update\n") != 1 || !strings.Contains(text, `"new":"`+big+`"`) {
		t.Errorf("the update frame is not whole once:\n%.300s", text)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler still runs after its request ended")
	}
	if _, writes := w.text(); writes > 1000 {
		t.Errorf("%d writes for hello, one update and a few heartbeats", writes)
	}
}

// TestEventsClientGoneMidFrame: a client that goes away while the handler
// is blocked writing a large frame to it frees its place at once, not one
// write timeout (here a minute) later, over HTTP/1 (the connection is
// closed) and HTTP/2 (the request is canceled: RST_STREAM). goleak then
// finds no handler or timer goroutine left.
func TestEventsClientGoneMidFrame(t *testing.T) {
	t.Parallel()
	opts := []livebindhttp.Option{
		livebindhttp.WithMaxStreams(2), livebindhttp.WithStreamQueueBytes(64 << 20), livebindhttp.WithWriteTimeout(time.Minute),
	}
	gone := func(t *testing.T, f *harness, leave func()) {
		t.Helper()
		reader := f.openEvents(t)
		reader.next(t, "hello", 5*time.Second)
		f.publishBig(t, 32, reader) // 8 MiB: the silent stream's write blocks
		t0 := time.Now()
		leave()
		f.awaitFreePlace(t, 10*time.Second)
		t.Logf("place freed %v after the client left", time.Since(t0))
	}
	t.Run("http1", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil, opts...)
		conn := f.slowEvents(t)
		readHello(t, conn)
		gone(t, f, func() { _ = conn.Close() })
	})
	t.Run("http2", func(t *testing.T) {
		t.Parallel()
		f := newH2Fixture(t, opts...)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		resp := f.requestEvents(ctx, t)
		defer resp.Body.Close()
		gone(t, f, cancel)
	})
}

// TestEventsConnectionReusedAfterStream: a stream that ends properly (here
// with closed) leaves no write deadline on its HTTP/1 connection: the next
// request on the same keep-alive connection, more than a write timeout
// later, is answered.
func TestEventsConnectionReusedAfterStream(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	f := newFixture(t, nil, livebindhttp.WithWriteTimeout(timeout))
	conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		if _, err := fmt.Fprintf(conn, "GET /debug/config/%s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v after %q", path, err, body)
		}
		return resp, string(body)
	}
	if err := f.b.Close(); err != nil { // the stream sends hello and closed, and ends
		t.Fatal(err)
	}
	if resp, body := get("events"); resp.Close || !strings.Contains(body, "event: closed\n") {
		t.Fatalf("events: close %v, body %q", resp.Close, body)
	}
	time.Sleep(3 * timeout)
	if resp, _ := get("status.json"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status.json on the reused connection: %s", resp.Status)
	}
}

// noFlushWriter is a ResponseWriter as a middleware that hides Flush (and
// has no Unwrap) would pass on.
type noFlushWriter struct {
	header http.Header
	code   int
	body   strings.Builder
}

func (w *noFlushWriter) Header() http.Header         { return w.header }
func (w *noFlushWriter) WriteHeader(code int)        { w.code = code }
func (w *noFlushWriter) Write(p []byte) (int, error) { return w.body.Write(p) }

// unwrapper wraps a ResponseWriter without Flush but gives it back with
// Unwrap, as http.ResponseController expects of middleware.
type unwrapper struct{ noFlushWriter }

func (w *unwrapper) Unwrap() http.ResponseWriter { return httptest.NewRecorder() }

// TestEventsWithoutFlush: behind a ResponseWriter that cannot flush, and
// does not unwrap to one that can, /events answers 500 naming the cause at
// once, without joining the hub; a browser would otherwise get a hello
// and an end, and reconnect every few seconds. One that unwraps to a
// flusher streams.
func TestEventsWithoutFlush(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := livebindhttp.Handler(f.b, livebindhttp.WithMaxStreams(1))
	w := &noFlushWriter{header: http.Header{}}
	// Bounded: a handler that streamed anyway would return when its
	// request ends.
	short, stop := context.WithTimeout(t.Context(), 2*time.Second)
	defer stop()
	h.ServeHTTP(w, httptest.NewRequestWithContext(short, http.MethodGet, "/events", nil))
	if w.code != http.StatusInternalServerError || !strings.Contains(w.body.String(), "can flush") {
		t.Fatalf("got %d %q, want 500 naming Flush", w.code, w.body.String())
	}
	if strings.Contains(w.body.String(), "event: hello") {
		t.Fatalf("the stream started: %q", w.body.String())
	}

	// A wrapper that unwraps to a flusher is served (and the refused one
	// above did not keep the only place).
	ctx, cancel := context.WithCancel(t.Context())
	u := &unwrapper{noFlushWriter{header: http.Header{}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(u, httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil))
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler still runs after its request ended")
	}
	if u.code != http.StatusOK {
		t.Fatalf("an unwrapping writer was refused: %d %q", u.code, u.body.String())
	}
}

// TestSilentClientLosesResponse: a client that requests the page or a JSON
// endpoint and reads nothing for longer than the write timeout loses its
// response, as a silent event-stream client loses its stream: the handler
// does not stay blocked in a write, holding its rendered response, for as
// long as the client keeps the connection open. The client, reading at
// last, gets what the socket buffers held and then the end, short of the
// body.
//
// Regression test: only /events had write deadlines, so each such client
// pinned a goroutine and a whole rendered response (here 4 MiB) for good,
// and a few hundred of them held GiBs.
func TestSilentClientLosesResponse(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	f := newFixture(t, []livebind.Option{livebind.WithHistory(4)}, livebindhttp.WithWriteTimeout(timeout))
	f.env.Set("MODE", strings.Repeat("m", 4<<20))
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", "config.json", "config.json?gen=2", "history.json"} {
		t.Run("path="+path, func(t *testing.T) {
			f.sendBuffer.Store(64 << 10) // the handler's write blocks once about 130 KiB wait in the kernel
			conn := f.slowGet(t, path)
			time.Sleep(5 * timeout) // reads nothing meanwhile
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				return // cut short before its header was out: under load, rendering can take long
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err == nil {
				t.Errorf("the whole response (%d of %d bytes) waited for a client that read nothing for %v",
					len(body), resp.ContentLength, 5*timeout)
			}
		})
	}
}

// selfUnwrapper is a middleware's ResponseWriter with a broken Unwrap that
// returns the wrapper itself. It can flush but has no write deadlines.
type selfUnwrapper struct{ flushOnlyWriter }

func (w *selfUnwrapper) Unwrap() http.ResponseWriter { return w }

// TestWrapperThatUnwrapsToItself: behind a ResponseWriter whose Unwrap
// chain never ends, the handler neither spins nor hangs: /events answers
// 500 naming the cause, as it does for a writer that cannot flush, and the
// page and the JSON are written without write deadlines. It runs in a child process: the
// handler spun in http.ResponseController, which follows Unwrap without a
// bound, looking for SetWriteDeadline.
func TestWrapperThatUnwrapsToItself(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		f := newFixture(t, nil)
		h := livebindhttp.Handler(f.b)
		for _, tc := range []struct{ path, want string }{
			{"/events", "Unwrap chain ends"},
			{"/", "<!DOCTYPE html>"},
			{"/config.json", `"generation":1`},
		} {
			w := &selfUnwrapper{flushOnlyWriter{header: http.Header{}}}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, tc.path, nil))
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("%s: the handler still runs 5 s after its request, 3 s after its context ended", tc.path)
				cancel()
				continue
			}
			cancel()
			if text, _ := w.text(); !strings.Contains(text, tc.want) {
				t.Errorf("%s: got %.200q, want it to hold %q", tc.path, text, tc.want)
			}
		}
	})
}

// TestServerWriteTimeoutKept: behind a server with a WriteTimeout, the page
// and the JSON are written under that timeout, as any handler's response
// is, not under the handler's own deadlines, which would let a silent
// client keep a response the operator bounded for as long as one write
// timeout per 64 KiB allows. (An event stream needs its own deadlines and
// overrides it; see TestEventsSilentClientLosesStream.)
//
// Regression test: once every response took the stream's deadlines, the
// first one replaced the server's, so a client reading nothing for twice
// the server's WriteTimeout still got its whole response.
func TestServerWriteTimeoutKept(t *testing.T) {
	t.Parallel()
	const serverTimeout = 500 * time.Millisecond
	f := startFixture(t, func(s *httptest.Server) {
		s.Config.WriteTimeout = serverTimeout
		s.Start()
	}, nil, livebindhttp.WithWriteTimeout(time.Minute))
	f.env.Set("MODE", strings.Repeat("m", 4<<20))
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", "config.json"} {
		f.sendBuffer.Store(64 << 10)
		conn := f.slowGet(t, path)
		time.Sleep(3 * serverTimeout) // reads nothing meanwhile
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			continue // cut before its header was out: the server's timeout runs from the request, and rendering can take long under load
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("%q: the whole response (%d of %d bytes) reached a client that read nothing for %v, past the server's WriteTimeout of %v",
				path, len(body), resp.ContentLength, 3*serverTimeout, serverTimeout)
		}
	}
}
