package sources_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

func TestDriverLogger(t *testing.T) {
	t.Parallel()
	if sources.DriverLogger(sources.Config{}) == nil {
		t.Fatal("a nil Logger must become a discarding logger, not nil")
	}
}

// clientConfig and client stand for a scheme's Config and its client type.
type (
	clientConfig struct {
		Client *client
		Wait   int
	}
	client struct{ name string }
)

func TestClientConfig(t *testing.T) {
	t.Parallel()
	cl := &client{name: "c"}
	withClient := func(c *client) clientConfig { return clientConfig{Client: c} }
	tests := []struct {
		name string
		v    any
		want clientConfig
	}{
		{"nil", nil, clientConfig{}},
		{"value", clientConfig{Wait: 3}, clientConfig{Wait: 3}},
		{"pointer", &clientConfig{Client: cl, Wait: 4}, clientConfig{Client: cl, Wait: 4}},
		{"pointer/nil", (*clientConfig)(nil), clientConfig{}},
		{"client", cl, clientConfig{Client: cl}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sources.ClientConfig("mem", tt.v, withClient)
			if err != nil || got != tt.want {
				t.Fatalf("ClientConfig(%v) = %+v, %v; want %+v, nil", tt.v, got, err, tt.want)
			}
		})
	}
	// A value of another type is an error naming the scheme, the type given
	// and the two accepted.
	_, err := sources.ClientConfig("mem", "addr", withClient)
	const want = "mem: source config of type string; want *sources_test.client or sources_test.clientConfig"
	if err == nil || err.Error() != want {
		t.Fatalf("ClientConfig(string) error = %v; want %q", err, want)
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "short", 10, "short"},
		{"at-limit", "0123456789", 10, "0123456789"},
		{"over", "0123456789x", 10, "0123456789..."},
		{"utf8/not-split", "abcé", 4, "abc..."}, // é is two bytes: a cut inside it drops it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sources.Clip(tt.in, tt.n); got != tt.want {
				t.Fatalf("Clip(%q, %d) = %q; want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

// TestServerText: a server's message is trimmed and cut to MaxServerText
// bytes, the cut marked.
func TestServerText(t *testing.T) {
	t.Parallel()
	if got := sources.ServerText("  No cluster leader\n"); got != "No cluster leader" {
		t.Errorf("ServerText = %q; want the message trimmed", got)
	}
	long := strings.Repeat("x", 1000)
	if got := sources.ServerText(long); got != long[:sources.MaxServerText]+"..." {
		t.Errorf("ServerText of 1000 bytes = %d bytes; want %d and \"...\"", len(got), sources.MaxServerText)
	}
	// A secret across the cut goes whole, before the cut: no part is left.
	const secret = "s3cret-0123456789"
	msg := strings.Repeat("x", sources.MaxServerText-8) + secret + " tail"
	if got := sources.ServerText(msg, "", secret); got != msg[:sources.MaxServerText-8]+"<token>"+" tail"[:1]+"..." {
		t.Errorf("ServerText with a secret across the cut = %q; want the secret replaced, then the cut", got[sources.MaxServerText-16:])
	}
}

// TestTransientStatus: 429 and 5xx but 501 may clear up by themselves;
// every other status needs someone to act.
// ServerError cuts and scrubs an error's text and keeps errors.Is.
func TestServerError(t *testing.T) {
	t.Parallel()
	require.NoError(t, sources.ServerError(nil, "s3cret-token"))
	short := fmt.Errorf("%w: fine", context.DeadlineExceeded)
	require.Same(t, short, sources.ServerError(short, "s3cret-token"), "nothing to cut or scrub: err itself")
	long := fmt.Errorf("%w: header %q", context.DeadlineExceeded, "s3cret-token"+strings.Repeat("x", 4<<10))
	err := sources.ServerError(long, "s3cret-token")
	require.NotContains(t, err.Error(), "s3cret-token")
	require.LessOrEqual(t, len(err.Error()), sources.MaxServerText+len("..."))
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestTransientStatus(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{
		429: true, 500: true, 502: true, 503: true, 504: true,
		200: false, 301: false, 400: false, 401: false, 403: false, 404: false, 412: false, 501: false,
	} {
		if got := sources.TransientStatus(code); got != want {
			t.Errorf("TransientStatus(%d) = %v; want %v", code, got, want)
		}
	}
}

type partsError struct{ token string }

func (e *partsError) Error() string { return "bad token " + e.token }

// TestScrub: each secret leaves the text, every error the original matches
// is still matched with errors.Is (sentinels, context errors), and
// errors.As cannot reach a part that holds a secret.
func TestScrub(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-token"
	errDenied := errors.New("denied")
	errOther := errors.New("other")

	plain := fmt.Errorf("%w: no token here", errDenied)
	for name, err := range map[string]error{"nil": nil, "absent": plain} {
		if got := sources.Scrub(err, token); got != err { //nolint:errorlint // identity is the point
			t.Errorf("%s: Scrub changed an error without the token: %v", name, got)
		}
	}
	if got := sources.Scrub(plain, "", ""); got != plain { //nolint:errorlint // identity is the point
		t.Errorf("empty secrets changed the error: %v", got)
	}

	err := fmt.Errorf("%w: %w: %w", errDenied, context.Canceled, &partsError{token: token})
	got := sources.Scrub(err, token)
	if strings.Contains(got.Error(), token) || !strings.Contains(got.Error(), "bad token <token>") {
		t.Fatalf("Scrub text = %q; want the token replaced by <token>", got)
	}
	if !errors.Is(got, errDenied) || !errors.Is(got, context.Canceled) {
		t.Errorf("Scrub lost an error the original wraps: %v", got)
	}
	if errors.Is(got, errOther) || errors.Is(got, context.DeadlineExceeded) {
		t.Error("Scrub matches an error the original does not wrap")
	}
	var pe *partsError
	if errors.As(got, &pe) {
		t.Error("errors.As reaches a part of the original that holds the token")
	}

	// Several secrets, one inside another: each goes whole, whatever their
	// order.
	const user, password = "app", "app-password"
	err = fmt.Errorf("login %s with %s refused", user, password)
	for _, secrets := range [][]string{{user, password}, {password, user}} {
		if got := sources.Scrub(err, secrets...).Error(); got != "login <token> with <token> refused" {
			t.Errorf("Scrub(%q) = %q; want both secrets replaced whole", secrets, got)
		}
	}
}

// TestUnreachable: what a request's failure means decides the class. A
// server that gave no answer is ErrUnreachable, its text and errors.As
// kept; a cancellation, a refused certificate, a TLS alert, a redirect
// policy or a malformed answer are not.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	inURL := func(err error) error { return &url.Error{Op: "Get", URL: "http://127.0.0.1:1/x", Err: err} }
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", inURL(refused), true},
		{"connection reset", inURL(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), true},
		{"timeout", inURL(context.DeadlineExceeded), true},
		{"client timeout", inURL(timeoutErr{}), true},
		{"cut answer", inURL(io.ErrUnexpectedEOF), true},
		{"closed before an answer", inURL(io.EOF), true},
		{"canceled", inURL(context.Canceled), false},
		{"TLS alert", inURL(&net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}), false},
		{"certificate", inURL(&tls.CertificateVerificationError{Err: errors.New("x509: unknown authority")}), false},
		{"redirects", inURL(errors.New("stopped after 10 redirects")), false},
		{"malformed", inURL(errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "SSH-2.0"`)), false},
		{"already", fmt.Errorf("%w: x", sources.ErrUnreachable), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := sources.Unreachable(tt.err)
			require.Equal(t, tt.want, errors.Is(got, sources.ErrUnreachable))
			require.Equal(t, tt.err.Error(), got.Error(), "the text is the cause's")
			require.ErrorIs(t, got, tt.err)
		})
	}
	var op *net.OpError
	require.ErrorAs(t, sources.Unreachable(inURL(refused)), &op)
	require.NoError(t, sources.Unreachable(nil))

	require.ErrorIs(t, sources.ErrDisconnected, sources.ErrUnreachable, "a lost connection is a server that no longer answers")
	require.NotErrorIs(t, sources.ErrUnreachable, sources.ErrDisconnected)
	require.Equal(t, "connection lost", sources.ErrDisconnected.Error())
}

// timeoutErr is a net.Error that timed out, as net/http's client timeout.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "Client.Timeout exceeded" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// ContextError: the request's error once ctx ended becomes ctx's own
// error; a failure of the request's own, or one while ctx lives, stays.
func TestContextError(t *testing.T) {
	t.Parallel()
	cause := errors.New("shutting down")
	canceled, cancel := context.WithCancelCause(t.Context())
	cancel(cause)
	plain, cancelPlain := context.WithCancel(t.Context())
	cancelPlain()
	timedOut, cancelT := context.WithTimeout(t.Context(), 0)
	defer cancelT()
	refused := errors.New("connection refused")
	ue := func(err error) error { return &url.Error{Op: "Get", URL: "http://h/x", Err: err} }
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want error
	}{
		{"live context", t.Context(), ue(context.Canceled), context.Canceled},
		{"caller's cause", canceled, ue(cause), context.Canceled},
		{"plain cancel", plain, ue(context.Canceled), context.Canceled},
		{"timeout seen as canceled", timedOut, ue(context.Canceled), context.DeadlineExceeded},
		{"own failure", canceled, ue(refused), refused},
		{"nil", canceled, nil, nil},
	} {
		got := sources.ContextError(tc.ctx, tc.err)
		if tc.want == nil {
			require.NoError(t, got, tc.name)
			continue
		}
		require.ErrorIs(t, got, tc.want, tc.name)
		if tc.err != nil && !errors.Is(tc.want, refused) {
			var u *url.Error
			require.ErrorAs(t, got, &u, "%s: the *url.Error stays", tc.name)
		}
	}
}
