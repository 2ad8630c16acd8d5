package http

import (
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// TestRedactURL: the http scheme shows locations by the conservative rule
// of sources.RedactURL (tested there in full): the same text for each kind
// of location, and never a credential.
func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{
		"https://config.example:8443/live.json",
		"https://user:pa55@config.example/x",
		"https://h/x?pass=pa55&pw=pa55&x-api=pa55&env=prod",
		"http://[::1/x?token=pa55",
	} {
		got := redactURL(loc)
		require.Equal(t, sources.RedactURL(loc), got, loc)
		require.NotContains(t, got, "pa55", loc)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"120", "0", "-1", "Wed, 01 May 2024 12:01:00 GMT", "Wednesday, 01-May-24 12:00:30 GMT", "Wed May  1 12:00:30 2024", "99999999999999999999", " 5 ", ""} {
		f.Add(s, "Wed, 01 May 2024 11:00:00 GMT")
	}
	f.Fuzz(func(t *testing.T, v, date string) {
		d, ok := parseRetryAfter(v, date, now)
		if !ok {
			require.Zero(t, d)
			return
		}
		require.GreaterOrEqual(t, d, time.Duration(0))
		if n, isSecs := seconds(strings.TrimSpace(v)); isSecs {
			require.Equal(t, time.Duration(n)*time.Second, d)
		}
	})
}

// TestConfigHidesHeaderValues: a Config printed in any way, or logged, does
// not show the values of its headers (an Authorization token), only their
// names.
func TestConfigHidesHeaderValues(t *testing.T) {
	t.Parallel()
	fixture.WantHeaderHidden(t, func(h nethttp.Header) Config { return Config{Header: h} })
}

// TestMalformedResponseHidesHeaderSecret: net/http quotes a response line
// it cannot parse in its error. A hostile server that echoes a request
// header into that line must not get the header's value into the error,
// nor make the error any size.
func TestMalformedResponseHidesHeaderSecret(t *testing.T) {
	t.Parallel()
	const token = "S3CRETbearer42"
	url := rawServer(t, func(h nethttp.Header) string {
		return "HTTP/1.1" + h.Get("X-Api-Key") + h.Get("X-Other") + strings.Repeat("z", 4000) + "\r\n\r\n"
	})
	d := openDriver(t, Config{Header: nethttp.Header{"X-Other": {"Bearer CONFIGsecret77"}}})
	r := d.Read(t.Context(), target(url+"/c.json", 0, "header=X-Api-Key: "+token))
	require.Error(t, r.Err)
	msg := r.Err.Error()
	require.NotContains(t, msg, token)
	require.NotContains(t, msg, "CONFIGsecret77")
	require.Less(t, len(msg), 1000, "the server's text is cut: %d bytes", len(msg))
}

// TestErrorHidesShortEchoedKey: a credential header's value shorter than
// 8 bytes (a 5-byte API key, a short bearer token) that a server echoes
// into an error (here a response line net/http quotes) is scrubbed too; before, only values of 8 bytes or
// more were.
func TestErrorHidesShortEchoedKey(t *testing.T) {
	t.Parallel()
	url := rawServer(t, func(h nethttp.Header) string {
		// net/http quotes a response line it cannot parse in its error.
		// Here: malformed HTTP status code "<key>/<token>".
		return "HTTP/1.1 " + h.Get("X-Api-Key") + "/" + strings.TrimPrefix(h.Get("Authorization"), "Bearer ") + " OK\r\n\r\n"
	})
	d := openDriver(t, Config{Header: nethttp.Header{"Authorization": {"Bearer t0k3n"}}})
	r := d.Read(t.Context(), target(url+"/c.json", 0, "header=X-Api-Key: k3y95"))
	require.Error(t, r.Err)
	msg := r.Err.Error()
	require.Contains(t, msg, `malformed HTTP status code "<token>/<token>"`, "the server's text is kept, the credentials replaced")
	require.NotContains(t, msg, "k3y95")
	require.NotContains(t, msg, "t0k3n")
}

// TestVersionHidesEchoedSecret: the version a driver reports is shown
// (Status().Version). A server whose ETag or Last-Modified echoes a
// configured header value or a query credential, or is huge, must not
// get it shown: the version is then a content hash. The ETag itself is
// still sent back, to its origin only, so that polls stay conditional.
func TestVersionHidesEchoedSecret(t *testing.T) {
	t.Parallel()
	const token, key = "S3CRETbearer42", "S3CRETquery42"
	var mu sync.Mutex
	var inm []string
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		etag := `"` + r.Header.Get("X-Api-Key") + `"`
		switch r.URL.Path {
		case "/query":
			etag = `"` + r.URL.Query().Get("k") + `"`
		case "/lastmod":
			w.Header().Set("Last-Modified", r.Header.Get("X-Api-Key"))
			etag = ""
		case "/long":
			etag = `"` + strings.Repeat("e", 1000) + `"`
		}
		mu.Lock()
		inm = append(inm, r.Header.Get("If-None-Match"))
		mu.Unlock()
		if etag != "" {
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(nethttp.StatusNotModified)
				return
			}
		}
		fmt.Fprint(w, `{"a":1}`)
	}))
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)
	for _, path := range []string{"/header", "/query?k=" + key, "/lastmod", "/long"} {
		tg := target(srv.URL+path, time.Minute, "header=X-Api-Key: "+token)
		r := d.Read(t.Context(), tg)
		require.NoError(t, r.Err, path)
		require.NotContains(t, r.Version, token, path)
		require.NotContains(t, r.Version, key, path)
		require.Less(t, len(r.Version), 100, path)

		var got []sources.Result
		w := newTestPoller(d, mustSpec(t, tg), sources.Result{}, func(r sources.Result) { got = append(got, r) })
		w.poll()
		w.poll()
		w.dropRequest()
		require.Len(t, got, 1, path)
		require.NotContains(t, got[0].Version, token, path)
		require.NotContains(t, got[0].Version, key, path)
		require.Less(t, len(got[0].Version), 100, path)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, inm, `"`+token+`"`, "the ETag still goes back to its origin")
}

// TestMistypedURLHidesPassword: a location missing its "//" is refused,
// and the refusal must not show the password it carries.
func TestMistypedURLHidesPassword(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{"http:app:S3CRETpw@config.example/c.json", "https:/app:S3CRETpw@config.example/c.json"} {
		_, err := parseSpec(target(loc, 0))
		require.Error(t, err, loc)
		require.NotContains(t, err.Error(), "S3CRETpw")
	}
}

// TestConfigHeaderControl: a Config.Header that net/http cannot send (a
// control character in a value, a bad name) is refused when the driver
// opens, at Bind, without quoting the value, instead of failing every
// request.
func TestConfigHeaderControl(t *testing.T) {
	t.Parallel()
	s, ok := sources.Lookup("http")
	require.True(t, ok)
	for _, h := range []nethttp.Header{{"X-Key": {"a\x01S3CRETb"}}, {"X Key": {"S3CRETvalue"}}} {
		_, err := s.Open(sources.Config{Value: Config{Header: h}})
		require.Error(t, err, "%v", h)
		require.NotContains(t, err.Error(), "S3CRET")
	}
	drv, err := s.Open(sources.Config{Value: Config{Header: nethttp.Header{"X-Key": {"ok value"}}}})
	require.NoError(t, err)
	require.NoError(t, drv.Close())
}
