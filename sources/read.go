package sources

import (
	"fmt"
	"io"
)

// ReadAtMost reads r to its end and returns what it read, or an error
// wrapping [ErrTooLarge] once more than limit bytes come. It reads at most
// limit+1 bytes, so a hostile or broken peer cannot make a driver hold more
// than its limit. Its memory stays near the input's size: it reads into
// chunks of growing size (up to 1 MiB) and joins them once at the end,
// where io.ReadAll's repeated regrowth allocates several times the input.
func ReadAtMost(r io.Reader, limit int) ([]byte, error) {
	if limit < 0 {
		limit = 0
	}
	var (
		chunks [][]byte
		total  int
		size   = 4 << 10
	)
	for {
		buf := make([]byte, min(size, limit+1-total))
		n, err := fill(r, buf)
		total += n
		if n > 0 {
			chunks = append(chunks, buf[:n])
		}
		if total > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
		}
		if err == io.EOF { //nolint:errorlint // io.EOF is returned bare, by contract
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(2*size, 1<<20)
	}
	switch len(chunks) {
	case 0:
		return []byte{}, nil
	case 1:
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// fill reads into buf until it is full or r fails. Unlike io.ReadFull it
// returns r's own error: io.EOF only when r ended cleanly, so that a
// reader that breaks off with io.ErrUnexpectedEOF (a truncated body, a
// connection lost mid-message) is a failure, never a short value.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
