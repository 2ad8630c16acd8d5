package bindtest

import (
	"context"
	"errors"
	"io"
	"log"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sourcetest"
)

// Close codes a [PushServer] ends connections with, as a WebSocket server
// sends them; an event stream server just ends the response.
const (
	// CloseNormal ends the connections of a removed document.
	CloseNormal = 1000
	// CloseGoingAway ends every connection when the server stops.
	CloseGoingAway = 1001
	// ClosePolicy drops a client too far behind to keep up.
	ClosePolicy = 1008
)

// PushServer is the state of a push source's test server (a hub) that the
// sse and ws tests share: a real HTTP server on 127.0.0.1 holding one
// document per URL path, a status some paths answer instead, and the
// connections open on each path, each with a queue deep enough for a
// 10,000-document burst. The hub embeds it and writes the wire protocol
// in its ServeHTTP. Its methods are safe for concurrent use.
type PushServer struct {
	// Srv is the HTTP server.
	Srv *fixture.Server

	scheme string
	encode func(n int, doc []byte) []byte
	mu     sync.Mutex
	topics map[string]*pushTopic
	status map[string]int
	down   int // while Restart runs: the code that ends a connection as it joins; 0 otherwise
}

type pushTopic struct {
	frame []byte // what a new connection is sent first; nil while removed
	n     int    // documents set so far
	conns map[*PushConn]struct{}
}

// PushConn is one connection open on a [PushServer].
type PushConn struct {
	// Out is the queue of frames to write.
	Out  chan []byte
	done chan struct{}
	code int
	once sync.Once
}

// End ends the connection with code (see [CloseNormal]; 0: dropped
// without a closing handshake). Only the first End counts.
func (c *PushConn) End(code int) {
	c.once.Do(func() {
		c.code = code
		close(c.done)
	})
}

// Done is closed by End.
func (c *PushConn) Done() <-chan struct{} { return c.done }

// Code is the code given to End, once Done is closed.
func (c *PushConn) Code() int { return c.code }

// NewPushServer starts a PushServer whose requests h serves, stopped (every
// connection ended with [CloseGoingAway]) when the test ends. Its URLs
// start with scheme ("http", "ws"). encode turns the n-th document set on
// a path (n = 1, 2 ...) into its frame; nil sends documents as they are.
func NewPushServer(tb testing.TB, h nethttp.Handler, scheme string, encode func(n int, doc []byte) []byte) *PushServer {
	tb.Helper()
	if encode == nil {
		encode = func(_ int, doc []byte) []byte { return doc }
	}
	s := &PushServer{scheme: scheme, encode: encode, topics: map[string]*pushTopic{}, status: map[string]int{}}
	s.Srv = fixture.NewServer(tb, h)
	tb.Cleanup(func() {
		s.EndAll(CloseGoingAway)
		s.Srv.Close()
	})
	return s
}

// URL returns the address of path on the server.
func (s *PushServer) URL(path string) string { return s.scheme + "://" + s.Srv.Addr() + path }

// topic returns path's topic; s.mu held.
func (s *PushServer) topic(path string) *pushTopic {
	tp := s.topics[path]
	if tp == nil {
		tp = &pushTopic{conns: map[*PushConn]struct{}{}}
		s.topics[path] = tp
	}
	return tp
}

// endTopic ends every connection of tp with code; s.mu held.
func endTopic(tp *pushTopic, code int) {
	for c := range tp.conns {
		c.End(code)
	}
	clear(tp.conns)
}

// EndAll ends every open connection with code.
func (s *PushServer) EndAll(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tp := range s.topics {
		endTopic(tp, code)
	}
}

// Restart ends every connection with code, stops the server, keeps it down
// for down (running whileDown), and starts it again on the same address
// with the same documents.
//
// A client that reconnects while the server stops (its request accepted
// just before the listener closed) joins an ended connection, so its
// handler returns at once: otherwise the stopping server would wait for
// that handler for ever.
func (s *PushServer) Restart(tb testing.TB, code int, down time.Duration, whileDown ...func()) {
	tb.Helper()
	s.mu.Lock()
	s.down = code
	for _, tp := range s.topics {
		endTopic(tp, code)
	}
	s.mu.Unlock()
	s.Srv.Restart(tb, down, append(whileDown, func() {
		s.mu.Lock()
		s.down = 0
		s.mu.Unlock()
	})...)
}

// Set stores doc at path and queues its frame on every connection of path;
// a connection whose queue is full is dropped ([ClosePolicy]).
func (s *PushServer) Set(path string, doc []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := s.topic(path)
	tp.n++
	tp.frame = s.encode(tp.n, doc)
	for c := range tp.conns {
		select {
		case c.Out <- tp.frame:
		default: // a client this far behind is dropped
			c.End(ClosePolicy)
			delete(tp.conns, c)
		}
	}
}

// Remove deletes path's document: its connections end normally
// ([CloseNormal]) and later ones find no document.
func (s *PushServer) Remove(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := s.topic(path)
	tp.frame = nil
	endTopic(tp, CloseNormal)
}

