package sse_test

import (
	"context"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sse"
)

// settle bounds every wait for a result.
const settle = 5 * time.Second

// kit opens sse drivers, follows their watches and checks that a failure
// is an *sse.Error naming the location.
var kit = bindtest.StreamKit[sse.Config, *sse.Error]{
	Scheme: "sse", Settle: settle, Prefix: "sse http://127.0.0.1",
	Fast: fastConfig(), Status: func(e *sse.Error) int { return e.Status },
}

var (
	isData = fixture.IsData
	isErr  = fixture.IsErr
)

// Multi-line data is joined by "\n" into one document.
func TestMultiLineData(t *testing.T) {
	h := newHub(t)
	h.set("/cfg", "{\n\"a\": 1\n}")
	log := kit.Watch(t, h.URL("/cfg"), nil)
	log.Until(t, "the document", isData("{\n\"a\": 1\n}"))
}

// A server restart: the stream's end is no error by itself; the failed
// reconnects while the server is down are Errors; once it is back, the
// first event (the full document) is reported.
func TestServerRestart(t *testing.T) {
	h := newHub(t)
	log := kit.Start(t, h.PushServer, "/cfg", `{"a":1}`, nil)
	h.restart(t, 300*time.Millisecond)
	_, r, _ := log.Wait(t, 1, "a failed reconnect", fixture.Failed)
	kit.Fails(t, r.Err, nil, 0)
	h.set("/cfg", `{"a":2}`)
	log.Until(t, "the document after the restart", isData(`{"a":2}`))
}

// A connection dropped in the middle of an event: the half event is never
// reported, the drop is an Error wrapping ErrDisconnected.
func TestDropMidEvent(t *testing.T) {
	h := newHub(t)
	log := kit.Watch(t, h.URL("/cut"), nil)
	kit.Fails(t, log.Nth(t, 0).Err, sources.ErrDisconnected, 0)
	for _, r := range log.All() {
		require.Nil(t, r.Data, "a cut event is never data")
	}
}

// An event over maxbytes= is an Error wrapping ErrTooLarge; the stream
// goes on and the next good event recovers without a reconnect.
func TestEventOverLimit(t *testing.T) {
	h := newHub(t)
	log := kit.Start(t, h.PushServer, "/big", `{"a":1}`, map[string]string{"maxbytes": "1024"})
	h.set("/big", strings.Repeat("x", 4096))
	_, r, _ := log.Wait(t, 1, "the oversized event", isErr(sources.ErrTooLarge))
	kit.Fails(t, r.Err, nil, 0)
	h.set("/big", `{"a":2}`)
	log.Until(t, "recovery", isData(`{"a":2}`))
	require.Len(t, h.streams(), 1, "no reconnect")
}

// 401 is an Error wrapping ErrAuth with the status, retried on the slow
// backoff (not hot), and recovers once the server accepts the client.
func TestAuthFailure(t *testing.T) {
	h := newHub(t)
	h.set("/cfg", `{"a":1}`)
	h.Answer("/cfg", 401)
	cfg := sse.Config{Retry: 20 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second}
	log := kit.Follow(t, kit.Open(t, cfg), target(h.URL("/cfg"), map[string]string{"header": "Authorization: Bearer sse-secret-token"}))
	kit.Refused(t, log, sources.ErrAuth, 401, "sse-secret-token", &h.requests)
	h.Answer("/cfg", 0)
	log.Until(t, "recovery once accepted", isData(`{"a":1}`))
}

// A 200 that is not text/event-stream is an Error wrapping ErrContentType.
func TestWrongContentType(t *testing.T) {
	h := newHub(t)
	log := kit.Watch(t, h.URL("/plain"), nil)
	kit.Fails(t, log.Nth(t, 0).Err, sse.ErrContentType, 200)
}

// 204 tells the client to stop: an Error wrapping ErrStopped, then no
// request at all until another field joins the watch.
func TestNoContentStops(t *testing.T) {
	h := newHub(t)
	h.set("/cfg", `{"a":1}`)
	d := kit.Open(t, fastConfig())
	log := kit.Follow(t, d, target(h.URL("/cfg"), nil))
	log.Until(t, "first document", isData(`{"a":1}`))
	h.Answer("/cfg", 204)
	_, r, _ := log.Wait(t, 1, "the stop", isErr(sse.ErrStopped))
	kit.Fails(t, r.Err, sse.ErrStopped, 204)
	before := h.requests.Load()
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, before, h.requests.Load(), "no reconnect after 204")
	h.Answer("/cfg", 0)
	other := kit.Follow(t, d, target(h.URL("/cfg"), nil))
	other.Until(t, "a joining field reconnects", isData(`{"a":1}`))
}

