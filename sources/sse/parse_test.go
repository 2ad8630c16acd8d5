package sse

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// parseAll returns the events of stream, its last id and retry, and the
// error that ended it.
func parseAll(stream string, limit int, chunk bool) ([]event, *parser, error) {
	var r io.Reader = strings.NewReader(stream)
	if chunk {
		r = iotest.OneByteReader(r) // every line arrives in pieces
	}
	p := newParser(r, limit, "", 0)
	var evs []event
	for {
		ev, err := p.next()
		if err != nil {
			return evs, p, err
		}
		evs = append(evs, ev)
	}
}

func TestParser(t *testing.T) {
	t.Parallel()
	type want struct {
		typ, data string
		tooLarge  bool
	}
	for _, tc := range []struct {
		name   string
		stream string
		max    int
		events []want
		err    error
		lastID string
		retry  time.Duration
	}{
		{name: "one event", stream: "data: {\"a\":1}\n\n", events: []want{{"message", `{"a":1}`, false}}, err: io.EOF},
		{name: "multi-line data joined by LF", stream: "data: a\ndata: b\ndata:c\n\n", events: []want{{"message", "a\nb\nc", false}}, err: io.EOF},
		{name: "only one leading space dropped", stream: "data:  two\n\n", events: []want{{"message", " two", false}}, err: io.EOF},
		{name: "CRLF and CR line ends", stream: "data: a\r\ndata: b\rdata: c\r\n\r\n", events: []want{{"message", "a\nb\nc", false}}, err: io.EOF},
		{name: "comments and unknown fields ignored", stream: ": ping\nfoo: bar\ndata: x\n\n", events: []want{{"message", "x", false}}, err: io.EOF},
		{name: "event type", stream: "event: limits\ndata: 5\n\ndata: 6\n\n", events: []want{{"limits", "5", false}, {"message", "6", false}}, err: io.EOF},
		{name: "no data: no event", stream: "event: x\nid: 7\n\n", err: io.EOF, lastID: "7"},
		{name: "empty data line is an empty event", stream: "data:\n\n", events: []want{{"message", "", false}}, err: io.EOF},
		{name: "field without colon", stream: "data\n\n", events: []want{{"message", "", false}}, err: io.EOF},
		{name: "id and retry", stream: "id: 42\nretry: 1500\ndata: x\n\n", events: []want{{"message", "x", false}}, err: io.EOF, lastID: "42", retry: 1500 * time.Millisecond},
		{name: "bad retry ignored", stream: "retry: 1.5\nretry: -1\ndata: x\n\n", events: []want{{"message", "x", false}}, err: io.EOF},
		{name: "huge retry saturates", stream: "retry: 99999999999999999999\n\n", err: io.EOF, retry: maxRetry},
		{name: "an id counts once its event ends", stream: "id: 1\ndata: x\n\nid: 2\ndata: {\"cut\":", events: []want{{"message", "x", false}}, err: io.ErrUnexpectedEOF, lastID: "1"},
		{name: "id with NUL ignored", stream: "id: 1\n\nid: a\x00b\n\n", err: io.EOF, lastID: "1"},
		{name: "id with a control character ignored", stream: "id: 1\n\nid: a\x01b\n\nid: c\x7fd\n\n", err: io.EOF, lastID: "1"},
		{name: "id with a tab and UTF-8 kept", stream: "id: a\tb é\n\n", err: io.EOF, lastID: "a\tb é"},
		{name: "event cut off", stream: "data: {\"half\":", err: io.ErrUnexpectedEOF},
		{name: "event without its blank line", stream: "data: x\n", err: io.ErrUnexpectedEOF},
		{name: "data over the limit", stream: "data: " + strings.Repeat("x", 20) + "\n\ndata: ok\n\n", max: 10, events: []want{{"message", "", true}, {"message", "ok", false}}, err: io.EOF},
		{name: "joined lines over the limit", stream: "data: 123456\ndata: 7890\n\n", max: 10, events: []want{{"message", "", true}}, err: io.EOF},
		// Each bare "data" line adds a "\n" to the data: before the fix
		// that "\n" was never held against the limit, so endless bare
		// lines grew an event without bound.
		{name: "bare data lines over the limit", stream: "data: 1234567890\ndata\n\n" + strings.Repeat("data\n", 20) + "\n", max: 10, events: []want{{"message", "", true}, {"message", "", true}}, err: io.EOF},
		// WHATWG: one leading U+FEFF is ignored. Before the fix it made the
		// first line's field name unknown, and the first event (the
		// state, on every connect) was lost.
		{name: "leading BOM ignored", stream: "\ufeffdata: x\n\n", events: []want{{"message", "x", false}}, err: io.EOF},
		{name: "only one BOM ignored", stream: "\ufeff\ufeffdata: x\n\ndata: y\n\n", events: []want{{"message", "y", false}}, err: io.EOF},
		{name: "BOM bytes later are content", stream: "data: \ufeff\n\n", events: []want{{"message", "\ufeff", false}}, err: io.EOF},
		{name: "a BOM's first bytes alone are content", stream: "\xef\xbb\ndata: x\n\n", events: []want{{"message", "x", false}}, err: io.EOF},
		{name: "a BOM's first byte then data", stream: "\xefdata: x\n\ndata: y\n\n", events: []want{{"message", "y", false}}, err: io.EOF},
		{name: "long event type ignored", stream: "event: " + strings.Repeat("e", maxField+1) + "\ndata: x\n\n", events: []want{{"message", "x", false}}, err: io.EOF},
	} {
		for _, chunk := range []bool{false, true} {
			name := tc.name
			if chunk {
				name += "/one byte at a time"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				limit := tc.max
				if limit == 0 {
					limit = 1 << 20
				}
				evs, p, err := parseAll(tc.stream, limit, chunk)
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				if len(evs) != len(tc.events) {
					t.Fatalf("%d events %+v, want %d", len(evs), evs, len(tc.events))
				}
				for i, ev := range evs {
					w := tc.events[i]
					if ev.typ != w.typ || string(ev.data) != w.data || ev.tooLarge != w.tooLarge {
						t.Errorf("event %d: %q %q tooLarge=%v, want %q %q %v", i, ev.typ, ev.data, ev.tooLarge, w.typ, w.data, w.tooLarge)
					}
					if ev.tooLarge && ev.data != nil {
						t.Errorf("event %d: too large but holds %d bytes", i, len(ev.data))
					}
				}
				if p.lastID != tc.lastID || p.retry != tc.retry {
					t.Errorf("lastID %q retry %s, want %q %s", p.lastID, p.retry, tc.lastID, tc.retry)
				}
			})
		}
	}
}

