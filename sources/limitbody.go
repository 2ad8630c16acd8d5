package sources

import (
	"fmt"
	"io"
	"net/http"
)

// LimitBodies returns an http.RoundTripper over rt that cuts every response
// body off past limit bytes with an error wrapping [ErrTooLarge]. It is for
// drivers whose client library reads bodies (answers and error texts
// alike) to their end before the driver sees them, so that a hostile or
// broken server cannot make it hold any amount.
func LimitBodies(rt http.RoundTripper, limit int64) http.RoundTripper {
	return limitBodies{rt: rt, limit: limit}
}

type limitBodies struct {
	rt    http.RoundTripper
	limit int64
}

func (l limitBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.Body == nil {
		// A nil Body is no body: net/http's Client makes it http.NoBody,
		// and reports a nil *Response itself.
		return resp, nil
	}
	resp.Body = &limitedBody{rc: resp.Body, left: l.limit, limit: l.limit}
	return resp, nil
}

// limitedBody reads at most limit bytes of rc, then fails.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.left <= 0 { // a body of exactly limit bytes ends here: look
		var one [1]byte
		// ReadAtLeast reads on past a (0, nil), which is no byte more.
		if n, err := io.ReadAtLeast(b.rc, one[:], 1); n == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("%w: the answer is larger than %d bytes", ErrTooLarge, b.limit)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
