package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultTimeout bounds the opening handshake, and the wait for a pong,
	// when the tag has no timeout=; a Read also waits at most this long for
	// the first message.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBytes is the largest message accepted when the tag has no
	// maxbytes=: 16 MiB, as for http=.
	DefaultMaxBytes = 16 << 20
	// DefaultPing is the keepalive interval when the tag has no ping=.
	DefaultPing = 30 * time.Second
	// MinPing is the shortest ping= accepted.
	MinPing = 10 * time.Millisecond
	// DefaultMinBackoff is the first wait before reconnecting.
	DefaultMinBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the wait between failed connects.
	DefaultMaxBackoff = 5 * time.Minute
	// permanentBase is the first wait after a failure that needs a human.
	permanentBase = 10 * time.Second
)

// Sentinel errors wrapped by [*Error]. Match them with errors.Is.
var (
	// ErrEnded: the connection closed before its first message: a Read
	// of it, or a watch's connect that a server accepted and closed in an
	// orderly way without sending the document (a failed attempt,
	// retried on the fast backoff).
	ErrEnded = errors.New("connection closed before a message")
	// ErrNoPong: no pong came within timeout= of a ping; the connection is
	// dropped and opened again. It wraps [sources.ErrDisconnected].
	ErrNoPong = fmt.Errorf("%w: no pong to a keepalive ping", sources.ErrDisconnected)
)

// Error reports a failed WebSocket source: a handshake that failed or was
// refused, a message over maxbytes= ([sources.ErrTooLarge]) or a
// connection that broke ([sources.ErrDisconnected]). It names the URL
// redacted and never holds a message nor a header value.
type Error struct {
	// StreamError holds the URL (redacted), the HTTP status (or 0) and
	// the cause; its text starts with "ws <url>: ".
	sources.StreamError
}

// Config is the value to hand the ws scheme with
// livebind.WithSourceConfig("ws", ws.Config{...}). A bare *http.Client is
// accepted too.
type Config struct {
	// Client performs the handshake: set it for TLS roots or client
	// certificates, or a proxy. Its Timeout is not used (timeout= bounds the
	// handshake); a redirect to another origin is refused. Nil means a
	// client with a clone of net/http.DefaultTransport.
	Client *nethttp.Client
	// Header is sent with the handshake. A header= option of a tag
	// overrides the header of the same name.
	Header nethttp.Header
	// Origin, when set, is sent as the Origin header.
	Origin string
	// Subprotocols are offered in Sec-WebSocket-Protocol.
	Subprotocols []string
	// MinBackoff is the first wait before reconnecting, drawn from
	// [MinBackoff/2, MinBackoff); zero means [DefaultMinBackoff].
	MinBackoff time.Duration
	// MaxBackoff caps the wait between failed connects; zero means
	// [DefaultMaxBackoff].
	MaxBackoff time.Duration
}

// String describes c with its header values hidden (see
// [sources.HiddenHeader]): a Config printed or logged shows no token.
func (c Config) String() string {
	return fmt.Sprintf("ws.Config{Client: %t, Header: %s, Origin: %q, Subprotocols: %q, MinBackoff: %v, MaxBackoff: %v}", c.Client != nil, sources.HiddenHeader(c.Header), c.Origin, c.Subprotocols, c.MinBackoff, c.MaxBackoff)
}

// GoString is String, so that %#v hides the header values too.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON is String as a JSON string: slog's JSON handler marshals a
// struct that holds a Config with encoding/json, which would show it all.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

func init() {
	sources.Register(sources.StreamScheme("ws", []string{"ping"}, parseSpec, open))
}

// spec is a target's options, checked.
type spec struct {
	sources.StreamSpec
	raw  string        // the location as written, dialed; never shown
	ping time.Duration // 0: no keepalive
}

func parseSpec(t *sources.Target) (*spec, error) {
	c, err := sources.ParseStreamSpec(t, "ws", "ws", "wss", DefaultMaxBytes, DefaultTimeout)
	if err != nil {
		return nil, err
	}
	s := &spec{StreamSpec: c, raw: t.Location, ping: DefaultPing}
	if v, ok := t.Param("ping"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d != 0 && d < MinPing {
			return nil, errors.New("ws " + s.Loc + ": option ping: want a duration of at least " + MinPing.String() + ", or 0 for no keepalive, got " + strconv.Quote(sources.Clip(v, 32)))
		}
		s.ping = d
	}
	return s, nil
}

// Ended implements [sources.StreamTarget]: sources.FollowStream and
// sources.ReadStream report it for a connection closed before its first
// message.
func (s *spec) Ended() error { return s.newError(0, ErrEnded) }

// late is the error of a watch's connection whose first message did not
// come within timeout of the connect (sources.StreamDriver.Late).
func (s *spec) late(timeout time.Duration) error {
	return s.newError(0, fmt.Errorf("%w: no message within timeout=%v of the connect", sources.ErrUnreachable, timeout))
}