// An event far over the limit is dropped as it comes: the parser never
// holds more than its limit.
func TestParserBoundedMemory(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	r := io.MultiReader(strings.NewReader("data: "), &repeat{n: 8 << 20}, strings.NewReader("\n\n"))
	p := newParser(r, limit, "", 0)
	ev, err := p.next()
	if err != nil || !ev.tooLarge {
		t.Fatalf("got %v %v, want a tooLarge event", ev.tooLarge, err)
	}
	if cap(p.data) > limit {
		t.Fatalf("the parser grew a %d-byte buffer for a %d-byte limit", cap(p.data), limit)
	}
}

// Lines that never end and fields that never stop growing are not held:
// a comment or an unknown field without a newline, an id, event type or
// retry of megabytes, and endless heartbeat lines.
func TestParserBoundedLines(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	for _, head := range []string{": ", "x-unknown: ", "id: ", "event: ", "retry: ", "data: "} {
		r := io.MultiReader(strings.NewReader(head), &repeat{n: 8 << 20}, strings.NewReader("\n"+strings.Repeat(":\n", 1<<16)+"\n"))
		p := newParser(r, limit, "", 0)
		ev, err := p.next()
		if head == "data: " {
			if err != nil || !ev.tooLarge {
				t.Fatalf("%q: got %v %v, want a tooLarge event", head, ev.tooLarge, err)
			}
		} else if !errors.Is(err, io.EOF) {
			t.Fatalf("%q: got %v, want io.EOF (no event)", head, err)
		}
		if held := cap(p.data) + cap(p.value) + cap(p.name) + cap(p.typ) + len(p.lastID); held > limit+maxField+16 {
			t.Fatalf("%q: the parser holds %d bytes", head, held)
		}
	}
}

// repeat yields n bytes of 'x'.
type repeat struct{ n int }

func (r *repeat) Read(b []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(b), r.n)
	for i := range k {
		b[i] = 'x'
	}
	r.n -= k
	return k, nil
}

// FuzzParser: any stream parses without panicking, whole or byte by byte
// alike, and never yields more data than the limit.
func FuzzParser(f *testing.F) {
	for _, s := range []string{"data: a\n\n", "data: a\r\ndata: b\r\r\n", "event: x\nid: 1\nretry: 10\ndata:\n\n", ": c\n\ndata", "data: " + strings.Repeat("y", 40) + "\n\n", "\r\n\r\r\n", strings.Repeat("data\n", 40) + "\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const limit = 32
		whole, p1, err1 := parseAll(s, limit, false)
		pieces, p2, err2 := parseAll(s, limit, true)
		if !errors.Is(err1, io.EOF) && !errors.Is(err1, io.ErrUnexpectedEOF) {
			t.Fatalf("unexpected error %v", err1)
		}
		if !errors.Is(err2, err1) || len(whole) != len(pieces) || p1.lastID != p2.lastID || p1.retry != p2.retry {
			t.Fatalf("whole and byte by byte differ: %v %v, %d %d events", err1, err2, len(whole), len(pieces))
		}
		for i, ev := range whole {
			if len(ev.data) > limit || string(ev.data) != string(pieces[i].data) || ev.typ != pieces[i].typ {
				t.Fatalf("event %d: %q vs %q", i, ev.data, pieces[i].data)
			}
		}
	})
}
