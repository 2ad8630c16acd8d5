package sources_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// roundTripFunc is an http.RoundTripper answering with a fixed body.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestLimitBodies: a body of exactly the limit reads whole and ends with
// io.EOF; one byte more fails with ErrTooLarge, after at most limit bytes.
func TestLimitBodies(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, 99, 100, 101, 4096} {
		rt := sources.LimitBodies(roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 500, Body: io.NopCloser(strings.NewReader(strings.Repeat("x", size)))}, nil
		}), 100)
		resp, err := rt.RoundTrip(&http.Request{})
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		if size <= 100 {
			require.NoError(t, err, "size %d", size)
			require.Len(t, got, size)
			continue
		}
		require.ErrorIs(t, err, sources.ErrTooLarge, "size %d", size)
		require.Len(t, got, 100, "size %d: no more than the limit is read", size)
	}
}

// stutter reads r, answering (0, nil) before each read, as io.Reader
// allows (a decompressor between blocks may).
type stutter struct {
	r    io.Reader
	idle bool
}

func (s *stutter) Read(p []byte) (int, error) {
	if s.idle = !s.idle; s.idle {
		return 0, nil
	}
	return s.r.Read(p)
}

// A body of exactly the limit whose reader answers (0, nil) now and then
// is not too large. Before the fix the look past the limit took (0, nil)
// for a byte more and failed with ErrTooLarge.
func TestLimitBodiesIdleRead(t *testing.T) {
	t.Parallel()
	rt := sources.LimitBodies(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(&stutter{r: strings.NewReader(strings.Repeat("x", 100))})}, nil
	}), 100)
	resp, err := rt.RoundTrip(&http.Request{})
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	require.Len(t, got, 100)
}

// TestLimitBodiesNilBody: a RoundTripper of the user's may answer with a
// nil Body (net/http's Client tolerates it, and one returning a nil
// *Response with a nil error): LimitBodies must pass both on for the
// Client to handle, not panic.
func TestLimitBodiesNilBody(t *testing.T) {
	t.Parallel()
	rt := sources.LimitBodies(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 204, Header: http.Header{}}, nil
	}), 100)
	c := &http.Client{Transport: rt}
	resp, err := c.Get("http://127.0.0.1:1/x")
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Empty(t, got)
	require.NoError(t, resp.Body.Close())

	rt = sources.LimitBodies(roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil }), 100)
	require.NotPanics(t, func() { _, err = (&http.Client{Transport: rt}).Get("http://127.0.0.1:1/x") })
	require.Error(t, err)
}