// newError returns an *Error for the stream of s.
func (s *spec) newError(status int, err error) *Error {
	return &Error{sources.StreamError{Scheme: "ws", URL: s.Loc, Status: status, Err: err}}
}

// driver is the ws scheme's driver for one Binding: sources.StreamDriver
// does its Read, Watch and Close.
type driver struct {
	sources.StreamDriver[watchKey, *spec]
	opts websocket.DialOptions // shared by every dial; HTTPHeader is copied per dial
}

// watchKey is what fields share one connection by: the URL, header=,
// maxbytes= and ping=.
type watchKey struct {
	url, header string
	maxBytes    int
	ping        time.Duration
}

func open(cfg sources.Config) (sources.Driver, error) {
	c, err := sources.ClientConfig("ws", cfg.Value, func(c *nethttp.Client) Config { return Config{Client: c} })
	if err != nil {
		return nil, err
	}
	d := &driver{}
	d.Retry = sources.NewRetry(sources.OrDefault(c.MinBackoff, DefaultMinBackoff), permanentBase, sources.OrDefault(c.MaxBackoff, DefaultMaxBackoff))
	d.Parse, d.Key, d.Dial, d.Late = parseSpec, keyOf, d.dialer, (*spec).late
	client, own := sources.StreamClient(c.Client)
	d.Own = own
	client.Transport = endTransport{client.Transport}
	d.opts = websocket.DialOptions{
		HTTPClient:   client,
		HTTPHeader:   c.Header.Clone(),
		Subprotocols: c.Subprotocols,
	}
	if d.opts.HTTPHeader == nil {
		d.opts.HTTPHeader = nethttp.Header{}
	}
	if c.Origin != "" {
		d.opts.HTTPHeader.Set("Origin", c.Origin)
	}
	return d, nil
}

// keyOf is the key of t's connection.
func keyOf(t *sources.Target, s *spec) watchKey {
	return watchKey{url: t.Location, header: t.Params["header"], maxBytes: s.MaxBytes, ping: s.ping}
}

// dialer opens a connection of s: a Read takes the first message of a
// fresh connection; a watch keeps its connection alive with pings.
func (d *driver) dialer(s *spec, last *sources.Result) sources.Dialer {
	return func(ctx context.Context) (sources.Stream, *sources.StreamEnd) { return d.dial(ctx, s, last != nil) }
}

// fail builds the end of a failed connect or connection.
func fail(s *spec, status int, err error, permanent bool) *sources.StreamEnd {
	return &sources.StreamEnd{Result: sources.Result{Err: s.newError(status, err)}, Permanent: permanent}
}

// dial performs the opening handshake, bounded by ctx, and starts the
// keepalive when keepalive is set.
func (d *driver) dial(ctx context.Context, s *spec, keepalive bool) (sources.Stream, *sources.StreamEnd) {
	opts := d.opts
	opts.HTTPHeader = opts.HTTPHeader.Clone()
	if s.HeaderName != "" {
		opts.HTTPHeader[s.HeaderName] = []string{s.HeaderValue}
	}
	// What a server must not echo into an error: the handshake's header
	// values and the URL's credentials.
	secrets := sources.RequestSecrets(s.URL, opts.HTTPHeader)
	w := &wire{check: frameCheck{limit: uint64(s.MaxBytes)}}
	conn, resp, err := websocket.Dial(context.WithValue(ctx, wireKey{}, w), s.raw, &opts)
	if err != nil {
		code := 0
		if resp != nil && resp.StatusCode != nethttp.StatusSwitchingProtocols {
			code = resp.StatusCode
		}
		if code != 0 {
			return nil, sources.RefusedEnd(code, func(status int, err error) error { return s.newError(status, err) })
		}
		err = sources.Unreachable(sources.SanitizeURLError(sources.ContextError(ctx, err), s.URL))
		// A refused redirect needs someone to fix the server or the URL.
		permanent := errors.Is(err, sources.ErrRedirect)
		// A protocol violation quotes the header the server sent, which
		// may echo a credential and be any size.
		return nil, fail(s, 0, fmt.Errorf("handshake: %w", sources.ServerError(err, secrets...)), permanent)
	}
	// One byte over the limit is read by sources.ReadAtMost, which fails
	// with sources.ErrTooLarge before the library's own limit is hit.
	conn.SetReadLimit(int64(s.MaxBytes) + 1)
	c := &stream{conn: conn, s: s, ended: &w.ended, secrets: secrets}
	if keepalive && s.ping > 0 {
		var pctx context.Context
		pctx, c.stopPing = context.WithCancel(context.Background())
		c.wg.Add(1)
		go c.keepalive(pctx)
	}
	return c, nil
}