// Drop ends path's connections normally, keeping its document.
func (s *PushServer) Drop(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	endTopic(s.topic(path), CloseNormal)
}

// Send queues a raw frame on every connection of path.
func (s *PushServer) Send(path string, frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.topic(path).conns {
		c.Out <- frame
	}
}

// Answer makes path answer status instead of a stream, ending its
// connections normally (0: a stream again).
func (s *PushServer) Answer(path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.status, path)
		return
	}
	s.status[path] = status
	endTopic(s.topic(path), CloseNormal)
}

// Status returns what path answers instead of a stream: the status set by
// Answer, 404 when path has no document, or 0 for a stream.
func (s *PushServer) Status(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.status[path]; code != 0 {
		return code
	}
	if s.topic(path).frame == nil {
		return nethttp.StatusNotFound
	}
	return 0
}

// Current returns the frame of path's document, or nil.
func (s *PushServer) Current(path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.topic(path).frame
}

// Join opens a connection on path with the current frame queued first, or
// reports false when path has no document.
func (s *PushServer) Join(path string) (*PushConn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := s.topic(path)
	if tp.frame == nil {
		return nil, false
	}
	c := &PushConn{Out: make(chan []byte, 20000), done: make(chan struct{})}
	if s.down != 0 { // the server is stopping: Restart
		c.End(s.down)
		return c, true
	}
	c.Out <- tp.frame
	tp.conns[c] = struct{}{}
	return c, true
}

// Leave forgets c, once its handler returns.
func (s *PushServer) Leave(c *PushConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tp := range s.topics {
		delete(tp.conns, c)
	}
}

// Stall serves a request for a path under /stall: it never answers, and
// returns once the server is released (stopped) or the client leaves. It
// reports whether r was such a request.
func (s *PushServer) Stall(r *nethttp.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/stall") {
		return false
	}
	select {
	case <-s.Srv.Released():
	case <-r.Context().Done():
	}
	return true
}

// HeaderServer is an https:// test server whose handler serve answers
// every request, recording the headers of the last one.
type HeaderServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen nethttp.Header
}

// NewHeaderServer starts a HeaderServer, closed when the test ends. It
// logs nothing of refused TLS handshakes.
func NewHeaderServer(t *testing.T, serve nethttp.HandlerFunc) *HeaderServer {
	t.Helper()
	s := &HeaderServer{}
	s.Server = httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		s.mu.Lock()
		s.seen = r.Header.Clone()
		s.mu.Unlock()
		serve(w, r)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// Seen returns the headers of the last request.
func (s *HeaderServer) Seen() nethttp.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen.Clone()
}

// Harness is the sourcetest.Harness of the kit's driver on s: Fast is its
// config, failing a config whose connections fail (for the redaction
// check), and an error of the driver's type E is a typed error. The
// package's conformance test passes it to sourcetest.Run.
func (k StreamKit[C, E]) Harness(t *testing.T, s *PushServer, failing C) sourcetest.Harness {
	t.Helper()
	return PushHarness(t, Hub{
		Scheme:  k.Scheme,
		URL:     s.URL,
		Set:     s.Set,
		Remove:  s.Remove,
		Fast:    k.Fast,
		Failing: failing,
		ErrorAs: func(err error) bool {
			var e E
			return errors.As(err, &e)
		},
	})
}

// Watch follows loc (with options params) on a fresh driver of the kit's
// Fast config and returns the log of results.
func (k StreamKit[C, E]) Watch(t *testing.T, loc string, params map[string]string) *fixture.Log[sources.Result] {
	t.Helper()
	return k.Follow(t, k.Open(t, k.Fast), &sources.Target{Scheme: k.Scheme, Location: loc, Params: params})
}

// Fails checks a failure: err is an E (see [StreamKit.Typed]) that wraps
// target, when target is not nil, and holds the HTTP status (0: none, the
// failure is not a refused request).
func (k StreamKit[C, E]) Fails(t *testing.T, err, target error, status int) {
	t.Helper()
	if target != nil {
		require.ErrorIs(t, err, target)
	}
	if status == 0 {
		require.Zero(t, k.Status(k.Typed(t, err)), "no HTTP status: the failure is not a refused request")
		return
	}
	require.Equal(t, status, k.Status(k.Typed(t, err)))
}

