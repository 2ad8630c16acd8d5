package consul_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/consul"
)

// endless answers like an agent whose body never ends (see
// fixture.WriteEndless).
func endless(w http.ResponseWriter, r *http.Request, status int, prefix string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Consul-Index", "7")
	fixture.WriteEndless(w, r, status, prefix)
}

// answer writes body as an agent's KV answer: JSON, at index 7.
func answer(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Consul-Index", "7")
	_, _ = io.WriteString(w, body)
}

// fakeAgent serves h as the agent (token as the ACL token) until the end
// of the test.
func fakeAgent(t *testing.T, token string, h http.HandlerFunc) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	agentAt(t, srv.Listener.Addr().String(), token)
}

// readPrefixInChild serves body as the answer of every request and, in a
// child process under a 512 MiB heap watchdog and timeout, reads the
// prefix app/: the Read must succeed within the limits, its document
// holding want.
func readPrefixInChild(t *testing.T, body string, timeout time.Duration, want string) {
	t.Helper()
	fakeAgent(t, "", func(w http.ResponseWriter, _ *http.Request) { answer(w, body) })
	res := childtest.Run(t, childtest.Limits{Timeout: timeout, Heap: 512 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		r := openDriver(t, consul.Config{}).Read(t.Context(), target("app/", map[string]string{"prefix": "true"}))
		require.NoError(t, r.Err)
		require.Contains(t, string(r.Data), want)
	})
	require.True(t, res.OK(), "%s", res)
}

// TestHostileAgentBodyIsBounded: an agent (or whatever answers at its
// address) that sends an endless answer must produce an error naming the
// key, once Config.MaxBytes is read; never an unbounded allocation. With
// 200 the error wraps sources.ErrTooLarge; with an error status it is that
// status (the api client ignores the cut-off error of the error text),
// with the text clipped. Runs in a child process under a heap watchdog:
// unbounded, the child dies.
func TestHostileAgentBodyIsBounded(t *testing.T) {
	fakeAgent(t, "", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/err") {
			endless(w, r, http.StatusInternalServerError, "")
			return
		}
		endless(w, r, http.StatusOK, `[{"Key":"big","Value":"`)
	})

	res := childtest.Run(t, childtest.Limits{Timeout: 30 * time.Second, Heap: 256 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		d := openDriver(t, consul.Config{MaxBytes: 1 << 20})
		for key, want := range map[string]error{"big": sources.ErrTooLarge, "big/err": sources.ErrHTTPStatus} {
			r := d.Read(t.Context(), target(key, nil))
			require.ErrorIs(t, r.Err, want, "key %s", key)
			var e *consul.Error
			require.True(t, errors.As(r.Err, &e), "key %s: %T", key, r.Err)
			require.Equal(t, key, e.Key)
			require.Less(t, len(r.Err.Error()), 2<<10, "the error text is clipped")
		}
	})
	require.True(t, res.OK(), "%s", res)
}

// TestUnixSocketAgentBodyIsBounded: with CONSUL_HTTP_ADDR=unix://path the
// api client builds a client of its own for the socket, in place of the
// one the driver gave it: Config.MaxBytes must bound that one too. The
// agent here answers a valid KV answer of about 3 MiB; MaxBytes is 1 MiB.
func TestUnixSocketAgentBodyIsBounded(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "consul.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	value := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("A"), 3<<20))
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		answer(w, `[{"Key":"big","Value":"`+value+`"}]`)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	agentAt(t, "unix://"+sock, "")

	d := openDriver(t, consul.Config{MaxBytes: 1 << 20})
	r := d.Read(t.Context(), target("big", nil))
	require.ErrorIs(t, r.Err, sources.ErrTooLarge, "data %d bytes", len(r.Data))
}

// TestRedirectKeepsToken: whatever answers at the agent's address may
// redirect the request elsewhere. net/http strips only Authorization and
// cookies on a redirect to another host; the X-Consul-Token header would go
// along. The driver's own client follows no redirect: Consul's KV API
// sends none, so a redirect is an error, and the token stays home.
func TestRedirectKeepsToken(t *testing.T) {
	const token = "6b3f1e0a-91c2-4d8e-a7f5-2c9d0e4b1a77"
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Consul-Token") != "" {
			leaked.Store(true)
		}
		answer(w, `[{"Key":"app/x","Value":"b3RoZXI="}]`)
	}))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) // another host name
	fakeAgent(t, token, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	})

	d := openDriver(t, consul.Config{})
	r := d.Read(t.Context(), target("app/x", nil))
	require.False(t, leaked.Load(), "the token went to the redirect's host")
	require.ErrorIs(t, r.Err, sources.ErrHTTPStatus)
	require.NotContains(t, r.Err.Error(), token)
}

