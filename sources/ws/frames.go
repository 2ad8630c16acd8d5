package ws

import (
	"errors"
	"fmt"

	"github.com/livebind/livebind/sources"
)

// errMasked is a frame the server masked: RFC 6455 §5.1 says a client
// MUST close the connection when it sees one. coder/websocket unmasks it
// and reads on.
var errMasked = errors.New("WebSocket protocol violation: masked frame from the server")

// frameCheck follows the frame headers of the bytes a server sends, as
// they pass on their way to coder/websocket, to stop what the library
// lets through or notices late: a masked frame (which the library reads
// as data), and a data frame whose announced length takes its message past
// the limit (the library waits for all those bytes before its own limit
// fails, and never fails a message that is cut short before it). Control
// frames are the library's to check.
type frameCheck struct {
	limit uint64 // the most payload bytes of one message

	hdr  [10]byte // the header being read (no mask key: a server sends none)
	hn   int      // bytes of hdr so far
	left uint64   // payload bytes of the current frame still to pass
	msg  uint64   // payload bytes of the current message's data frames so far
	err  error    // the first violation; every later read fails with it
}

// scan looks at p, the next bytes from the server, and returns how many of
// them may pass: all of them, or those before the byte that completes a
// forbidden frame header, with the violation. The library never sees a
// whole forbidden header, so it can neither read that frame's payload as
// data nor mistake it for another.
func (f *frameCheck) scan(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	for i := 0; i < len(p); {
		if f.left > 0 {
			k := min(f.left, uint64(len(p)-i))
			i += int(k)
			f.left -= k
			continue
		}
		f.hdr[f.hn] = p[i]
		f.hn++
		if f.hn < 2 || f.hn < headerLen(f.hdr[1]) {
			i++
			continue
		}
		if err := f.frame(); err != nil {
			f.err = err
			return i, err
		}
		i++
	}
	return len(p), nil
}

// headerLen is the length of a server frame's header whose second byte is
// b1: two bytes, then the extended payload length.
func headerLen(b1 byte) int {
	switch b1 & 0x7f {
	case 126:
		return 4
	case 127:
		return 10
	}
	return 2
}

// frame checks the header in hdr, now whole, and starts its payload.
func (f *frameCheck) frame() error {
	f.hn = 0
	if f.hdr[1]&0x80 != 0 {
		return errMasked
	}
	var n uint64
	switch k := headerLen(f.hdr[1]); k {
	case 2:
		n = uint64(f.hdr[1] & 0x7f)
	default:
		for _, b := range f.hdr[2:k] {
			n = n<<8 | uint64(b)
		}
	}
	if n>>63 != 0 {
		return fmt.Errorf("WebSocket protocol violation: frame length %d out of range", n)
	}
	f.left = n
	op := f.hdr[0] & 0x0f
	if op&0x08 != 0 {
		return nil // a control frame
	}
	if op != 0 { // a text or binary frame starts a message
		f.msg = 0
	}
	f.msg += n // n < 2^63 and msg <= limit < 2^31: no overflow
	if f.msg > f.limit {
		return fmt.Errorf("message larger than maxbytes=%d (a frame announced %d bytes): %w", f.limit, n, sources.ErrTooLarge)
	}
	return nil
}