// TLSHeaders checks how a driver of the kit connects to srv over TLS: with
// cfg (the test server's roots, and the headers "X-Team: config" and
// "Authorization: Bearer from-config"), a Read of loc with the option
// header= "Authorization: Bearer from-tag" returns the document {"a":1}
// and sends the config's header and the tag's, which overrides the
// config's; with the zero config the TLS handshake fails with an E. It
// returns the headers of the first request.
func (k StreamKit[C, E]) TLSHeaders(t *testing.T, srv *HeaderServer, cfg C, loc string) nethttp.Header {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	tg := &sources.Target{Scheme: k.Scheme, Location: loc, Params: map[string]string{"header": "Authorization: Bearer from-tag"}}
	r := k.Open(t, cfg).Read(ctx, tg)
	require.NoError(t, r.Err)
	require.Equal(t, `{"a":1}`, string(r.Data))
	seen := srv.Seen()
	require.Equal(t, "config", seen.Get("X-Team"))
	require.Equal(t, "Bearer from-tag", seen.Get("Authorization"), "header= overrides the config's header")

	// Without the test server's roots the TLS handshake fails: a typed error.
	var (
		zero C
		e    E
	)
	r = k.Open(t, zero).Read(ctx, &sources.Target{Scheme: k.Scheme, Location: loc})
	require.ErrorAs(t, r.Err, &e)
	require.ErrorContains(t, r.Err, "certificate")
	require.NotErrorIs(t, r.Err, sources.ErrUnreachable, "the server answered; its certificate was refused")
	return seen
}

// PushInts stores the document first at path on the hub s and binds a T
// whose tags name the push source as ${SSE} or ${WS} (the scheme in
// capitals), set to the path's URL, with the source config cfg and more
// variables env (name, value ...); it returns the channel of every new
// int value (see [Ints]).
func PushInts[T any](tb testing.TB, scheme string, s *PushServer, path, first string, cfg any, env ...string) (*livebind.Binding[T], <-chan int) {
	tb.Helper()
	s.Set(path, []byte(first))
	vars := fixture.NewEnv(append([]string{strings.ToUpper(scheme), s.URL(path)}, env...)...)
	return Ints[T](tb, livebind.WithLookupEnv(vars.Lookup), livebind.WithSourceConfig(scheme, cfg))
}

// PushMalformed runs [Malformed] on the field A of a T bound (see
// [PushInts]) to the path /cfg of the hub s.
func PushMalformed[T any](t *testing.T, scheme string, s *PushServer, cfg any, a func(*T) int) {
	t.Helper()
	b, _ := PushInts[T](t, scheme, s, "/cfg", `{"a":1}`, cfg)
	Malformed(t, b, a, func(doc string) { s.Set("/cfg", []byte(doc)) })
}

// PushBurst runs [Burst] on the field A (tagged throttle=) of a T bound
// (see [PushInts]) to the path /cfg of the hub s.
func PushBurst[T any](t *testing.T, scheme string, s *PushServer, cfg any, a func(*T) int) {
	t.Helper()
	b, _ := PushInts[T](t, scheme, s, "/cfg", `{"a":0}`, cfg)
	Burst(t, b, a, func(doc string) { s.Set("/cfg", []byte(doc)) })
}

// PushBindFailures checks Bind of a push source's field: a T (whose tags
// name the source ${SSE} or ${WS}) on dead, an unreachable server whose
// URL holds the token "bind-secret", fails Bind with the kit's error (no
// HTTP status) that never shows the token; an S (the same with
// timeout=300ms) on the hub's /stall, a server that never answers, fails
// Bind within 3 s. It returns the second error.
func PushBindFailures[T, S, C any, E error](t *testing.T, k StreamKit[C, E], s *PushServer, dead string) error {
	t.Helper()
	env := func(url string) livebind.Option {
		return livebind.WithLookupEnv(fixture.NewEnv(strings.ToUpper(k.Scheme), url).Lookup)
	}
	var fast T
	_, err := livebind.Bind(t.Context(), &fast, env(dead))
	k.Fails(t, err, sources.ErrUnreachable, 0)
	require.NotContains(t, err.Error(), "bind-secret")

	start := time.Now()
	var slow S
	b, err := livebind.Bind(t.Context(), &slow, env(s.URL("/stall")))
	if b != nil {
		_ = b.Close()
	}
	k.Fails(t, err, sources.ErrUnreachable, 0) // no answer in time
	require.Less(t, time.Since(start), 3*time.Second, "Bind is bounded by timeout=")
	return err
}

// Start stores doc at path on the hub s, follows the path (with options
// params) on a fresh driver of the kit's Fast config and waits until doc
// is its first result: a watch that runs.
func (k StreamKit[C, E]) Start(t *testing.T, s *PushServer, path, doc string, params map[string]string) *fixture.Log[sources.Result] {
	t.Helper()
	s.Set(path, []byte(doc))
	log := k.Watch(t, s.URL(path), params)
	log.Until(t, "first document", fixture.IsData(doc))
	return log
}

// ClosesInEveryState runs fixture.ClosesInEveryState on a driver of the
// kit and the hub s: connecting to s's /stall, reading its /cfg (the
// document {"a":1}), and backing off after failing on dead with the
// config slow (whose backoff is minutes long).
func (k StreamKit[C, E]) ClosesInEveryState(t *testing.T, s *PushServer, slow C, dead string) {
	t.Helper()
	s.Set("/cfg", []byte(`{"a":1}`))
	fixture.ClosesInEveryState(t, k.Scheme, k.Fast, slow, s.URL("/stall"), s.URL("/cfg"), `{"a":1}`, dead)
}