// echoHeaders answers 403 with every request header, and the password of a
// basic auth, in the body: a hostile agent or proxy that echoes
// credentials into an error text.
func echoHeaders(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	for name, vs := range r.Header {
		b.WriteString(name + ": " + strings.Join(vs, ",") + "\n")
	}
	if u, p, ok := r.BasicAuth(); ok {
		b.WriteString("user " + u + " password " + p + "\n")
	}
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, b.String())
}

// TestErrorsHideCredentials: the ACL token is not the only credential a
// request carries: CONSUL_HTTP_AUTH sends a basic auth password, and a
// client passed in may carry headers of its own (an API key for a proxy).
// None may come back in an error text, whatever the server echoes.
func TestErrorsHideCredentials(t *testing.T) {
	const (
		token    = "6b3f1e0a-91c2-4d8e-a7f5-2c9d0e4b1a77"
		password = "pa55-w0rd-basic-auth"
		apiKey   = "k3y-for-the-proxy-0123456789"
	)
	fakeAgent(t, token, echoHeaders)
	t.Setenv("CONSUL_HTTP_AUTH", "someone:"+password)

	check := func(t *testing.T, d sources.Driver) {
		t.Helper()
		r := d.Read(t.Context(), target("app/x", nil))
		require.ErrorIs(t, r.Err, sources.ErrAuth)
		for _, secret := range []string{token, password, apiKey, base64.StdEncoding.EncodeToString([]byte("someone:" + password))} {
			require.False(t, fixture.LeaksSecret(r.Err.Error(), secret), "leaks %q: %s", secret, r.Err)
		}
	}
	t.Run("own client", func(t *testing.T) { check(t, openDriver(t, consul.Config{})) })
	t.Run("client passed in", func(t *testing.T) {
		cfg := api.DefaultConfig()
		cfg.Token = ""
		cfg.HttpAuth = nil
		client, err := api.NewClient(cfg)
		require.NoError(t, err)
		client.AddHeader("X-Api-Key", apiKey)
		check(t, openDriver(t, consul.Config{Client: client}))
	})
}

// TestTransportErrorIsClipped: net/http quotes a redirect's Location that
// does not parse in its error, and a response header may be megabytes: the
// error text must be cut as a server's body is.
func TestTransportErrorIsClipped(t *testing.T) {
	long := "/%zz" + strings.Repeat("A", 200<<10)
	fakeAgent(t, "", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", long)
		w.WriteHeader(http.StatusMovedPermanently)
	})

	r := openDriver(t, consul.Config{}).Read(t.Context(), target("app/x", nil))
	require.Error(t, r.Err)
	require.Less(t, len(r.Err.Error()), 2<<10, "the error text is clipped: %d bytes", len(r.Err.Error()))
}

// TestHostilePrefixDepth: a prefix answer may hold a key of a million
// "a/" segments (2 MB, well under MaxBytes); nesting one object per
// segment overflowed the goroutine stack while encoding the document, a
// fatal error no recover catches, which killed the process. Runs in a
// child process.
func TestHostilePrefixDepth(t *testing.T) {
	key := "app/" + strings.Repeat("a/", 1<<20) + "b"
	readPrefixInChild(t, `[{"Key":"`+key+`","Value":"eA=="}]`, 30*time.Second, `"x"`) // the value is kept
}

// TestHostilePrefixFanOut: a prefix answer of many keys, each 99 levels
// deep, holds about 2 bytes of body per level; one JSON object per level
// cost some 300 bytes of heap each, so that 8 MB of answer (under the 32
// MiB MaxBytes) took gigabytes. The document must cost about what the
// answer does. Runs in a child process under a heap watchdog.
func TestHostilePrefixFanOut(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	deep := strings.Repeat("a/", 98) + "z"
	for i := 0; b.Len() < 8<<20; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"Key":"app/%d/%s","Value":"eA=="}`, i, deep)
	}
	b.WriteString("]")
	readPrefixInChild(t, b.String(), 60*time.Second, `{"z":"x"}`)
}

// TestMalformedAnswer: a 200 that is not Consul's JSON (a proxy's or a
// captive portal's page, a value that is not base64) was an answer, not a
// lost request: it is consul.ErrMalformed, not sources.ErrUnreachable,
// and its text is cut.
func TestMalformedAnswer(t *testing.T) {
	bodies := map[string]string{
		"html":   "<html>" + strings.Repeat("portal ", 1000) + "</html>",
		"base64": `[{"Key":"app/x","Value":"!!!"}]`,
		"type":   `{"Key":"app/x"}`,
	}
	fakeAgent(t, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Consul-Index", "7")
		_, _ = io.WriteString(w, bodies[strings.TrimPrefix(r.URL.Path, "/v1/kv/")])
	})
	d := openDriver(t, consul.Config{})
	for key := range bodies {
		r := d.Read(t.Context(), target(key, nil))
		require.ErrorIs(t, r.Err, consul.ErrMalformed, "%s", key)
		require.NotErrorIs(t, r.Err, sources.ErrUnreachable, "%s", key)
		require.Less(t, len(r.Err.Error()), 2<<10)
	}
}
