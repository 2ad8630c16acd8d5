package sse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultTimeout bounds connecting (the response's headers) when the
	// tag has no timeout=; a Read also waits at most this long for the first
	// event.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBytes is the largest event data accepted when the tag has
	// no maxbytes=: 16 MiB, as for http=.
	DefaultMaxBytes = 16 << 20
	// DefaultRetry is the wait before reconnecting after the stream ends,
	// until the server sends a retry: field.
	DefaultRetry = time.Second
	// MinRetry is the lower bound of a server's retry: field (and of
	// Config.Retry), so that retry: 0 cannot make a hot loop; MaxRetry
	// keeps retry: 86400000 from meaning a day of silence.
	MinRetry = 100 * time.Millisecond
	// MaxRetry is the upper bound of a server's retry: field.
	MaxRetry = time.Minute
	// DefaultMaxBackoff caps the wait between failed connects.
	DefaultMaxBackoff = 5 * time.Minute
	// MinIdle is the shortest idle= accepted.
	MinIdle = 10 * time.Millisecond
	// permanentBase is the first wait after a failure that needs a human.
	permanentBase = 10 * time.Second
	// errorDrain is how much of an error response's body is read.
	errorDrain = 4 << 10
)

// Sentinel errors wrapped by [*Error]. Match them with errors.Is.
var (
	// ErrContentType: a 200 whose Content-Type is not text/event-stream.
	ErrContentType = errors.New("not an event stream")
	// ErrStopped: the server answered 204 No Content, which tells an event
	// stream client to stop reconnecting. The field keeps its last value
	// and the watch waits until another field joins it.
	ErrStopped = errors.New("server asked not to reconnect (204 No Content)")
	// ErrEnded: the stream ended before its first event: a Read of it, or
	// a watch's connect that sent no Last-Event-ID and whose stream the
	// server ended cleanly without sending the document (a failed attempt,
	// retried on the fast backoff). Comments, retry: lines and events of
	// another type are no event of the field.
	ErrEnded = errors.New("stream ended before an event")
)

// Error reports a failed event stream: no response, a refused one, an
// event over maxbytes= ([sources.ErrTooLarge]), a stream cut off
// ([sources.ErrDisconnected]) or one that ended before its first event
// ([ErrEnded]). It names the URL redacted and never holds
// event data nor a header value.
type Error struct {
	// StreamError holds the URL (redacted), the HTTP status (or 0) and
	// the cause; its text starts with "sse <url>: ".
	sources.StreamError
}

// Config is the value to hand the sse scheme with
// livebind.WithSourceConfig("sse", sse.Config{...}). A bare *http.Client is
// accepted too.
type Config struct {
	// Client sends the requests: set it for TLS roots or client
	// certificates, a proxy or an authenticating transport. Its Timeout is
	// not used (it would cut every stream off); timeout= bounds connecting.
	// Redirects to another origin (scheme, host and port) are refused, so
	// that configured headers never reach it. Nil means a client with a
	// clone of net/http.DefaultTransport.
	Client *nethttp.Client
	// Header is sent with every request. A header= option of a tag
	// overrides the header of the same name.
	Header nethttp.Header
	// MinBackoff is the first wait after a failed connect; zero means
	// [MinRetry]. After a clean end of the stream the wait is the server's
	// retry: (or [DefaultRetry]).
	MinBackoff time.Duration
	// MaxBackoff caps the wait between failed connects; zero means
	// [DefaultMaxBackoff].
	MaxBackoff time.Duration
	// Retry is the wait before reconnecting until the server sends a
	// retry: field; zero means [DefaultRetry]. It is bounded by [MinRetry]
	// and [MaxRetry] like the server's.
	Retry time.Duration
}

// String describes c with its header values hidden (see
// [sources.HiddenHeader]): a Config printed or logged shows no token.
func (c Config) String() string {
	return fmt.Sprintf("sse.Config{Client: %t, Header: %s, MinBackoff: %v, MaxBackoff: %v, Retry: %v}", c.Client != nil, sources.HiddenHeader(c.Header), c.MinBackoff, c.MaxBackoff, c.Retry)
}

// GoString is String, so that %#v hides the header values too.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON is String as a JSON string: slog's JSON handler marshals a
// struct that holds a Config with encoding/json, which would show it all.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

func init() {
	sources.Register(sources.StreamScheme("sse", []string{"event", "idle"}, parseSpec, open))
}

// spec is a target's options, checked.
type spec struct {
	sources.StreamSpec
	event string        // the event type followed
	idle  time.Duration // a stream silent this long is dropped; 0: never
}

func parseSpec(t *sources.Target) (*spec, error) {
	c, err := sources.ParseStreamSpec(t, "sse", "http", "https", DefaultMaxBytes, DefaultTimeout)
	if err != nil {
		return nil, err
	}
	s := &spec{StreamSpec: c, event: "message"}
	if v, ok := t.Param("event"); ok {
		v = strings.TrimSpace(v)
		if v == "" || strings.ContainsAny(v, "\r\n") {
			return nil, errors.New("sse " + s.Loc + ": option event: want an event type name")
		}
		s.event = v
	}
	if v, ok := t.Param("idle"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d != 0 && d < MinIdle {
			return nil, errors.New("sse " + s.Loc + ": option idle: want a duration of at least " + MinIdle.String() + ", or 0 for none, got " + strconv.Quote(sources.Clip(v, 32)))
		}
		s.idle = d
	}
	return s, nil
}

