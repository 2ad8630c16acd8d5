package livebindhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/livebindhttp"
)

func TestEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, livebindhttp.WithHeartbeat(30*time.Millisecond))
	s := f.openEvents(t)
	if !strings.HasPrefix(f.mustRaw(t, s), "retry: 2000\n") {
		t.Errorf("stream does not start with a retry delay:\n%s", s.rawText())
	}
	var hello struct {
		Generation uint64 `json:"generation"`
	}
	if err := json.Unmarshal([]byte(s.next(t, "hello", 5*time.Second).Data), &hello); err != nil || hello.Generation != 1 {
		t.Fatalf("hello = %+v, %v", hello, err)
	}

	t.Run("update", func(t *testing.T) {
		f.write(t, "app.toml", "name = \"svc\"\nworkers = 6\ntags = [\"a\", \"b\"]\n")
		if err := f.reload(t); err != nil {
			t.Fatal(err)
		}
		var u livebindhttp.UpdateJSON
		decodeStrict(t, s.next(t, "update", 5*time.Second).Data, &u)
		if u.Kind != "updated" || u.Field != "Settings" || u.Gen != 2 || u.Time.IsZero() || u.Error != "" || u.Secret ||
			!strings.HasSuffix(u.Source, "app.toml") ||
			string(u.Old) != `{"Name":"svc","Workers":4,"Tags":["a","b"]}` ||
			string(u.New) != `{"Name":"svc","Workers":6,"Tags":["a","b"]}` {
			t.Errorf("update = %+v (old %s new %s)", u, u.Old, u.New)
		}
	})
	t.Run("error", func(t *testing.T) {
		f.write(t, "app.toml", "workers = [\n")
		if err := f.reload(t); err == nil {
			t.Fatal("Reload accepted a broken file")
		}
		var u livebindhttp.UpdateJSON
		decodeStrict(t, s.next(t, "update", 5*time.Second).Data, &u)
		if u.Kind != "error" || u.Field != "Settings" || u.Error == "" {
			t.Errorf("error update = %+v", u)
		}
	})
	t.Run("heartbeat", func(t *testing.T) {
		if ev := s.next(t, "comment", 5*time.Second); ev.Data != "heartbeat" {
			t.Errorf("comment = %q", ev.Data)
		}
	})
	t.Run("closed", func(t *testing.T) {
		if err := f.b.Close(); err != nil {
			t.Fatal(err)
		}
		s.next(t, "closed", 5*time.Second)
		select {
		case _, ok := <-s.events:
			for ok {
				_, ok = <-s.events
			}
		case <-time.After(5 * time.Second):
			t.Fatal("stream still open after the binding closed")
		}
	})
}

// mustRaw waits until the stream has delivered something.
func (f *harness) mustRaw(t *testing.T, s *stream) string {
	t.Helper()
	for range 500 {
		if r := s.rawText(); strings.Contains(r, "\n\n") {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("stream delivered nothing")
	return ""
}

// TestEventsClientGone checks that a stream's handler ends when its client
// disconnects: the server then has no active connection left to wait for.
func TestEventsClientGone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", f.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /debug/config/events HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 512)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "text/event-stream") {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	conn.Close()
	cancel()
	done := make(chan struct{})
	go func() {
		f.srv.Close() // blocks while a handler is still running
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("event handler still running after its client went away")
	}
}

// TestSlowClientNeverBlocks opens a stream that is never read while the
// binding publishes far more than the connection can buffer: every Reload
// still returns at once, Get sees every generation, and the stream, once
// read, reports that updates were merged.
func TestSlowClientNeverBlocks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.slowEvents(t) // never read

	big := strings.Repeat("x", 256<<10) // 256 KiB per update, 64 updates: 16 MiB unread
	start := time.Now()
	var slowest time.Duration
	for i := range 64 {
		f.env.Set("MODE", fmt.Sprintf("%d-%s", i, big))
		t0 := time.Now()
		if err := f.reload(t); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(t0))
		if !strings.HasPrefix(f.b.Get().Mode, fmt.Sprintf("%d-", i)) {
			t.Fatalf("generation %d not visible through Get", i)
		}
	}
	t.Logf("64 reloads of 256 KiB values with an unread event stream: %v, slowest %v", time.Since(start), slowest)
	if slowest > 2*time.Second {
		t.Errorf("a Reload took %v while a client was not reading", slowest)
	}
}