// event= follows one event type; others are skipped.
func TestEventFilter(t *testing.T) {
	h := newHub(t)
	h.set("/mixed", "ignored by event=limits")
	log := kit.Watch(t, h.URL("/mixed"), map[string]string{"event": "limits"})
	time.Sleep(100 * time.Millisecond)
	h.send("/mixed", "event: other\ndata: {\"x\":1}\n\nevent: limits\ndata: {\"rps\":5}\n\n")
	r := log.Nth(t, 0)
	require.Equal(t, `{"rps":5}`, string(r.Data))
}

// The last event id is sent as Last-Event-ID on reconnect, and the
// server's retry: sets the wait, bounded below by MinRetry.
func TestReconnectIDAndRetry(t *testing.T) {
	h := newHub(t)
	h.setRetry("300")
	h.set("/cfg", `{"a":1}`)
	h.set("/cfg", `{"a":2}`) // id 2
	log := kit.Watch(t, h.URL("/cfg"), nil)
	log.Until(t, "the document", isData(`{"a":2}`))
	dropped := time.Now()
	h.Drop("/cfg")
	require.Eventually(t, func() bool { return len(h.streams()) >= 2 }, settle, 10*time.Millisecond)
	gap := h.streams()[1].Sub(dropped)
	t.Logf("reconnected %s after the end (retry: 300)", gap)
	require.GreaterOrEqual(t, gap, 290*time.Millisecond, "retry: is honored")
	require.Equal(t, []string{"", "2"}, h.ids())

	h.setRetry("0")
	h.Drop("/cfg") // this stream was opened with retry 300: wait it out first
	require.Eventually(t, func() bool { return len(h.streams()) >= 3 }, settle, 10*time.Millisecond)
	dropped = time.Now()
	h.Drop("/cfg")
	require.Eventually(t, func() bool { return len(h.streams()) >= 4 }, settle, 10*time.Millisecond)
	gap = h.streams()[3].Sub(dropped)
	t.Logf("reconnected %s after the end (retry: 0)", gap)
	require.GreaterOrEqual(t, gap, sse.MinRetry-10*time.Millisecond, "retry: is bounded below")
}

type flags struct {
	A int `live:"sse=${SSE}; key=a; format=json"`
}

// A malformed event is an Error update (ErrDecode) naming the field; the
// last good value stays and the next good event applies. sse= is
// registered by livebind itself: no import is needed.
func TestMalformedEvent(t *testing.T) {
	h := newHub(t)
	bindtest.PushMalformed(t, "sse", h.PushServer, fastConfig(), func(f *flags) int { return f.A })
}

// An unreachable server at Bind fails Bind with the typed error, as http=
// does; a server that never answers fails it once timeout= ends.
func TestBindFailures(t *testing.T) {
	type slow struct {
		A int `live:"sse=${SSE}; key=a; format=json; timeout=300ms"`
	}
	_ = bindtest.PushBindFailures[flags, slow](t, kit, newHub(t).PushServer, "http://127.0.0.1:1/cfg?token=bind-secret") // checked inside
}

// A slow consumer facing a 10,000-event burst: with throttle= the burst
// coalesces into a few generations, the last event wins, and the heap
// stays bounded.
func TestBurstWithThrottle(t *testing.T) {
	h := newHub(t)
	bindtest.PushBurst(t, "sse", h.PushServer, fastConfig(), func(c *burstConfig) int { return c.A })
}

// Close is prompt in every state: while connecting, while reading, and
// while backing off after a failure.
func TestClosePrompt(t *testing.T) {
	slow := sse.Config{Retry: time.Minute, MinBackoff: time.Minute, MaxBackoff: time.Hour}
	kit.ClosesInEveryState(t, newHub(t).PushServer, slow, "http://127.0.0.1:1/x")
}