// Ended implements [sources.StreamTarget]: sources.FollowStream and
// sources.ReadStream report it for a stream that ended before its first
// event (unless it was resumed with Last-Event-ID).
func (s *spec) Ended() error { return s.newError(0, ErrEnded) }

// late is the error of a watch's stream whose first event did not come
// within timeout of the connect (sources.StreamDriver.Late).
func (s *spec) late(timeout time.Duration) error {
	return s.newError(0, fmt.Errorf("%w: no event within timeout=%v of the connect", sources.ErrUnreachable, timeout))
}

// newError returns an *Error for the stream of s.
func (s *spec) newError(status int, err error) *Error {
	return &Error{sources.StreamError{Scheme: "sse", URL: s.Loc, Status: status, Err: err}}
}

// driver is the sse scheme's driver for one Binding: sources.StreamDriver
// does its Read, Watch and Close.
type driver struct {
	sources.StreamDriver[watchKey, *spec]
	client *nethttp.Client
	header nethttp.Header
	retry  time.Duration
}

// watchKey is what fields share one stream by: the URL, event type,
// header=, maxbytes= and idle=.
type watchKey struct {
	url, header, event string
	maxBytes           int
	idle               time.Duration
}

func open(cfg sources.Config) (sources.Driver, error) {
	c, err := sources.ClientConfig("sse", cfg.Value, func(c *nethttp.Client) Config { return Config{Client: c} })
	if err != nil {
		return nil, err
	}
	d := &driver{header: c.Header.Clone(), retry: sources.OrDefault(c.Retry, DefaultRetry)}
	d.client, d.Own = sources.StreamClient(c.Client)
	d.Retry = sources.NewRetry(sources.OrDefault(c.MinBackoff, MinRetry), permanentBase, sources.OrDefault(c.MaxBackoff, DefaultMaxBackoff))
	d.Parse, d.Key, d.Dial, d.Late = parseSpec, keyOf, d.dialer, (*spec).late
	return d, nil
}

// keyOf is the key of t's stream.
func keyOf(t *sources.Target, s *spec) watchKey {
	return watchKey{url: t.Location, header: t.Params["header"], event: s.event, maxBytes: s.MaxBytes, idle: s.idle}
}

// dialer opens a stream of s: a Read takes the first event of a fresh
// stream; a watch sends the id of the last event its field saw as
// Last-Event-ID.
func (d *driver) dialer(s *spec, last *sources.Result) sources.Dialer {
	st := &state{d: d, s: s}
	if last != nil {
		st.lastID = last.Version
	}
	return st.dial
}

// state is what one watch keeps between its connections.
type state struct {
	d      *driver
	s      *spec
	lastID string        // sent as Last-Event-ID
	retry  time.Duration // the server's retry:, 0 until it sends one
}

// after is the wait before reconnecting: the server's retry:, bounded.
func (st *state) after() time.Duration {
	r := st.retry
	if r <= 0 {
		r = st.d.retry
	}
	return min(max(r, MinRetry), MaxRetry)
}

// end builds the end of a stream or of a connect.
func (st *state) end(status int, err error, permanent bool) *sources.StreamEnd {
	e := &sources.StreamEnd{After: st.after(), Permanent: permanent}
	if err != nil {
		e.Result = sources.Result{Err: st.s.newError(status, err)}
	}
	return e
}

// dial opens the stream. The request lives until the stream is closed;
// ctx bounds only the wait for the response's headers.
func (st *state) dial(ctx context.Context) (sources.Stream, *sources.StreamEnd) {
	reqCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	resp, err := st.d.client.Do(st.request(reqCtx))
	if err != nil {
		stop()
		cancel()
		if errors.Is(err, sources.ErrRedirect) { // resp is the redirect, its body closed
			return nil, st.end(resp.StatusCode, sources.SanitizeURLError(err, st.s.URL), true)
		}
		return nil, st.end(0, sources.Unreachable(sources.SanitizeURLError(sources.ContextError(ctx, err), st.s.URL)), false)
	}
	code := resp.StatusCode
	if code == nethttp.StatusOK && mediaType(resp.Header.Get("Content-Type")) == "text/event-stream" {
		if !stop() { // ctx ended just as the headers came
			cancel()
			resp.Body.Close()
			return nil, st.end(0, sources.Unreachable(ctx.Err()), false)
		}
		body := io.Reader(resp.Body)
		var w *idleWatch
		if st.s.idle > 0 {
			w = &idleWatch{r: resp.Body, d: st.s.idle}
			w.t = time.AfterFunc(st.s.idle, func() { w.fired.Store(true); cancel() })
			body = w
		}
		return &stream{st: st, body: resp.Body, cancel: cancel, idle: w, resumed: st.lastID != "", p: newParser(body, st.s.MaxBytes, st.lastID, st.retry)}, nil
	}
	// A refusal's body is drained while ctx still bounds it: a server may
	// never finish it.
	_, _ = io.CopyN(io.Discard, resp.Body, errorDrain)
	stop()
	resp.Body.Close()
	cancel()
	switch code {
	case nethttp.StatusOK:
		// The server's text: it may echo a header the request sent.
		ct := sources.ServerText(resp.Header.Get("Content-Type"), sources.RequestSecrets(st.s.URL, st.d.header, nethttp.Header{st.s.HeaderName: {st.s.HeaderValue}})...)
		return nil, st.end(code, fmt.Errorf("%w: Content-Type %q", ErrContentType, sources.Clip(ct, 64)), true)
	case nethttp.StatusNoContent:
		e := st.end(code, ErrStopped, true)
		e.Stop = true
		return nil, e
	}
	e := sources.RefusedEnd(code, func(status int, err error) error { return st.s.newError(status, err) })
	e.After = st.after()
	return nil, e
}

