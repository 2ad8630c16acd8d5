package http

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitFor bounds every wait for a result.
const waitFor = 5 * time.Second

// countingTransport counts the body bytes its caller reads.
type countingTransport struct {
	rt   nethttp.RoundTripper
	read atomic.Int64
	// reuse wraps every body with the same countingBody, so that counting
	// allocates nothing: only for strictly sequential requests (benchmarks).
	reuse bool
	body  countingBody
}

func (c *countingTransport) RoundTrip(req *nethttp.Request) (*nethttp.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	if resp != nil {
		if c.reuse {
			c.body = countingBody{ReadCloser: resp.Body, n: &c.read}
			resp.Body = &c.body
		} else {
			resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.read}
		}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// newCountingClient returns a client whose transport counts body bytes
// read; its idle connections are closed at cleanup.
func newCountingClient(tb testing.TB) (*nethttp.Client, *countingTransport) {
	tb.Helper()
	tr := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	tb.Cleanup(tr.CloseIdleConnections)
	ct := &countingTransport{rt: tr}
	return &nethttp.Client{Transport: ct}, ct
}

// openDriver opens the registered http scheme with value as its source
// config, logging to the test's log; it is closed at cleanup.
func openDriver(tb testing.TB, value any) *driver {
	tb.Helper()
	d, ok := fixture.OpenDriverWith(tb, "http", sources.Config{Logger: fixture.TestLogger(tb), Value: value}).(*driver)
	require.True(tb, ok)
	return d
}

// target returns an http target; opts are name=value scheme options.
func target(url string, poll time.Duration, opts ...string) *sources.Target {
	t := &sources.Target{Scheme: "http", Location: url, Poll: poll}
	for _, o := range opts {
		name, value, _ := strings.Cut(o, "=")
		if t.Params == nil {
			t.Params = map[string]string{}
		}
		t.Params[name] = value
	}
	return t
}

// validators says which validators a resource sends.
type validators uint8

const (
	withETag validators = iota
	withWeakETag
	withLastModified
	withNone
)

// resource is a test server's document: it answers GET with the body, or
// with 304 to a matching conditional request, or with a forced status.
type resource struct {
	srv *httptest.Server

	mu         sync.Mutex
	body       string
	ctype      string
	validators validators
	version    int       // bumped by set, makes the ETag
	modified   time.Time // Last-Modified, bumped by set
	status     int       // forced status (no body) when not 0
	header     nethttp.Header
	requests   int
	notMod     int
	bodyBytes  int
	lastReq    nethttp.Header
}

// newResource serves body at every path of a fresh server, closed at cleanup.
func newResource(tb testing.TB, body string, v validators) *resource {
	tb.Helper()
	r := &resource{
		body: body, ctype: "application/json", validators: v, version: 1,
		modified: time.Now().Add(-time.Hour).Truncate(time.Second), header: nethttp.Header{},
	}
	r.srv = httptest.NewServer(r)
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *resource) url() string { return r.srv.URL + "/config" }

func (r *resource) etag() string {
	tag := `"v` + strconv.Itoa(r.version) + `"`
	if r.validators == withWeakETag {
		return "W/" + tag
	}
	return tag
}

func (r *resource) ServeHTTP(w nethttp.ResponseWriter, req *nethttp.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.lastReq = req.Header.Clone()
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status != 0 {
		w.WriteHeader(r.status)
		return
	}
	switch r.validators {
	case withETag, withWeakETag:
		w.Header().Set("ETag", r.etag())
		if req.Header.Get("If-None-Match") == r.etag() {
			r.notMod++
			w.WriteHeader(nethttp.StatusNotModified)
			return
		}
	case withLastModified:
		w.Header().Set("Last-Modified", r.modified.UTC().Format(nethttp.TimeFormat))
		if ims, err := nethttp.ParseTime(req.Header.Get("If-Modified-Since")); err == nil && !r.modified.After(ims) {
			r.notMod++
			w.WriteHeader(nethttp.StatusNotModified)
			return
		}
	case withNone:
	}
	w.Header().Set("Content-Type", r.ctype)
	n, _ := io.WriteString(w, r.body)
	r.bodyBytes += n
}

// set changes the document.
func (r *resource) set(body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.body = body
	r.version++
	r.modified = r.modified.Add(time.Second)
}

// fail forces a status (0 serves the document again), with extra headers.
func (r *resource) fail(status int, kv ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
	r.header = nethttp.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		r.header.Set(kv[i], kv[i+1])
	}
}

// counts returns the requests served, the 304s among them and the body
// bytes written.
func (r *resource) counts() (requests, notModified, bodyBytes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, r.notMod, r.bodyBytes
}

func (r *resource) lastHeader() nethttp.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastReq.Clone()
}

// watcherRec collects what one Watch emits.
type watcherRec struct{ *fixture.Recorder }

// startWatch reads the target like livebind does, then watches it from that
// result. The watch is stopped at cleanup.
var startWatch = fixture.StartRecordAs[watcherRec]

// watchFrom watches the target starting from last. The watch is stopped at
// cleanup.
var watchFrom = fixture.RecordAs[watcherRec]

// wantData asserts that the next result is the given content.
func (w *watcherRec) wantData(tb testing.TB, want string) sources.Result {
	tb.Helper()
	r := w.Next(tb)
	require.NoError(tb, r.Err, "want data %q", want)
	require.False(tb, r.Missing, "want data %q, got missing", want)
	require.Equal(tb, want, string(r.Data))
	require.NotEmpty(tb, r.Version)
	return r
}

// wantErr asserts that the next result is an error matching target and
// returns its message.
func (w *watcherRec) wantErr(tb testing.TB, target error) string {
	tb.Helper()
	return w.NextErr(tb, target)
}

func (w *watcherRec) wantMissing(tb testing.TB) {
	tb.Helper()
	r := w.Next(tb)
	require.NoError(tb, r.Err)
	require.True(tb, r.Missing, "want missing, got data %q", r.Data)
}

// wantQuiet asserts that nothing is emitted for d.
func (w *watcherRec) wantQuiet(tb testing.TB, d time.Duration) {
	tb.Helper()
	w.Quiet(tb, d)
}

// eventually polls cond until it holds, within waitFor.
func eventually(tb testing.TB, cond func() bool, msg string) {
	tb.Helper()
	fixture.Eventually(tb, waitFor, cond, msg)
}

// lockedWriter serializes writes to a builder.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// newLogger logs everything, at Debug and above, into b.
func newLogger(mu *sync.Mutex, b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{mu, b}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testPoller drives a poll loop's state by hand, one poll at a time,
// emitting what differs from the previous result as sources.Watches does.
type testPoller struct {
	*poller
	last sources.Result
	emit func(sources.Result)
}

func newTestPoller(d *driver, s *spec, last sources.Result, emit func(sources.Result)) *testPoller {
	return &testPoller{poller: newPoller(d, s, last), last: last, emit: emit}
}

// poll polls once, emits the result if it is new, and returns the wait
// before the next poll.
func (p *testPoller) poll() time.Duration {
	r, next := p.poller.poll()
	if !sources.Same(p.last, r) {
		p.last = r
		p.emit(r)
	}
	return next
}

// rawServer answers every connection with reply(request header), written
// as is: a server that does not speak HTTP properly. It is closed at
// cleanup.
func rawServer(t *testing.T, reply func(h nethttp.Header) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := nethttp.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				_, _ = c.Write([]byte(reply(req.Header)))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
