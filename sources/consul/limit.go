package consul

import (
	"fmt"
	"io"
	"net/http"

	"github.com/livebind/livebind/sources"
)

// DefaultMaxBytes is the largest answer body the driver's own client
// accepts when [Config] sets no other: a KV answer is JSON with the values
// base64-encoded (4/3 of their size), and a prefix answer holds every key.
const DefaultMaxBytes = 32 << 20

// limitBodies is an http.RoundTripper that cuts every response body off
// past max bytes with an error wrapping [sources.ErrTooLarge]: the api
// client reads bodies (answers and error texts alike) to their end, so a
// hostile or broken agent could otherwise make it hold any amount.
type limitBodies struct {
	rt  http.RoundTripper
	max int64
}

func (l limitBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: l.max, max: l.max}
	return resp, nil
}

// limitedBody reads at most max bytes of rc, then fails.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("%w: the answer is larger than %d bytes", sources.ErrTooLarge, b.max)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
