package sources

import (
	"errors"
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
		n, err := io.ReadFull(r, buf)
		total += n
		if n > 0 {
			chunks = append(chunks, buf[:n])
		}
		if total > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
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