// A Read of a server that sends the response's headers and then nothing:
// timeout= ends it as a server that gave no answer in time
// (sources.ErrUnreachable, context.DeadlineExceeded), never as
// context.Canceled, which is kept for the caller's own cancellation.
// Before the fix the timeout surfaced as "disconnected: context canceled".
func TestReadTimeoutAfterHeaders(t *testing.T) {
	srv := silentStream(t, "", nil)
	d := kit.Open(t, fastConfig())
	start := time.Now()
	tg := target(srv.URL+"/cfg", nil)
	tg.Timeout = 200 * time.Millisecond
	r := d.Read(t.Context(), tg)
	require.Less(t, time.Since(start), 3*time.Second, "the Read is bounded by timeout=")
	kit.Fails(t, r.Err, sources.ErrUnreachable, 0)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.NotErrorIs(t, r.Err, context.Canceled)

	// The caller's own cancellation stays context.Canceled.
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	r = d.Read(ctx, target(srv.URL+"/cfg", nil))
	require.ErrorIs(t, r.Err, context.Canceled)
	require.NotErrorIs(t, r.Err, sources.ErrUnreachable)
}

// A 200 whose Content-Type echoes the request's Authorization header: the
// ErrContentType error quotes the Content-Type without the token.
func TestWrongContentTypeScrubbed(t *testing.T) {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "text/plain; echo="+r.Header.Get("Authorization")+"; from="+r.Header.Get("X-Api-Key")+"; q="+r.URL.Query().Get("token"))
	}))
	t.Cleanup(srv.Close)
	cfg := fastConfig()
	cfg.Header = nethttp.Header{"X-Api-Key": {"cfgkey-secret"}}
	tg := target(srv.URL+"/cfg?token=url-secret", map[string]string{"header": "Authorization: Bearer sse-secret"})
	r := kit.Open(t, cfg).Read(t.Context(), tg)
	kit.Fails(t, r.Err, sse.ErrContentType, 200)
	require.NotContains(t, r.Err.Error(), "sse-secret")
	require.NotContains(t, r.Err.Error(), "cfgkey-secret")
	require.NotContains(t, r.Err.Error(), "url-secret")
}

// Redirects a client must not follow: to another origin (where the
// configured headers must not go; here another port, and https to http)
// and in a loop. Each is an Error with the redirect's status that names
// no secret, the other server never sees a request, and the refusal,
// which needs someone to fix the server, is retried on the slow backoff.
func TestRedirectRefused(t *testing.T) {
	kit.RedirectRefused(t, func(c *nethttp.Client, h nethttp.Header) sse.Config {
		cfg := fastConfig()
		cfg.MaxBackoff = time.Second // the slow backoff waits [0.5s, 1s)
		cfg.Client, cfg.Header = c, h
		return cfg
	}, func(u string) string { return u }, nethttp.StatusFound)
}

// A server that refuses (503) with a body it never finishes: the Read
// still ends at timeout=, and so does Close of a watch meanwhile. Before
// the fix the drain of the error body had no deadline: both hung for as
// long as the server held the body.
func TestRefusalBodyStalls(t *testing.T) {
	kit.RefusalBodyStalls(t, func(u string) string { return u })
}

// An event id the client cannot send back as a Last-Event-ID header (it
// holds a control character): the reconnect still reaches the server.
// Before the fix every reconnect failed in the client ("invalid header
// field value"), forever: the id was never replaced.
func TestUnsendableEventID(t *testing.T) {
	var n atomic.Int64
	var lastIDs []string
	var mu sync.Mutex
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		i := n.Add(1)
		mu.Lock()
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "id: good\ndata: {\"a\":%d}\n\nid: bad\x01id\ndata: {\"a\":%d}\n\n", i, i)
	}))
	t.Cleanup(srv.Close)
	log := kit.Watch(t, srv.URL+"/cfg", nil)
	log.Until(t, "the second connection's document", isData(`{"a":2}`))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, "good", lastIDs[1], "the last id that can be sent")
}

// The caller's own cancellation of a Read, before the request or while
// waiting for the first event, is context.Canceled and not
// sources.ErrUnreachable.
func TestReadCanceled(t *testing.T) {
	srv := silentStream(t, "", nil)
	kit.ReadCanceled(t, srv.URL+"/cfg")
}

