package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

func TestSchemeRegistered(t *testing.T) {
	t.Parallel()
	fixture.WantScheme(t, "http", fixture.Traits{Options: []string{"header", "maxbytes"}, Poll: true, Timeout: true, Redact: true})
	_, ok := sources.Lookup("https")
	require.False(t, ok, "the location is the full URL: only http= is a scheme")
}

func TestRead(t *testing.T) {
	t.Parallel()
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/json", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("Content-Type", "Application/JSON; charset=utf-8")
		w.Header().Set("ETag", `W/"abc"`)
		fmt.Fprint(w, `{"a":1}`)
	})
	mux.HandleFunc("/lastmod", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		fmt.Fprint(w, "a: 1\n")
	})
	mux.HandleFunc("/plain", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header()["Content-Type"] = nil // no sniffing
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/empty", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.WriteHeader(nethttp.StatusNoContent)
	})
	mux.HandleFunc("/gone", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.WriteHeader(nethttp.StatusGone)
	})
	for _, code := range []int{201, 401, 403, 429, 500, 501, 503} {
		mux.HandleFunc(fmt.Sprintf("/status/%d", code), func(w nethttp.ResponseWriter, _ *nethttp.Request) {
			w.WriteHeader(code)
			fmt.Fprint(w, "secret body never shown")
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)

	t.Run("json with weak etag", func(t *testing.T) {
		t.Parallel()
		r := d.Read(t.Context(), target(srv.URL+"/json", 0))
		require.NoError(t, r.Err)
		require.Equal(t, `{"a":1}`, string(r.Data))
		require.Equal(t, "application/json", r.Format)
		require.Equal(t, `W/"abc"`, r.Version)
	})
	t.Run("last-modified version", func(t *testing.T) {
		t.Parallel()
		r := d.Read(t.Context(), target(srv.URL+"/lastmod", 0))
		require.NoError(t, r.Err)
		require.Equal(t, "Mon, 02 Jan 2006 15:04:05 GMT", r.Version)
	})
	t.Run("hash version without validators", func(t *testing.T) {
		t.Parallel()
		r := d.Read(t.Context(), target(srv.URL+"/plain", 0))
		require.NoError(t, r.Err)
		require.Equal(t, "hello", string(r.Data))
		require.Empty(t, r.Format)
		require.Len(t, r.Version, 16)
	})
	t.Run("204 is an empty value: ErrEmpty", func(t *testing.T) {
		t.Parallel()
		r := d.Read(t.Context(), target(srv.URL+"/empty", 0))
		require.ErrorIs(t, r.Err, sources.ErrEmpty)
		require.Nil(t, r.Data)
	})
	for _, path := range []string{"/missing", "/gone"} {
		t.Run("missing"+path, func(t *testing.T) {
			t.Parallel()
			r := d.Read(t.Context(), target(srv.URL+path, 0))
			require.Equal(t, sources.Result{Missing: true}, r)
		})
	}
	for _, code := range []int{201, 401, 403, 429, 500, 501, 503} {
		t.Run(fmt.Sprintf("status/%d", code), func(t *testing.T) {
			t.Parallel()
			r := d.Read(t.Context(), target(srv.URL+fmt.Sprintf("/status/%d?token=tok123", code), 0))
			require.ErrorIs(t, r.Err, sources.ErrHTTPStatus)
			var se *Error
			require.ErrorAs(t, r.Err, &se)
			require.Equal(t, code, se.Status)
			require.Contains(t, se.URL, "token=xxxxx")
			require.NotContains(t, r.Err.Error(), "tok123")
			require.NotContains(t, r.Err.Error(), "secret body")
			require.Contains(t, r.Err.Error(), fmt.Sprint(code))
			// 401 and 403 are refused credentials, as every driver says them.
			require.Equal(t, code == 401 || code == 403, errors.Is(r.Err, sources.ErrAuth))
			require.Nil(t, r.Data)
		})
	}
}

func TestReadOptions(t *testing.T) {
	t.Parallel()
	res := newResource(t, `{"a":1}`, withETag)
	d := openDriver(t, nil)
	tests := []struct {
		name string
		tg   *sources.Target
		want string // in the error; "" for success
	}{
		{"no scheme", target("config.example/live", 0), "absolute http:// or https:// URL"},
		{"ftp", target("ftp://config.example/live", 0), "absolute http:// or https:// URL"},
		{"no host", target("http:///path", 0), "absolute http:// or https:// URL"},
		{"unparsable", target("http://[::1/x?token=SECRETVALUE", 0), "not a valid URL"},
		{"maxbytes zero", target(res.url(), 0, "maxbytes=0"), "option maxbytes"},
		{"maxbytes word", target(res.url(), 0, "maxbytes=10MB"), "option maxbytes"},
		{"header without colon", target(res.url(), 0, "header=Bearer SECRETVALUE"), `want "Name: value"`},
		{"header bad name", target(res.url(), 0, "header=Auth orization: SECRETVALUE"), "header name"},
		{"header control char", target(res.url(), 0, "header=X-A: SECRETVALUE\r\nX-B: 1"), "control character"},
		{"maxbytes ok", target(res.url(), 0, "maxbytes=7"), ""},
		{"header ok", target(res.url(), 0, "header=X-Test: 1"), ""},
		{"empty header value", target(res.url(), 0, "header=X-Empty:"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := d.Read(t.Context(), tt.tg)
			if tt.want == "" {
				require.NoError(t, r.Err)
				return
			}
			require.ErrorContains(t, r.Err, tt.want)
			require.NotContains(t, r.Err.Error(), "SECRETVALUE")
			_, err := d.Watch(tt.tg, sources.Result{}, func(sources.Result) {})
			require.ErrorContains(t, err, tt.want, "Watch checks the options too")
		})
	}
}

func TestReadHeaders(t *testing.T) {
	t.Parallel()
	res := newResource(t, "x", withNone)
	res.fail(nethttp.StatusUnauthorized)
	d := openDriver(t, Config{Header: nethttp.Header{"X-From-Config": {"cfg"}, "Accept": {"application/json"}}})
	r := d.Read(t.Context(), target(res.url(), 0, "header=authorization:   Bearer SECRETVALUE  "))
	require.ErrorIs(t, r.Err, sources.ErrHTTPStatus)
	require.NotContains(t, r.Err.Error(), "SECRETVALUE")
	h := res.lastHeader()
	require.Equal(t, "Bearer SECRETVALUE", h.Get("Authorization"))
	require.Equal(t, "cfg", h.Get("X-From-Config"))
	require.Equal(t, "application/json", h.Get("Accept"), "Config.Header overrides the default Accept")
	require.Empty(t, h.Get("If-None-Match"), "Read is unconditional")
	require.Empty(t, h.Get("If-Modified-Since"))

	// The tag's header wins over Config.Header; the default Accept is sent.
	d2 := openDriver(t, &Config{Header: nethttp.Header{"X-From-Config": {"cfg"}}})
	_ = d2.Read(t.Context(), target(res.url(), 0, "header=X-From-Config: tag"))
	h = res.lastHeader()
	require.Equal(t, []string{"tag"}, h.Values("X-From-Config"))
	require.Contains(t, h.Get("Accept"), "application/json")
}

func TestReadBodyLimit(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 100)
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/length", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("Content-Length", "100")
		fmt.Fprint(w, big)
	})
	mux.HandleFunc("/chunked", func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		for i := range 10 {
			fmt.Fprint(w, big[i*10:(i+1)*10])
			w.(nethttp.Flusher).Flush() // no Content-Length: chunked
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)
	for _, path := range []string{"/length", "/chunked"} {
		t.Run(path[1:], func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				max string
				ok  bool
			}{{"99", false}, {"100", true}, {"1", false}, {"101", true}} {
				r := d.Read(t.Context(), target(srv.URL+path, 0, "maxbytes="+tt.max))
				if tt.ok {
					require.NoError(t, r.Err, "maxbytes=%s", tt.max)
					require.Equal(t, big, string(r.Data))
					continue
				}
				require.ErrorIs(t, r.Err, sources.ErrTooLarge, "maxbytes=%s", tt.max)
				require.ErrorContains(t, r.Err, "maxbytes="+tt.max)
				require.Nil(t, r.Data, "never truncated into a value")
			}
		})
	}
	t.Run("default limit", func(t *testing.T) {
		t.Parallel()
		r := d.Read(t.Context(), target(srv.URL+"/length", 0))
		require.NoError(t, r.Err)
	})
}

