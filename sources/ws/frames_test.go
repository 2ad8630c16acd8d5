package ws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/livebind/livebind/sources"
)

// wsFrame is one unmasked server frame: b0 is its first byte.
func wsFrame(b0 byte, n int) []byte {
	var h []byte
	switch {
	case n < 126:
		h = []byte{b0, byte(n)}
	case n < 1<<16:
		h = []byte{b0, 126, byte(n >> 8), byte(n)}
	default:
		h = make([]byte, 10)
		h[0], h[1] = b0, 127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
	}
	return append(h, bytes.Repeat([]byte{'x'}, n)...)
}

// frameCheck passes every byte of a conforming stream, whatever its
// reads' sizes, and stops a forbidden header before its last byte.
func TestFrameCheck(t *testing.T) {
	t.Parallel()
	join := func(fs ...[]byte) []byte { return bytes.Join(fs, nil) }
	for _, tc := range []struct {
		name   string
		stream []byte
		stop   int // bytes that pass; -1: all
		want   error
	}{
		{"small, 16-bit and 64-bit lengths", join(wsFrame(0x81, 5), wsFrame(0x82, 300), wsFrame(0x81, 70000)), -1, nil},
		{"fragments with a ping between", join(wsFrame(0x01, 40000), wsFrame(0x89, 4), wsFrame(0x80, 60000)), -1, nil},
		{"a message exactly at the limit", join(wsFrame(0x01, 50000), wsFrame(0x80, 50000)), -1, nil},
		{"fragments past the limit", join(wsFrame(0x01, 50000), wsFrame(0x80, 50001)), 50000 + 4 + 3, sources.ErrTooLarge},
		{"one frame past the limit", join(wsFrame(0x81, 5), wsFrame(0x82, 100001)), 7 + 9, sources.ErrTooLarge},
		{"masked", join(wsFrame(0x81, 5), []byte{0x81, 0x85}), 7 + 1, errMasked},
		{"length out of range", join(wsFrame(0x81, 5), []byte{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}), 7 + 9, nil},
	} {
		for _, size := range []int{1, 3, 4096, 1 << 20} {
			var f frameCheck
			f.limit = 100000
			passed, i := 0, 0
			var err error
			for i < len(tc.stream) && err == nil {
				p := tc.stream[i:min(i+size, len(tc.stream))]
				var n int
				n, err = f.scan(p)
				passed += n
				i += len(p)
			}
			if tc.stop < 0 {
				if err != nil || passed != len(tc.stream) {
					t.Errorf("%s, reads of %d: %d of %d bytes passed, %v", tc.name, size, passed, len(tc.stream), err)
				}
				continue
			}
			if err == nil || passed != tc.stop || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s, reads of %d: %d bytes passed (want %d), error %v (want %v)", tc.name, size, passed, tc.stop, err, tc.want)
			}
			if _, again := f.scan([]byte{0}); again == nil {
				t.Errorf("%s: the check passes bytes after a violation", tc.name)
			}
		}
	}
}

// countingConn is a connection whose reads count and yield a masked frame
// header.
type countingConn struct{ reads int }

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads++
	return copy(p, []byte{0x81, 0x85}), nil
}
func (*countingConn) Write(p []byte) (int, error) { return len(p), nil }
func (*countingConn) Close() error                { return nil }

// Once the frame check failed, the connection is not read again: a read
// could wait on a server that sends nothing more.
func TestEndBodyStopsAfterViolation(t *testing.T) {
	t.Parallel()
	conn := &countingConn{}
	b := &endBody{ReadWriteCloser: conn, w: &wire{check: frameCheck{limit: 100}}}
	buf := make([]byte, 16)
	for range 3 {
		if _, err := b.Read(buf); !errors.Is(err, errMasked) {
			t.Fatalf("read: %v, want errMasked", err)
		}
	}
	if conn.reads != 1 || !b.w.ended.Load() {
		t.Fatalf("%d reads of the connection, ended %v; want 1 and true", conn.reads, b.w.ended.Load())
	}
}
