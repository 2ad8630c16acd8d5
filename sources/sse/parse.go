package sse

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"time"
)

// event is one dispatched event of a text/event-stream.
type event struct {
	typ      string // the event: field, "message" when there was none
	data     []byte // the data: lines joined by "\n"; nil when tooLarge
	tooLarge bool   // the data exceeded the parser's limit and was dropped
}

// maxField bounds the value of an event:, id: or retry: field; a longer one
// is ignored (and its bytes discarded as they come, never buffered).
const maxField = 1 << 10

// fieldKind is the field of the line being read.
type fieldKind uint8

const (
	fieldIgnored fieldKind = iota // a comment or an unknown field
	fieldData
	fieldEvent
	fieldID
	fieldRetry
)

// parser reads events from a text/event-stream as the WHATWG HTML standard
// (§9.2.6, "Interpreting an event stream") describes: lines end with CRLF,
// LF or CR; a line starting with ':' is a comment; "field: value" lines
// build an event, with one leading space of the value dropped; data lines
// are joined with "\n"; a blank line dispatches the event, unless it has
// no data; an event cut off by the end of the stream is dropped. Unlike a
// browser it never holds more than max bytes of data nor more than
// [maxField] bytes of any other field: a longer event is reported as
// tooLarge once it ends, its data discarded as it comes. One leading
// U+FEFF (a byte order mark) is ignored, as the standard says. Reading is
// incremental: a line longer than the reader's buffer is taken in pieces.
type parser struct {
	r   *bufio.Reader
	max int // the most data bytes of one event

	// The event being built.
	data     []byte
	hasData  bool
	tooLarge bool
	typ      []byte

	// The line being read.
	lineLen int       // bytes of the line so far
	name    []byte    // the field name so far (at most a few bytes matter)
	colon   bool      // the name has ended
	kind    fieldKind // the field, once the name has ended
	first   bool      // the next value byte is the first: a leading space is dropped
	value   []byte    // the value of a short field (event, id, retry)
	over    bool      // the value of a short field is too long: ignore it
	skipLF  bool      // the previous line ended with CR: a leading LF belongs to it
	bom     int       // bytes of a leading BOM seen; len(bom) once the look is over

	// State that outlives events. A stream's parser starts from the
	// previous stream's lastID and retry, as browsers do: the standard's
	// reconnection time and last event ID string belong to the event
	// source, not to one connection.
	idBuf  string        // the last id: field read (the standard's last event ID buffer)
	lastID string        // idBuf as of the last dispatch: sent as Last-Event-ID on reconnect
	retry  time.Duration // the last retry: field, 0 if none
}

// newParser returns a parser of r whose events hold at most limit data
// bytes, starting from the last event id lastID and the retry: value
// retry of the stream before it.
func newParser(r io.Reader, limit int, lastID string, retry time.Duration) *parser {
	return &parser{r: bufio.NewReaderSize(r, 16<<10), max: limit, idBuf: lastID, lastID: lastID, retry: retry}
}

// next returns the next dispatched event. At the end of the stream it
// returns io.EOF, or io.ErrUnexpectedEOF when an event was cut off (its
// partial data is dropped); other read errors are returned as they are.
func (p *parser) next() (event, error) {
	for {
		if p.r.Buffered() == 0 {
			if _, err := p.r.Peek(1); err != nil {
				if err == io.EOF && (p.hasData || p.lineLen > 0) {
					return event{}, io.ErrUnexpectedEOF
				}
				return event{}, err
			}
		}
		buf, _ := p.r.Peek(p.r.Buffered())
		if p.skipLF {
			p.skipLF = false
			if buf[0] == '\n' {
				_, _ = p.r.Discard(1)
				continue
			}
		}
		i := bytes.IndexAny(buf, "\r\n")
		if i < 0 {
			p.piece(buf)
			_, _ = p.r.Discard(len(buf))
			continue
		}
		p.piece(buf[:i])
		p.skipLF = buf[i] == '\r'
		_, _ = p.r.Discard(i + 1)
		if ev, ok := p.endLine(); ok {
			return ev, nil
		}
	}
}

// bom is U+FEFF in UTF-8: the standard ignores one at the stream's start.
const bom = "\ufeff"

// piece takes the next bytes of the current line, past a leading BOM.
func (p *parser) piece(b []byte) {
	for p.bom < len(bom) && len(b) > 0 {
		if b[0] != bom[p.bom] {
			p.noBOM()
			break
		}
		p.bom++
		b = b[1:]
	}
	p.take(b)
}