// The server's retry: and the last event id outlive the connection that
// sent them, as the standard's reconnection time and last event ID
// string do: a later stream that ends without sending either (here one
// that closes at once) changes neither. Before the fix each new stream
// started from no retry: and no id, so the third connect came after the
// client's default wait and without Last-Event-ID.
func TestRetryAndIDOutliveTheStream(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	var ids []string
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		times = append(times, time.Now())
		ids = append(ids, r.Header.Get("Last-Event-ID"))
		n := len(times)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		switch n {
		case 1:
			_, _ = io.WriteString(w, "retry: 400\nid: 7\ndata: {\"a\":1}\n\n")
		case 2:
			_, _ = io.WriteString(w, ": nothing new\n\nid: 8\ndata: {\"cut\":") // an event cut off: its id does not count
		default:
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	cfg := fastConfig() // Retry 20ms until the server says otherwise
	log := kit.Follow(t, kit.Open(t, cfg), target(srv.URL+"/cfg", nil))
	log.Until(t, "the document", isData(`{"a":1}`))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(times) >= 3 }, settle, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"", "7", "7"}, ids[:3], "Last-Event-ID of each connect")
	gap := times[2].Sub(times[1])
	t.Logf("third connect %s after the second (retry: 400 from the first)", gap)
	require.GreaterOrEqual(t, gap, 390*time.Millisecond, "the first stream's retry: still holds")
}

// idle=: a server that sends its document and then holds the connection
// without a byte more (no event, no comment) is noticed only with idle=:
// the stream is dropped with an Error wrapping sources.ErrUnreachable and
// opened again. Without idle= the same stream is kept, silent.
func TestIdleStream(t *testing.T) {
	var conns atomic.Int64
	srv := silentStream(t, "data: {\"a\":1}\n\n", &conns)

	log := kit.Watch(t, srv.URL+"/cfg", map[string]string{"idle": "150ms"})
	log.Until(t, "the document", isData(`{"a":1}`))
	_, r, _ := log.Wait(t, 1, "the idle stream dropped", fixture.Failed)
	kit.Fails(t, r.Err, sources.ErrUnreachable, 0)
	require.Contains(t, r.Err.Error(), "idle=150ms")
	require.Eventually(t, func() bool { return conns.Load() >= 2 }, settle, 10*time.Millisecond, "reconnected")

	quiet := kit.Watch(t, srv.URL+"/quiet", nil)
	quiet.Until(t, "the document", isData(`{"a":1}`))
	time.Sleep(400 * time.Millisecond)
	for _, r := range quiet.All() {
		require.NoError(t, r.Err, "without idle= a silent stream is kept")
	}
}

// A server that answers a request without Last-Event-ID and then holds
// the stream (a keepalive, then nothing) without ever sending the document
// is a failed attempt once timeout= has passed since the connect: an Error
// wrapping sources.ErrUnreachable, and the stream is opened again. Before,
// the watch held such a stream for ever and reported nothing, as Bind's
// Read did not (it waits timeout= for the first event). A watch resumed
// with Last-Event-ID holds the same stream quietly: the server may have
// nothing newer.
func TestStreamWithoutFirstEvent(t *testing.T) {
	var conns atomic.Int64
	srv := silentStream(t, ": keepalive\n\n", &conns)
	tg := target(srv.URL+"/cfg", nil)
	tg.Timeout = 200 * time.Millisecond
	log := kit.Follow(t, kit.Open(t, fastConfig()), tg)
	r := log.Until(t, "an Error for a stream without its first event", fixture.Failed)
	kit.Fails(t, r.Err, sources.ErrUnreachable, 0)
	require.ErrorContains(t, r.Err, "no event within timeout=200ms")
	require.Eventually(t, func() bool { return conns.Load() >= 2 }, settle, 10*time.Millisecond, "opened again")

	var held atomic.Int64
	quiet := silentStream(t, ": keepalive\n\n", &held)
	resumed := fixture.NewLog[sources.Result](settle)
	rt := target(quiet.URL+"/cfg", nil)
	rt.Timeout = 200 * time.Millisecond
	fixture.Watch(t, kit.Open(t, fastConfig()), rt, sources.Result{Data: []byte(`{"a":1}`), Version: "7"}, resumed.Add)
	time.Sleep(700 * time.Millisecond)
	require.Zero(t, resumed.Len(), "a resumed stream may rightly stay silent")
	require.Equal(t, int64(1), held.Load(), "and is held, not reopened")
}

// endingServer is a real event stream server on 127.0.0.1 that answers
// every request 200 text/event-stream, writes body(lastID) (lastID is the
// request's Last-Event-ID, "" without one) and ends the response: a clean
// end of the stream. It counts the requests and keeps their Last-Event-ID.
type endingServer struct {
	URL      string
	requests atomic.Int64
	mu       sync.Mutex
	lastIDs  []string
}