// TestSecretsNeverServed plants secrets in an env variable, in a document
// shared with a non-secret field, and in a broken document, then reads every
// endpoint and the event stream: no secret may appear anywhere.
func TestSecretsNeverServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, []livebind.Option{livebind.WithHistory(10)})
	s := f.openEvents(t)
	s.next(t, "hello", 5*time.Second)

	secrets := []string{secretKey, secretPass, "sk-live-rotated", "pw-rotated", "pw-broken"}
	f.env.Set("API_KEY", "sk-live-rotated")
	f.write(t, "db.toml", "host = \"db2.internal\"\npassword = \"pw-rotated\"\n")
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	f.write(t, "db.toml", "host = \"db3.internal\"\npassword = \"pw-broken\n") // unterminated string
	if err := f.reload(t); err == nil {
		t.Fatal("Reload accepted a broken file")
	} else if strings.Contains(err.Error(), "pw-broken") {
		t.Fatalf("livebind itself leaked the secret: %v", err)
	}
	// Wait for the updates to reach the stream: APIKey, DB.Host, DB.Password,
	// then one error per field of db.toml.
	var kinds []string
	for len(kinds) < 5 {
		var u livebindhttp.UpdateJSON
		decodeStrict(t, s.next(t, "update", 5*time.Second).Data, &u)
		kinds = append(kinds, u.Kind+" "+u.Field)
		if u.Secret && (string(u.Old) != `"[redacted]"` || string(u.New) != `"[redacted]"`) {
			t.Errorf("secret update not redacted: %+v", u)
		}
	}
	t.Logf("stream saw %v", kinds)

	outputs := map[string]string{"events": s.rawText()}
	for _, p := range []string{"", "status.json", "config.json", "history.json", "config.json?gen=1", "config.json?gen=2"} {
		resp, body := f.get(t, p)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", p, resp.Status)
		}
		outputs[p] = body
	}
	if !strings.Contains(outputs["status.json"], "db.toml") || !strings.Contains(outputs[""], "db2.internal") {
		t.Fatal("outputs lack the non-secret content the test relies on")
	}
	for name, out := range outputs {
		for _, sec := range secrets {
			if strings.Contains(out, sec) {
				t.Errorf("%q output contains the secret %q", name, sec)
			}
		}
	}
}

// TestReadsDuringUpdates serves every endpoint from two goroutines while
// the binding publishes generations: under -race this checks that the
// handler only reads copies, and no Reload waits for it.
func TestReadsDuringUpdates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, []livebind.Option{livebind.WithHistory(5)})
	s := f.openEvents(t)
	s.next(t, "hello", 5*time.Second)
	read := func(i int) {
		if t.Failed() {
			return // one failure says it; the readers stop repeating it
		}
		p := []string{"", "status.json", "config.json", "history.json"}[i%4]
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.url+p, nil)
		if err != nil {
			t.Error(err)
			return
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", p, resp.Status)
		}
	}
	readers := []func(){fixture.Churn(read, 0), fixture.Churn(read, 0)}
	var slowest time.Duration
	for i := range 50 {
		f.env.Set("MODE", fmt.Sprint("m", i))
		t0 := time.Now()
		if err := f.reload(t); err != nil {
			t.Error(err)
			break
		}
		slowest = max(slowest, time.Since(t0))
	}
	for _, stop := range readers {
		stop()
	}
	t.Logf("50 reloads under concurrent reads: slowest %v", slowest)
	if slowest > time.Second {
		t.Errorf("a Reload took %v under concurrent reads", slowest)
	}
	var last livebindhttp.UpdateJSON
	for last.Gen < gen(f.b) {
		decodeStrict(t, s.next(t, "update", 5*time.Second).Data, &last)
	}
}