// slowServer sends headers and a few bytes, then stalls until the client
// goes away or the test ends. started is signaled once per request.
func slowServer(tb testing.TB) (srv *httptest.Server, started chan struct{}) {
	tb.Helper()
	started = make(chan struct{}, 16)
	quit := make(chan struct{})
	srv = httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Length", "1000")
		fmt.Fprint(w, `{"a":`)
		w.(nethttp.Flusher).Flush()
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	tb.Cleanup(func() {
		close(quit)
		srv.Close()
	})
	return srv, started
}

func TestReadSlowBody(t *testing.T) {
	t.Parallel()
	srv, _ := slowServer(t)
	d := openDriver(t, nil)
	tg := target(srv.URL+"/slow?sig=SECRETSIG", 0)
	tg.Timeout = 100 * time.Millisecond
	start := time.Now()
	r := d.Read(t.Context(), tg)
	elapsed := time.Since(start)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.ErrorContains(t, r.Err, "timeout=100ms")
	require.NotContains(t, r.Err.Error(), "SECRETSIG")
	require.Less(t, elapsed, 2*time.Second)
	require.GreaterOrEqual(t, elapsed, 100*time.Millisecond)
}

func TestReadSlowHeaders(t *testing.T) {
	t.Parallel()
	quit := make(chan struct{})
	srv := httptest.NewServer(nethttp.HandlerFunc(func(_ nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	t.Cleanup(func() { close(quit); srv.Close() })
	d := openDriver(t, nil)
	tg := target(srv.URL+"/x?token=SECRETTOKEN", 0)
	tg.Timeout = 50 * time.Millisecond
	r := d.Read(t.Context(), tg)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.ErrorIs(t, r.Err, sources.ErrUnreachable, "no answer in time")
	require.NotContains(t, r.Err.Error(), "SECRETTOKEN")
	require.Contains(t, r.Err.Error(), "token=xxxxx")

	// The caller's context bounds Read too.
	tg.Timeout = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	r = d.Read(ctx, tg)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)

	// A canceled Read is the caller's doing, not the server's.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	r = d.Read(ctx, tg)
	require.ErrorIs(t, r.Err, context.Canceled)
	require.NotErrorIs(t, r.Err, sources.ErrUnreachable)
}

func TestReadTransportError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nethttp.NotFoundHandler())
	u := srv.URL
	srv.Close() // nothing listens there now
	d := openDriver(t, nil)
	r := d.Read(t.Context(), target(strings.Replace(u, "http://", "http://user:PASSWORD@", 1)+"/x?api_key=SECRETKEY&env=prod", 0))
	require.ErrorIs(t, r.Err, sources.ErrUnreachable)
	var op *net.OpError
	require.ErrorAs(t, r.Err, &op, "the cause stays reachable")
	msg := r.Err.Error()
	require.NotContains(t, msg, "SECRETKEY")
	require.NotContains(t, msg, "PASSWORD")
	require.Contains(t, msg, "api_key=xxxxx&env=xxxxx")
	require.Contains(t, msg, "//xxxxx@")
}