func newEndingServer(t *testing.T, body func(lastID string) string) *endingServer {
	t.Helper()
	s := &endingServer{}
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		id := r.Header.Get("Last-Event-ID")
		s.mu.Lock()
		s.lastIDs = append(s.lastIDs, id)
		s.mu.Unlock()
		s.requests.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, body(id))
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/cfg"
	return s
}

func (s *endingServer) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lastIDs...)
}

// attemptsIn counts the requests of the next d.
func attemptsIn(requests *atomic.Int64, d time.Duration) int64 {
	before := requests.Load()
	time.Sleep(d)
	return requests.Load() - before
}

// A server that answers a request without Last-Event-ID with an event
// stream that ends before its first event never gives the document: each
// connect is a failed attempt, an Error (*sse.Error wrapping
// sse.ErrEnded, as a Read of the same stream gets at Bind), reported once
// while it repeats (the core drops the same error again) and retried on
// the fast backoff. Comments, retry: lines, an id-less block without
// data and events of a type the field does not follow are no event of
// the field. Before the fix the watch reconnected for ever and reported
// nothing.
func TestEmptyStreamWithoutLastEventID(t *testing.T) {
	for name, body := range map[string]string{
		"nothing":       "",
		"keepalives":    ": hello\n\n:\n: keepalive\n\n",
		"retry":         "retry: 50\n\n: ping\n",
		"event-no-data": "event: message\n\n",
		"other-event":   "event: other\ndata: {\"a\":1}\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			srv := newEndingServer(t, func(string) string { return body })
			d := kit.Open(t, fastConfig())
			log := kit.Follow(t, d, target(srv.URL, nil))
			r := log.Until(t, "an Error for a stream ended before its first event", fixture.Failed)
			kit.Fails(t, r.Err, sse.ErrEnded, 0)
			require.NotErrorIs(t, r.Err, sources.ErrDisconnected, "a clean end is no broken connection")
			read := d.Read(t.Context(), target(srv.URL, nil))
			require.EqualError(t, r.Err, read.Err.Error(), "the watch's error is the Read's")
			n := attemptsIn(&srv.requests, time.Second)
			t.Logf("connection attempts in a second: %d", n)
			require.Positive(t, n, "the watch keeps trying")
			require.LessOrEqual(t, n, int64(12), "backoff applies (fastConfig: from 20ms, capped at 200ms, retry: at least 100ms)")
			require.Len(t, log.All(), 1, "the error is reported once while it repeats")
			for _, id := range srv.ids() {
				require.Empty(t, id, "no id was ever sent")
			}
		})
	}
}

// A request that carried Last-Event-ID may rightly get a stream that ends
// with nothing new (docs/push.md lets the server skip the document the
// client already has): such a clean end reconnects quietly, with the same
// id, whether the id came from an event of this watch or from the Read
// at Bind. Passes before and after the fix of
// TestEmptyStreamWithoutLastEventID.
func TestEmptyStreamWithLastEventID(t *testing.T) {
	srv := newEndingServer(t, func(lastID string) string {
		if lastID == "" {
			return "id: 7\ndata: {\"a\":1}\n\n"
		}
		return ": nothing new\n\n"
	})
	log := kit.Follow(t, kit.Open(t, fastConfig()), target(srv.URL, nil))
	log.Until(t, "the document", isData(`{"a":1}`))
	n := attemptsIn(&srv.requests, 700*time.Millisecond)
	t.Logf("reconnects in 700ms: %d", n)
	require.GreaterOrEqual(t, n, int64(2), "the server ended each stream: the watch reconnected")
	require.Len(t, log.All(), 1, "nothing but the document is reported")
	ids := srv.ids()
	require.Equal(t, "", ids[0])
	for _, id := range ids[1:] {
		require.Equal(t, "7", id, "each reconnect resumes from the document's id")
	}

	// A watch that starts from the id of the event read at Bind.
	from := fixture.NewLog[sources.Result](settle)
	before := srv.requests.Load()
	fixture.Watch(t, kit.Open(t, fastConfig()), target(srv.URL, nil), sources.Result{Data: []byte(`{"a":1}`), Version: "7"}, from.Add)
	require.Eventually(t, func() bool { return srv.requests.Load() >= before+3 }, settle, 10*time.Millisecond)
	require.Zero(t, from.Len(), "a watch resumed from Bind's id reports nothing")
}
