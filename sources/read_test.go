package sources_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/livebind/livebind/sources"
)

func TestReadAtMost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		size  int
		limit int
		large bool // want ErrTooLarge
	}{
		{"empty", 0, 10, false},
		{"under", 9, 10, false},
		{"at-limit", 10, 10, false},
		{"one-over", 11, 10, true},
		{"many-chunks", 3 << 20, 3 << 20, false},
		{"many-chunks/over", 3<<20 + 1, 3 << 20, true},
		{"zero-limit/empty", 0, 0, false},
		{"zero-limit/one", 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := bytes.Repeat([]byte("0123456789"), tt.size/10+1)[:tt.size]
			got, err := sources.ReadAtMost(iotest.HalfReader(bytes.NewReader(in)), tt.limit)
			if tt.large {
				if !errors.Is(err, sources.ErrTooLarge) || got != nil {
					t.Fatalf("got %d bytes, %v; want nil and ErrTooLarge", len(got), err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, in) || got == nil {
				t.Fatalf("got %d bytes (nil %v), %v; want the %d input bytes", len(got), got == nil, err, len(in))
			}
		})
	}
}

// TestReadAtMostStopsReading checks that an endless input is read only to
// limit+1 bytes, and that a read error comes back as is.
func TestReadAtMostStopsReading(t *testing.T) {
	t.Parallel()
	counter := &countingReader{r: strings.NewReader(strings.Repeat("x", 1<<20))}
	if _, err := sources.ReadAtMost(counter, 1000); !errors.Is(err, sources.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if counter.n != 1001 {
		t.Fatalf("read %d bytes, want limit+1 = 1001", counter.n)
	}
	boom := errors.New("boom")
	if _, err := sources.ReadAtMost(iotest.ErrReader(boom), 10); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reader's", err)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// BenchmarkReadAtMost reports the bytes allocated per byte read for an
// oversized 16 MiB input against an 8 MiB limit, beside io.ReadAll's.
func BenchmarkReadAtMost(b *testing.B) {
	in := bytes.Repeat([]byte("x"), 16<<20)
	const limit = 8 << 20
	b.Run("ReadAtMost", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = sources.ReadAtMost(bytes.NewReader(in), limit)
		}
	})
	b.Run("io.ReadAll+LimitReader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = io.ReadAll(io.LimitReader(bytes.NewReader(in), limit+1))
		}
	})
}

// FuzzReadAtMost: whatever the input and limit, ReadAtMost returns the
// input exactly when it fits, and ErrTooLarge with no data when it does not.
func FuzzReadAtMost(f *testing.F) {
	f.Add([]byte("hello"), 5)
	f.Add([]byte("hello"), 4)
	f.Add([]byte{}, 0)
	f.Add(bytes.Repeat([]byte("x"), 5000), 4097)
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		limit %= 1 << 16
		got, err := sources.ReadAtMost(iotest.OneByteReader(bytes.NewReader(in)), limit)
		if len(in) > max(limit, 0) {
			if !errors.Is(err, sources.ErrTooLarge) || got != nil {
				t.Fatalf("%d bytes over a limit of %d: got %d bytes, %v", len(in), limit, len(got), err)
			}
			return
		}
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("%d bytes within a limit of %d: got %d bytes, %v", len(in), limit, len(got), err)
		}
	})
}

// A reader that breaks off (io.ErrUnexpectedEOF: a truncated body, a
// connection lost mid-message) is a failure, never a short value. Found by
// the ws source's mid-message drop test: io.ReadFull had turned the cut
// into a normal end.
func TestReadAtMostBrokenReader(t *testing.T) {
	r := io.MultiReader(strings.NewReader(`{"half":`), iotest.ErrReader(io.ErrUnexpectedEOF))
	data, err := sources.ReadAtMost(r, 1<<20)
	if !errors.Is(err, io.ErrUnexpectedEOF) || data != nil {
		t.Fatalf("ReadAtMost of a broken reader: %q, %v; want no data and io.ErrUnexpectedEOF", data, err)
	}
}