// stream is one open WebSocket connection.
type stream struct {
	conn     *websocket.Conn
	s        *spec
	stopPing context.CancelFunc
	wg       sync.WaitGroup
	ended    *atomic.Bool // the connection's reads hit its end
	secrets  []string     // the handshake's header values and URL credentials, scrubbed from errors

	mu      sync.Mutex
	pingErr error // why the keepalive dropped the connection
}

// keepalive pings every ping= and drops the connection when a pong does
// not come within timeout= (or the ping interval, when shorter).
func (c *stream) keepalive(ctx context.Context) {
	defer c.wg.Done()
	wait := min(c.s.Timeout, c.s.ping)
	t := time.NewTicker(c.s.ping)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, wait)
		err := c.conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.mu.Lock()
			c.pingErr = fmt.Errorf("%w (within %s)", ErrNoPong, wait)
			c.mu.Unlock()
			_ = c.conn.CloseNow()
			return
		}
	}
}

// Next implements [sources.Stream]: the next text or binary message.
func (c *stream) Next(ctx context.Context) (sources.Result, *sources.StreamEnd) {
	var data []byte
	_, r, err := c.conn.Reader(ctx)
	if err == nil {
		data, err = sources.ReadAtMost(r, c.s.MaxBytes)
	}
	switch {
	case errors.Is(err, sources.ErrTooLarge): // counted, or announced by a frame header
		return sources.Result{}, fail(c.s, 0, fmt.Errorf("message larger than maxbytes=%d: %w", c.s.MaxBytes, sources.ErrTooLarge), true)
	case err != nil && ctx.Err() != nil:
		// The read failed because ctx ended: a timeout is a server that
		// gave no answer in time, a cancellation is the caller's own and
		// stays apart from ErrUnreachable.
		return sources.Result{}, fail(c.s, 0, sources.Unreachable(fmt.Errorf("waiting for a message: %w", ctx.Err())), false)
	case err != nil:
		return sources.Result{}, c.end(err)
	case c.ended.Load():
		// coder/websocket reports a message cut off at a frame boundary
		// by a dropped connection as complete (io.EOF): a message read
		// while the connection ended is not trusted.
		return sources.Result{}, fail(c.s, 0, fmt.Errorf("%w: the connection ended during a message", sources.ErrDisconnected), false)
	}
	return sources.Result{Data: data}, nil
}

// end tells a closing handshake that asks for a reconnect (normal
// closure, going away, service restart: a clean end that reports nothing)
// from a connection that broke. A clean close before the connection's
// first message is a failed attempt: sources.FollowStream and ReadStream
// report it as ErrEnded.
func (c *stream) end(err error) *sources.StreamEnd {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusServiceRestart, websocket.StatusTryAgainLater:
		return &sources.StreamEnd{}
	}
	c.mu.Lock()
	pingErr := c.pingErr
	c.mu.Unlock()
	if pingErr != nil {
		return fail(c.s, 0, pingErr, false)
	}
	// A close frame's reason is the server's text.
	return fail(c.s, 0, fmt.Errorf("%w: %w", sources.ErrDisconnected, sources.ServerError(err, c.secrets...)), false)
}

// Close implements [sources.Stream]: it drops the connection at once (a
// closing handshake could wait seconds for a peer that does not answer)
// and stops the keepalive.
func (c *stream) Close() error {
	if c.stopPing != nil {
		c.stopPing()
	}
	err := c.conn.CloseNow()
	c.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// wireKey is the context key of the *wire that endTransport hands the
// connection of a handshake.
type wireKey struct{}

// wire is what dial learns of the connection below coder/websocket: the
// flag set when its reads reach their end, and the check of the frames the
// server sends.
type wire struct {
	ended atomic.Bool // the connection's reads hit its end
	check frameCheck
}

// endTransport hands the upgraded connection's reads to the *wire its
// request's context carries: they set its ended flag when they end (EOF
// or an error) and pass its frame check.
type endTransport struct{ rt nethttp.RoundTripper }

func (t endTransport) RoundTrip(req *nethttp.Request) (*nethttp.Response, error) {
	rt := t.rt
	if rt == nil {
		rt = nethttp.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil || resp.StatusCode != nethttp.StatusSwitchingProtocols {
		return resp, err
	}
	w, _ := req.Context().Value(wireKey{}).(*wire)
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok && w != nil {
		resp.Body = &endBody{ReadWriteCloser: rwc, w: w}
	}
	return resp, nil
}

type endBody struct {
	io.ReadWriteCloser
	w *wire
}

func (b *endBody) Read(p []byte) (int, error) {
	if err := b.w.check.err; err != nil { // a violation ended the connection: read no more
		return 0, err
	}
	n, err := b.ReadWriteCloser.Read(p)
	if m, cerr := b.w.check.scan(p[:n]); cerr != nil {
		n, err = m, cerr
	}
	if err != nil {
		b.w.ended.Store(true)
	}
	return n, err
}
