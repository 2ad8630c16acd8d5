package livebindhttp_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/livebindhttp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The secrets the tests plant; none may appear in any output.
const (
	secretKey  = "sk-live-7f3a9c"
	secretPass = "pw-hunter2-51e0"
)

type settings struct {
	Name    string   `toml:"name"`
	Workers int      `toml:"workers"`
	Tags    []string `toml:"tags"`
}

type dbConfig struct {
	Host     string `live:"file=${DIR}/db.toml; key=host; poll=1h"`
	Password string `live:"file=${DIR}/db.toml; key=password; secret; poll=1h"`
}

type testConfig struct {
	Settings settings `live:"file=${DIR}/app.toml; poll=1h"`
	DB       dbConfig
	APIKey   string `live:"env=API_KEY; secret; poll=1h"`
	Mode     string `live:"env=MODE; default=prod; poll=1h"`
}

// harness is a bound testConfig served by a real server on 127.0.0.1.
type harness struct {
	b   *livebind.Binding[testConfig]
	env *fixture.Env
	dir string
	srv *httptest.Server
	url string // the handler's mount point, with a trailing slash

	// sendBuffer, when set, is the send buffer of the server's end of the
	// next connection it accepts. The kernel otherwise grows a loopback
	// connection's send buffer to a few MiB, enough to take a whole event
	// queue from the handler at once whether or not the client reads.
	sendBuffer atomic.Int64
}

func newFixture(t testing.TB, bindOpts []livebind.Option, opts ...livebindhttp.Option) *harness {
	t.Helper()
	return startFixture(t, (*httptest.Server).Start, bindOpts, opts...)
}

// newH2Fixture is a harness whose server speaks HTTP/2 (over TLS), as does
// its client, f.srv.Client(); slowEvents does not work on it.
func newH2Fixture(t testing.TB, opts ...livebindhttp.Option) *harness {
	t.Helper()
	return startFixture(t, func(s *httptest.Server) {
		s.EnableHTTP2 = true
		s.StartTLS()
	}, nil, opts...)
}

// startFixture binds testConfig and serves it with a server that start
// starts.
func startFixture(t testing.TB, start func(*httptest.Server), bindOpts []livebind.Option, opts ...livebindhttp.Option) *harness {
	t.Helper()
	f := &harness{dir: t.TempDir()}
	f.env = fixture.NewEnv("API_KEY", secretKey, "DIR", f.dir)
	f.write(t, "app.toml", "name = \"svc\"\nworkers = 4\ntags = [\"a\", \"b\"]\n")
	f.write(t, "db.toml", "host = \"db.internal\"\npassword = \""+secretPass+"\"\n")
	var cfg testConfig
	b, err := livebind.Bind(t.Context(), &cfg, append([]livebind.Option{livebind.WithLookupEnv(f.env.Lookup)}, bindOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.b = b
	mux := http.NewServeMux()
	mux.Handle("/debug/config/", http.StripPrefix("/debug/config", livebindhttp.Handler(b, opts...)))
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Config.ConnState = func(c net.Conn, state http.ConnState) {
		if state != http.StateNew {
			return
		}
		if tc, ok := c.(*net.TCPConn); ok && f.sendBuffer.Load() > 0 {
			_ = tc.SetWriteBuffer(int(f.sendBuffer.Swap(0)))
		}
	}
	start(f.srv)
	f.url = f.srv.URL + "/debug/config/"
	// Closing the binding first ends every event stream, so the server can close.
	t.Cleanup(func() {
		_ = b.Close()
		f.srv.Close()
	})
	return f
}

func (f *harness) write(t testing.TB, name, data string) {
	t.Helper()
	fixture.WriteFile(t, f.dir, name, data)
}

// reload applies every change now; errors are expected in some tests.
func (f *harness) reload(t testing.TB) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return f.b.Reload(ctx)
}

// get fetches path below the mount point and returns status and body.
func (f *harness) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return fixture.Get(t, f.srv.Client(), f.url+path)
}

// slowEvents requests the event stream over a raw connection with a small
// read buffer, for a client that reads slowly or never. The buffer is set
// before connecting (smallReadBuffer): set after Dial, it made the stream
// stall once the server had queued a few hundred KiB, and
// TestEventsSlowClientBye failed without its bye or EOF under load. The
// connection is closed when the test ends.
func (f *harness) slowEvents(t *testing.T) net.Conn {
	t.Helper()
	return f.slowGet(t, "events")
}

// slowGet requests path below the mount point as slowEvents does.
func (f *harness) slowGet(t *testing.T, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: smallReadBuffer}
	conn, err := d.DialContext(t.Context(), "tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := fmt.Fprintf(conn, "GET /debug/config/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	return conn
}

// sseEvent is one parsed server-sent event; comment lines are reported
// with Name "comment".
type sseEvent struct {
	Name, Data string
}

// stream is an open /events connection read by its own goroutine.
type stream struct {
	resp   *http.Response
	events chan sseEvent
	done   chan struct{}
	mu     sync.Mutex
	raw    strings.Builder
}

// requestEvents requests the event stream with f's client under ctx and
// returns the response, its body unread.
func (f *harness) requestEvents(ctx context.Context, t *testing.T) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f *harness) openEvents(t *testing.T) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	resp := f.requestEvents(ctx, t)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("events Content-Type = %q", ct)
	}
	s := &stream{resp: resp, events: make(chan sseEvent, 1024), done: make(chan struct{})}
	go s.read()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-s.done
	})
	return s
}

func (s *stream) read() {
	defer close(s.done)
	defer close(s.events)
	sc := bufio.NewScanner(s.resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.raw.WriteString(line + "\n")
		s.mu.Unlock()
		switch {
		case line == "":
			if ev.Name != "" || ev.Data != "" {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			s.events <- sseEvent{Name: "comment", Data: strings.TrimSpace(line[1:])}
		case strings.HasPrefix(line, "event: "):
			ev.Name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.Data += line[len("data: "):]
		}
	}
}

// rawText is everything received so far.
func (s *stream) rawText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// next returns the next event named name (skipping others), failing after
// timeout.
func (s *stream) next(t *testing.T, name string, timeout time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended while waiting for %q", name)
			}
			if ev.Name == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %v", name, timeout)
		}
	}
}

// gen is the binding's current generation.
func gen[T any](b *livebind.Binding[T]) uint64 {
	_, g := b.Snapshot()
	return g
}