func TestReadRedirect(t *testing.T) {
	t.Parallel()
	mux := nethttp.NewServeMux()
	mux.Handle("/old", nethttp.RedirectHandler("/new", nethttp.StatusFound))
	mux.HandleFunc("/new", func(w nethttp.ResponseWriter, _ *nethttp.Request) { fmt.Fprint(w, "moved") })
	mux.HandleFunc("/loop", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, "/loop?token=LOOPSECRET", nethttp.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)

	r := d.Read(t.Context(), target(srv.URL+"/old", 0))
	require.NoError(t, r.Err)
	require.Equal(t, "moved", string(r.Data))

	r = d.Read(t.Context(), target(srv.URL+"/loop", 0))
	require.ErrorContains(t, r.Err, "stopped after 10 redirects")
	require.NotContains(t, r.Err.Error(), "LOOPSECRET")
}

func TestSourceConfig(t *testing.T) {
	t.Parallel()
	client := &nethttp.Client{Timeout: 7 * time.Second, Jar: nopJar{}}
	for _, tt := range []struct {
		name  string
		value any
		own   bool
	}{
		{"nil", nil, true},
		{"Config", Config{Client: client}, false},
		{"*Config", &Config{Client: client}, false},
		{"nil *Config", (*Config)(nil), true},
		{"*http.Client", client, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := openDriver(t, tt.value)
			if tt.own {
				require.NotNil(t, d.own)
				require.NotSame(t, nethttp.DefaultClient, d.client)
				require.NotSame(t, nethttp.DefaultTransport, d.client.Transport)
			} else {
				// A copy, with the user's transport and settings, whose
				// CheckRedirect keeps configured headers on their origin.
				require.NotSame(t, client, d.client)
				require.Equal(t, client.Jar, d.client.Jar)
				require.Equal(t, client.Timeout, d.client.Timeout)
				require.Nil(t, client.CheckRedirect, "the user's client is not modified")
				require.NotNil(t, d.client.CheckRedirect)
				require.Nil(t, d.own)
			}
		})
	}
}

func TestSourceConfigOfUnknownType(t *testing.T) {
	t.Parallel()
	s, ok := sources.Lookup("http")
	require.True(t, ok)
	_, err := s.Open(sources.Config{Logger: slog.New(slog.DiscardHandler), Value: "a string"})
	require.ErrorContains(t, err, "source config of type string")
}

func TestTLSCustomCA(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("ETag", `"1"`)
		fmt.Fprint(w, "over tls")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tg := target(srv.URL+"/x?token=TLSSECRET", 20*time.Millisecond)

	// The default client does not trust the test CA.
	r := openDriver(t, nil).Read(t.Context(), tg)
	require.Error(t, r.Err)
	require.ErrorContains(t, r.Err, "certificate")
	require.NotContains(t, r.Err.Error(), "TLSSECRET")

	// srv.Client() trusts it: hand it over with Config.
	d := openDriver(t, Config{Client: srv.Client()})
	w, last := startWatch(t, d, tg)
	require.NoError(t, last.Err)
	require.Equal(t, "over tls", string(last.Data))
	w.wantQuiet(t, 100*time.Millisecond)
}