// request builds the GET of the stream: Config.Header, the event stream
// headers, header=, and Last-Event-ID once an event carried an id.
func (st *state) request(ctx context.Context) *nethttp.Request {
	h := make(nethttp.Header, len(st.d.header)+4)
	for k, v := range st.d.header {
		h[k] = v
	}
	h["Accept"] = []string{"text/event-stream"}
	h["Cache-Control"] = []string{"no-cache"}
	if st.s.HeaderName != "" {
		h[st.s.HeaderName] = []string{st.s.HeaderValue}
	}
	if st.lastID != "" {
		h["Last-Event-Id"] = []string{st.lastID}
	}
	// Built by hand from the parsed URL so that no error path quotes it.
	return (&nethttp.Request{
		Method: nethttp.MethodGet, URL: st.s.URL, Header: h, Host: st.s.URL.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}).WithContext(ctx)
}

// stream is one open event stream.
type stream struct {
	st     *state
	body   io.ReadCloser
	cancel context.CancelFunc
	idle   *idleWatch // nil without idle=
	p      *parser
	// resumed reports that the request carried Last-Event-ID: the server
	// may then rightly end the stream, or hold it, with nothing new.
	resumed bool
}

// Resumed implements [sources.ResumedStream]: a stream requested with
// Last-Event-ID owes no first event. Without it, sources.FollowStream
// reports a clean end before the first event as ErrEnded, and a first
// event that does not come within timeout= as an error wrapping
// sources.ErrUnreachable.
func (s *stream) Resumed() bool { return s.resumed }

// idleWatch cancels a stream's request when no byte came for d: a server
// that still holds the connection but sends nothing, not even a comment.
type idleWatch struct {
	r     io.Reader
	d     time.Duration
	t     *time.Timer
	fired atomic.Bool
}

func (w *idleWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.t.Reset(w.d)
	}
	return n, err
}

// Next implements [sources.Stream]: the data of the next event of the
// followed type.
func (s *stream) Next(ctx context.Context) (sources.Result, *sources.StreamEnd) {
	defer context.AfterFunc(ctx, s.cancel)()
	for {
		ev, err := s.p.next()
		s.st.lastID, s.st.retry = s.p.lastID, s.p.retry
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			// A clean end: reconnect. Before the first event of a stream
			// not resumed, sources.FollowStream makes it ErrEnded.
			return sources.Result{}, s.st.end(0, nil, false)
		case ctx.Err() != nil:
			// The read failed because ctx ended: a timeout is a server
			// that gave no answer in time, a cancellation is the caller's
			// own and stays apart from ErrUnreachable.
			return sources.Result{}, s.st.end(0, sources.Unreachable(fmt.Errorf("waiting for an event: %w", ctx.Err())), false)
		case s.idle != nil && s.idle.fired.Load():
			return sources.Result{}, s.st.end(0, fmt.Errorf("%w: no byte for idle=%v", sources.ErrUnreachable, s.st.s.idle), false)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return sources.Result{}, s.st.end(0, fmt.Errorf("%w: the stream ended in the middle of an event", sources.ErrDisconnected), false)
		default:
			return sources.Result{}, s.st.end(0, fmt.Errorf("%w: %w", sources.ErrDisconnected, sources.SanitizeURLError(err, s.st.s.URL)), false)
		}
		if ev.typ != s.st.s.event {
			continue
		}
		if ev.tooLarge {
			return sources.Result{Err: s.st.s.newError(0, fmt.Errorf("event data larger than maxbytes=%d: %w", s.st.s.MaxBytes, sources.ErrTooLarge))}, nil
		}
		return sources.Result{Data: ev.data, Version: s.p.lastID}, nil
	}
}

// Close implements [sources.Stream].
func (s *stream) Close() error {
	if s.idle != nil {
		s.idle.t.Stop()
	}
	s.cancel()
	return s.body.Close()
}

// mediaType returns a Content-Type's media type in lower case.
func mediaType(v string) string {
	mt, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
