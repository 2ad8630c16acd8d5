package http

import (
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// nopJar is a cookie jar that keeps nothing.
type nopJar struct{}

func (nopJar) SetCookies(*url.URL, []*nethttp.Cookie) {}
func (nopJar) Cookies(*url.URL) []*nethttp.Cookie     { return nil }

// recorder is a server that records the headers of every request.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []nethttp.Header
}

func newRecorder(t *testing.T, h func(w nethttp.ResponseWriter, r *nethttp.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Header.Clone())
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) headers() []nethttp.Header {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]nethttp.Header(nil), rec.seen...)
}

// TestRedirectKeepsHeadersOnOrigin: configured headers (header= and
// Config.Header) go only to the scheme, host and port of the configured URL.
// Two servers on 127.0.0.1 are two origins: net/http itself would forward
// Authorization between them (same host name) and any other header
// anywhere. The second server must never see a configured header, nor the
// first URL's query credentials in a Referer.
func TestRedirectKeepsHeadersOnOrigin(t *testing.T) {
	t.Parallel()
	other := newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.URL.Path == "/back" { // send the chain home again
			nethttp.Redirect(w, r, r.URL.Query().Get("to"), nethttp.StatusFound)
			return
		}
		fmt.Fprint(w, "from other")
	})
	var home *recorder
	home = newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		switch r.URL.Path {
		case "/away":
			nethttp.Redirect(w, r, other.srv.URL+"/config", nethttp.StatusFound)
		case "/self":
			nethttp.Redirect(w, r, "/config", nethttp.StatusMovedPermanently)
		case "/roundtrip":
			nethttp.Redirect(w, r, other.srv.URL+"/back?to="+url.QueryEscape(home.srv.URL+"/config"), nethttp.StatusFound)
		default:
			fmt.Fprint(w, "from home")
		}
	})
	configured := []string{"Authorization", "X-Api-Key", "X-From-Config"}
	for _, tc := range []struct {
		name      string
		path      string
		header    string // header= option
		data      string // what the read returns
		homeSees  int    // requests to home that carry every configured header
		otherSeen int    // requests that reach other (none may carry one)
	}{
		{name: "cross-origin/Authorization", path: "/away", header: "Authorization: Bearer SECRET-TOKEN", data: "from other", homeSees: 1, otherSeen: 1},
		{name: "cross-origin/custom header", path: "/away", header: "X-Api-Key: SECRET-KEY", data: "from other", homeSees: 1, otherSeen: 1},
		{name: "same origin keeps them", path: "/self", header: "X-Api-Key: SECRET-KEY", data: "from home", homeSees: 2},
		{name: "back home through another host", path: "/roundtrip", header: "Authorization: Bearer SECRET-TOKEN", data: "from home", homeSees: 1, otherSeen: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the recorders are shared.
			home.mu.Lock()
			home.seen = nil
			home.mu.Unlock()
			other.mu.Lock()
			other.seen = nil
			other.mu.Unlock()
			d := openDriver(t, Config{Header: nethttp.Header{"X-From-Config": {"SECRET-CONFIG"}}})
			loc := home.srv.URL + tc.path + "?token=SECRET-QUERY"
			r := d.Read(t.Context(), target(loc, 0, "header="+tc.header))
			require.NoError(t, r.Err)
			require.Equal(t, tc.data, string(r.Data))
			name, _, _ := strings.Cut(tc.header, ":")
			want := map[string]bool{name: true, "X-From-Config": true}
			carrying := 0
			for _, h := range home.headers() {
				all := true
				for k := range want {
					all = all && h.Get(k) != ""
				}
				if all {
					carrying++
				}
			}
			require.Equal(t, tc.homeSees, carrying, "requests to the configured origin with every configured header")
			seen := other.headers()
			require.Len(t, seen, tc.otherSeen)
			for _, h := range seen {
				for _, k := range configured {
					require.Empty(t, h.Values(k), "%s forwarded to another origin", k)
				}
				require.NotContains(t, fmt.Sprint(h), "SECRET", "no credential reaches another origin, not even in Referer")
			}
		})
	}
}

