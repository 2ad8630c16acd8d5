package sources_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/livebind/livebind/sources"
)

// statusError stands for a source's typed error.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return http.StatusText(e.status) + ": " + e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func TestRefusedEnd(t *testing.T) {
	t.Parallel()
	typed := func(status int, err error) error { return &statusError{status: status, err: err} }
	for _, tc := range []struct {
		code      int
		missing   bool
		want      error
		permanent bool
	}{
		{404, true, nil, false},
		{410, true, nil, false},
		{401, false, sources.ErrAuth, true},
		{403, false, sources.ErrAuth, true},
		{429, false, sources.ErrHTTPStatus, false},
		{503, false, sources.ErrHTTPStatus, false},
		{501, false, sources.ErrHTTPStatus, true},
		{400, false, sources.ErrHTTPStatus, true},
	} {
		e := sources.RefusedEnd(tc.code, typed)
		if e.Result.Missing != tc.missing || e.Permanent != tc.permanent || !errors.Is(e.Result.Err, tc.want) || (tc.want == nil) != (e.Result.Err == nil) {
			t.Errorf("%d: got %+v, want missing=%v err=%v permanent=%v", tc.code, e, tc.missing, tc.want, tc.permanent)
		}
		var se *statusError
		if e.Result.Err != nil && (!errors.As(e.Result.Err, &se) || se.status != tc.code) {
			t.Errorf("%d: error %v is not the source's typed error with the status", tc.code, e.Result.Err)
		}
	}
}

func TestParseMaxBytes(t *testing.T) {
	t.Parallel()
	if n, err := sources.ParseMaxBytes(" 1024 "); n != 1024 || err != nil {
		t.Errorf("ParseMaxBytes(1024) = %d, %v", n, err)
	}
	for _, bad := range []string{"", "0", "-1", "1k", "2147483647", strings.Repeat("9", 100)} {
		if _, err := sources.ParseMaxBytes(bad); err == nil || len(err.Error()) > 120 {
			t.Errorf("ParseMaxBytes(%.20q): %v; want a short error", bad, err)
		}
	}
}

// A push source's client follows a redirect within the origin, refuses
// one to another origin (where configured headers must not go), and has
// no Timeout, which would cut every stream off.
func TestStreamClient(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("other")) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	c, own := sources.StreamClient(&http.Client{Timeout: 1})
	if own != nil || c.Timeout != 0 {
		t.Fatalf("own %v, Timeout %s: want no own transport for a given client and no Timeout", own, c.Timeout)
	}
	c, own = sources.StreamClient(nil)
	defer own.CloseIdleConnections()
	resp, err := c.Get(srv.URL + "/here")
	if err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	resp.Body.Close()
	if resp, err := c.Get(srv.URL + "/away"); err == nil || !strings.Contains(err.Error(), "another origin") {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("cross-origin redirect: %v; want refused", err)
	}
}