// noBOM ends the look for a leading BOM: the bytes held back as the start
// of one were content.
func (p *parser) noBOM() {
	if p.bom < len(bom) {
		held := p.bom
		p.bom = len(bom)
		p.take([]byte(bom[:held]))
	}
}

// take takes the next bytes of the current line.
func (p *parser) take(b []byte) {
	if len(b) == 0 {
		return
	}
	p.lineLen += len(b)
	if !p.colon {
		i := bytes.IndexByte(b, ':')
		head := b
		if i >= 0 {
			head = b[:i]
		}
		if len(p.name) <= len("retry") { // longer names are unknown fields anyway
			p.name = append(p.name, head[:min(len(head), len("retry")+1-len(p.name))]...)
		}
		if i < 0 {
			return
		}
		p.startValue()
		b = b[i+1:]
	}
	if p.first && len(b) > 0 {
		p.first = false
		if b[0] == ' ' {
			b = b[1:]
		}
	}
	p.addValue(b)
}

// startValue ends the field name of the current line.
func (p *parser) startValue() {
	p.colon, p.first = true, true
	switch string(p.name) {
	case "data":
		p.kind = fieldData
		if p.hasData { // the "\n" that joins the lines counts against the limit
			p.addValue([]byte{'\n'})
		}
		p.hasData = true
	case "event":
		p.kind = fieldEvent
	case "id":
		p.kind = fieldID
	case "retry":
		p.kind = fieldRetry
	default:
		p.kind = fieldIgnored // a comment (empty name) or an unknown field
	}
	p.value, p.over = p.value[:0], false
}

// addValue takes value bytes of the current field.
func (p *parser) addValue(b []byte) {
	switch p.kind {
	case fieldIgnored:
	case fieldData:
		switch {
		case p.tooLarge:
		case len(p.data)+len(b) > p.max:
			p.tooLarge, p.data = true, nil
		default:
			p.data = append(p.data, b...)
		}
	default:
		if p.over || len(p.value)+len(b) > maxField {
			p.over, p.value = true, p.value[:0]
			return
		}
		p.value = append(p.value, b...)
	}
}

// endLine processes the line just ended, and returns the event a blank line
// dispatches.
func (p *parser) endLine() (event, bool) {
	p.noBOM()
	blank := p.lineLen == 0
	if !blank && !p.colon { // a line without a colon: the whole line is the name
		p.startValue()
	}
	if !blank {
		p.endField()
		p.lineLen, p.name, p.colon, p.kind = 0, p.name[:0], false, fieldIgnored
		return event{}, false
	}
	return p.dispatch()
}

// endField applies a completed short field.
func (p *parser) endField() {
	if p.over {
		return
	}
	switch p.kind {
	case fieldEvent:
		p.typ = append(p.typ[:0], p.value...)
	case fieldID:
		if sendable(p.value) {
			p.idBuf = string(p.value)
		}
	case fieldRetry:
		if ms, ok := digits(p.value); ok {
			p.retry = time.Duration(ms) * time.Millisecond
		}
	}
}

// dispatch ends the event at a blank line.
func (p *parser) dispatch() (event, bool) {
	defer func() {
		p.data, p.hasData, p.tooLarge, p.typ = nil, false, false, p.typ[:0]
	}()
	p.lastID = p.idBuf // even without data; an event cut off never gets here
	if !p.hasData {
		return event{}, false // an event without data: nothing to dispatch
	}
	ev := event{typ: "message", tooLarge: p.tooLarge}
	if len(p.typ) > 0 {
		ev.typ = string(p.typ)
	}
	if !p.tooLarge {
		ev.data = p.data
		if ev.data == nil {
			ev.data = []byte{}
		}
	}
	return ev, true
}

// sendable reports whether id can be sent back as the Last-Event-ID
// header: the standard ignores an id holding NUL, and net/http refuses a
// header value holding any other control character but tab (each connect
// would fail in the client, forever, since the id is only replaced by an
// event of a stream that opens). Such an id is ignored: the last one
// stays.
func sendable(id []byte) bool {
	for _, c := range id {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// maxRetry caps a retry: value the parser keeps; drivers bound it further.
const maxRetry = time.Hour

// digits parses a retry: value in milliseconds: ASCII digits only,
// saturating at maxRetry.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	limit := maxRetry.Milliseconds()
	if len(b) > 10 {
		return limit, true
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return min(n, limit), err == nil
}