func TestReadAfterClose(t *testing.T) {
	t.Parallel()
	res := newResource(t, "x", withNone)
	s, _ := sources.Lookup("http")
	d, err := s.Open(sources.Config{})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "idempotent")
	r := d.Read(t.Context(), target(res.url(), 0))
	require.True(t, errors.Is(r.Err, context.Canceled), "a closed driver's Read fails at once: %v", r.Err)
	_, err = d.Watch(target(res.url(), 0), sources.Result{}, func(sources.Result) {})
	require.ErrorIs(t, err, sources.ErrClosed)
}

// header=Host: sets the request's Host, which net/http takes from
// Request.Host rather than from the header map.
func TestReadHostHeader(t *testing.T) {
	t.Parallel()
	hosts := make(chan string, 1)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		hosts <- r.Host
		fmt.Fprint(w, "ok") // an empty body would be ErrEmpty
	}))
	t.Cleanup(srv.Close)
	r := openDriver(t, nil).Read(t.Context(), target(srv.URL, 0, "header=host: config.example"))
	require.NoError(t, r.Err)
	require.Equal(t, "config.example", <-hosts)
}

// TestReadCanceledMidway: a Read the caller cancels while the body or the
// headers are on their way is context.Canceled, never ErrUnreachable nor
// a timeout; a timeout= that fires mid-body is DeadlineExceeded and
// ErrUnreachable, never Canceled.
func TestReadCanceledMidway(t *testing.T) {
	t.Parallel()
	srv, started := slowServer(t)
	d := openDriver(t, nil)
	for _, withCause := range []bool{false, true} {
		ctx, cancel := context.WithCancelCause(t.Context())
		go func() {
			<-started
			if withCause {
				cancel(errors.New("shutting down"))
			} else {
				cancel(nil)
			}
		}()
		r := d.Read(ctx, target(srv.URL+"/slow", 0))
		require.ErrorIs(t, r.Err, context.Canceled, "cause %t: %v", withCause, r.Err)
		require.NotErrorIs(t, r.Err, sources.ErrUnreachable, "cause %t", withCause)
		require.NotErrorIs(t, r.Err, context.DeadlineExceeded, "cause %t", withCause)
		require.NotContains(t, r.Err.Error(), "timeout=", "cause %t", withCause)
	}
	tg := target(srv.URL+"/slow", 0)
	tg.Timeout = 50 * time.Millisecond
	r := d.Read(t.Context(), tg)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.ErrorIs(t, r.Err, sources.ErrUnreachable)
	require.NotErrorIs(t, r.Err, context.Canceled)
}

// TestPollTimeoutIsDeadline: a poll cut short by timeout= is a timeout
// (DeadlineExceeded, ErrUnreachable), not a cancellation, whether the
// headers or the body were late.
func TestPollTimeoutIsDeadline(t *testing.T) {
	t.Parallel()
	srv, _ := slowServer(t)
	quit := make(chan struct{})
	hdr := httptest.NewServer(nethttp.HandlerFunc(func(_ nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	}))
	t.Cleanup(func() { close(quit); hdr.Close() })
	d := openDriver(t, nil)
	for _, u := range []string{srv.URL + "/body", hdr.URL + "/headers"} {
		tg := target(u, time.Minute)
		tg.Timeout = 50 * time.Millisecond
		var got []sources.Result
		w := newTestPoller(d, mustSpec(t, tg), sources.Result{}, func(r sources.Result) { got = append(got, r) })
		w.poll()
		w.dropRequest()
		require.Len(t, got, 1)
		require.ErrorIs(t, got[0].Err, context.DeadlineExceeded, "%s: %v", u, got[0].Err)
		require.ErrorIs(t, got[0].Err, sources.ErrUnreachable, u)
		require.NotErrorIs(t, got[0].Err, context.Canceled, u)
		require.ErrorContains(t, got[0].Err, "timeout=50ms", u)
	}
}

// TestCallerDeadlineNoTimeoutHint: when the caller's own deadline ends a
// Read, the error must not tell the user to raise timeout=, which did not
// fire.
func TestCallerDeadlineNoTimeoutHint(t *testing.T) {
	t.Parallel()
	srv, _ := slowServer(t)
	d := openDriver(t, nil)
	tg := target(srv.URL+"/slow", 0)
	tg.Timeout = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	r := d.Read(ctx, tg)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.NotContains(t, r.Err.Error(), "timeout=1m0s")
}
