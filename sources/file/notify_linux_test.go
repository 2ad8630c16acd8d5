package file

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// rawEvent encodes one struct inotify_event with name padded to pad bytes.
func rawEvent(wd int32, mask uint32, name string, pad int) []byte {
	b := make([]byte, unix.SizeofInotifyEvent+pad)
	binary.NativeEndian.PutUint32(b[0:], uint32(wd))
	binary.NativeEndian.PutUint32(b[4:], mask)
	binary.NativeEndian.PutUint32(b[12:], uint32(pad))
	copy(b[unix.SizeofInotifyEvent:], name)
	return b
}

type parsed struct {
	wd   int
	mask uint32
	name string
}

func parseAll(buf []byte) []parsed {
	var out []parsed
	parseEvents(buf, func(wd int, mask uint32, name string) { out = append(out, parsed{wd, mask, name}) })
	return out
}

func TestParseEvents(t *testing.T) {
	buf := append(rawEvent(1, unix.IN_CLOSE_WRITE, "app.toml", 16), rawEvent(2, unix.IN_DELETE_SELF, "", 0)...)
	require.Equal(t, []parsed{{1, unix.IN_CLOSE_WRITE, "app.toml"}, {2, unix.IN_DELETE_SELF, ""}}, parseAll(buf))
	// A name length past the end (a truncated or hostile buffer) ends the
	// parse without reading out of bounds.
	bad := rawEvent(3, unix.IN_MOVED_TO, "x", 4)
	binary.NativeEndian.PutUint32(bad[12:], 1<<31)
	require.Equal(t, []parsed{{1, unix.IN_CLOSE_WRITE, "app.toml"}, {2, unix.IN_DELETE_SELF, ""}}, parseAll(append(buf, bad...)))
	require.Empty(t, parseAll(buf[:unix.SizeofInotifyEvent-1]), "a partial header is no event")
}

// FuzzParseEvents: any buffer parses without a panic, into events whose
// encoded size never exceeds the buffer, and re-encoding the events with
// their names parses back to the same events (names never end in NUL).
func FuzzParseEvents(f *testing.F) {
	f.Add(rawEvent(1, unix.IN_CLOSE_WRITE, "app.toml", 16))
	f.Add(append(rawEvent(-1, unix.IN_Q_OVERFLOW, "", 0), rawEvent(7, unix.IN_MOVED_TO, "..data", 8)...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, buf []byte) {
		evs := parseAll(buf)
		size := 0
		var again []byte
		for _, e := range evs {
			size += unix.SizeofInotifyEvent + len(e.name)
			again = append(again, rawEvent(int32(e.wd), e.mask, e.name, len(e.name))...)
		}
		require.LessOrEqual(t, size, len(buf))
		require.Equal(t, evs, parseAll(again))
	})
}
