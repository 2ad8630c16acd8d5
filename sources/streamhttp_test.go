package sources_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	if resp, err := c.Get(srv.URL + "/away"); !errors.Is(err, sources.ErrRedirect) || !strings.Contains(err.Error(), "another origin") {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("cross-origin redirect: %v; want refused", err)
	}
}

// ParseStreamSpec takes the defaults, reads header= and maxbytes= and
// timeout=, refuses a location of another scheme or without a host, and
// never shows the URL's password or query in an error.
func TestParseStreamSpec(t *testing.T) {
	t.Parallel()
	tg := &sources.Target{Location: "wss://u:pw@h:1/x?token=q"}
	s, err := sources.ParseStreamSpec(tg, "ws", "ws", "wss", 100, time.Second)
	if err != nil || s.MaxBytes != 100 || s.Timeout != time.Second || s.URL.Host != "h:1" || s.HeaderName != "" {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	tg.Params = map[string]string{"maxbytes": "7", "header": "x-team: a"}
	tg.Timeout = time.Minute
	s, err = sources.ParseStreamSpec(tg, "ws", "ws", "wss", 100, time.Second)
	if err != nil || s.MaxBytes != 7 || s.Timeout != time.Minute || s.HeaderName != "X-Team" || s.HeaderValue != "a" {
		t.Fatalf("options: %+v, %v", s, err)
	}
	for _, tc := range []struct{ loc, maxBytes, header, want string }{
		{"http://u:pw@h/x?token=q", "", "", "absolute ws:// or wss:// URL"},
		{"ws:///x?token=q", "", "", "absolute ws:// or wss:// URL"},
		{"ws://u:pw@h/x?token=q", "lots", "", "option maxbytes"},
		{"ws://u:pw@h/x?token=q", "", "no colon", "option header"},
	} {
		params := map[string]string{}
		if tc.maxBytes != "" {
			params["maxbytes"] = tc.maxBytes
		}
		if tc.header != "" {
			params["header"] = tc.header
		}
		_, err := sources.ParseStreamSpec(&sources.Target{Location: tc.loc, Params: params}, "ws", "ws", "wss", 100, time.Second)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "ws ") {
			t.Errorf("%s %v: error %v; want one holding %q", tc.loc, params, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "token=q") {
			t.Errorf("the error %q shows a secret", err)
		}
	}
}

// FuzzParseStreamSpec: no location or option makes it panic, an error
// never shows the location's password, and what it accepts has a host.
func FuzzParseStreamSpec(f *testing.F) {
	f.Add("ws://u:secretpw@h/x", "1024", "A: b")
	f.Add("wss://h", "", "")
	f.Add("ws://", "0", ":")
	f.Fuzz(func(t *testing.T, loc, maxBytes, header string) {
		tg := &sources.Target{Location: loc, Params: map[string]string{"maxbytes": maxBytes, "header": header}}
		s, err := sources.ParseStreamSpec(tg, "ws", "ws", "wss", 100, time.Second)
		if err != nil {
			if strings.Contains(loc, "secretpw@") && strings.Contains(err.Error(), "secretpw") {
				t.Fatalf("the error %q shows the password", err)
			}
			return
		}
		if s.URL.Host == "" || s.MaxBytes <= 0 {
			t.Fatalf("accepted %q with %+v", loc, s)
		}
	})
}