// TestRedirectUserPolicy: a user's CheckRedirect still decides, after the
// configured headers are gone from a cross-origin hop.
func TestRedirectUserPolicy(t *testing.T) {
	t.Parallel()
	other := newRecorder(t, func(w nethttp.ResponseWriter, _ *nethttp.Request) { fmt.Fprint(w, "from other") })
	home := newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, other.srv.URL+"/config", nethttp.StatusFound)
	})
	errStop := errors.New("no redirects here")
	var sawHeader []string
	client := &nethttp.Client{CheckRedirect: func(req *nethttp.Request, _ []*nethttp.Request) error {
		sawHeader = req.Header.Values("X-Api-Key")
		return errStop
	}}
	d := openDriver(t, Config{Client: client})
	r := d.Read(t.Context(), target(home.srv.URL+"/config", 0, "header=X-Api-Key: SECRET-KEY"))
	require.ErrorIs(t, r.Err, errStop)
	require.Empty(t, sawHeader, "the user's policy sees the request as it would be sent")
	require.Empty(t, other.headers(), "the user's policy stopped the redirect")
}

// TestEmptyBody: a value status with an empty body is an error wrapping
// sources.ErrEmpty in every format, text included; the watch reports it
// once, keeps polling, and reports the value again when it comes back.
func TestEmptyBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		code  int
		ctype string
	}{
		{"200 text/plain", 200, "text/plain"},
		{"200 json", 200, "application/json"},
		{"200 no type", 200, ""},
		{"203 yaml", 203, "application/yaml"},
		{"204", 204, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			body := "value"
			srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
				mu.Lock()
				b := body
				mu.Unlock()
				w.Header()["Content-Type"] = nil
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				if b == "" {
					w.WriteHeader(tc.code)
					return
				}
				fmt.Fprint(w, b)
			}))
			t.Cleanup(srv.Close)
			set := func(b string) {
				mu.Lock()
				body = b
				mu.Unlock()
			}
			d := openDriver(t, nil)
			loc := srv.URL + "/motd.txt?token=SECRET"
			tg := target(loc, poll)
			w, last := startWatch(t, d, tg)
			require.NoError(t, last.Err)
			require.Equal(t, "value", string(last.Data))

			set("")
			r := d.Read(t.Context(), target(loc, 0))
			require.ErrorIs(t, r.Err, sources.ErrEmpty)
			require.ErrorContains(t, r.Err, "empty body")
			require.NotContains(t, r.Err.Error(), "SECRET")
			require.Nil(t, r.Data)
			err := w.wantErr(t, sources.ErrEmpty)
			require.Contains(t, err, "empty body")

			set("value")
			w.wantData(t, "value")
		})
	}
}

// TestBadRedirectLocationHidesQuery: a server that redirects with a
// Location net/http cannot parse, keeping the request's query, makes
// net/http quote that Location in its error. The query's values (here an
// api key) are hidden from locations (sources.RedactURL): they must not come
// back through that quote, nor the user information's password.
func TestBadRedirectLocationHidesQuery(t *testing.T) {
	t.Parallel()
	const key, pw = "S3CRETapikey77", "S3CRETpass77"
	home := newRecorder(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Location", "/next%zz?"+r.URL.RawQuery+"&u="+url.QueryEscape(pw))
		w.WriteHeader(nethttp.StatusFound)
	})
	d := openDriver(t, nil)
	loc := strings.Replace(home.srv.URL, "http://", "http://app:"+pw+"@", 1) + "/config?api_key=" + key
	r := d.Read(t.Context(), target(loc, 0))
	require.Error(t, r.Err)
	for _, text := range []string{r.Err.Error(), fmt.Sprintf("%+v", r.Err), fmt.Sprintf("%#v", r.Err)} {
		require.NotContains(t, text, key)
		require.NotContains(t, text, pw)
	}
	require.Contains(t, r.Err.Error(), "Location", "the error still says what went wrong")
}

// TestTransportErrorKeepsAsWhenQueryValueRecurs: a query value that
// recurs in the cause's text (here the port, repeated as ?port=) is
// scrubbed from that text, but errors.As must still reach a cause whose
// own text holds no credential (*net.OpError, as the Error docs promise).
func TestTransportErrorKeepsAsWhenQueryValueRecurs(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // a closed port: connection refused
	_, port, _ := net.SplitHostPort(addr)
	d := openDriver(t, nil)
	r := d.Read(t.Context(), target("http://"+addr+"/c.json?port="+port+"&key=S3CRETkey99", 0))
	require.Error(t, r.Err)
	require.NotContains(t, r.Err.Error(), "S3CRETkey99")
	var op *net.OpError
	require.ErrorAs(t, r.Err, &op, "%v", r.Err)
}
