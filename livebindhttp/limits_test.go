package livebindhttp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livebind/livebind/livebindhttp"
)

// TestEventsMaxStreams: past WithMaxStreams the answer is 503 with a
// Retry-After, and a stream that ends frees its place.
func TestEventsMaxStreams(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, livebindhttp.WithMaxStreams(2))
	s1 := f.openEvents(t)
	s1.next(t, "hello", 5*time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp2, err := f.srv.Client().Do(req)
	if err != nil || resp2.StatusCode != http.StatusOK {
		t.Fatalf("second stream: %v %v", resp2, err)
	}
	resp, body := f.get(t, "events")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "too many event streams (at most 2)") {
		t.Fatalf("third stream: %s %q %q", resp.Status, resp.Header.Get("Retry-After"), body)
	}
	// Other endpoints are not limited.
	if resp, _ := f.get(t, "status.json"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status.json: %s", resp.Status)
	}
	cancel()
	resp2.Body.Close()
	for i := 0; ; i++ {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.url+"events", nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		resp, err := f.srv.Client().Do(req.WithContext(ctx))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		code := resp.StatusCode
		resp.Body.Close()
		cancel()
		if code == http.StatusOK {
			break
		}
		if i == 100 {
			t.Fatalf("the freed place was never given out: %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEventsSlowClientBye: a client that does not read while more than its
// queue bound of events is published is disconnected with a bye event that
// says why, after the events it could take; the binding never waits.
func TestEventsSlowClientBye(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, livebindhttp.WithStreamQueueBytes(64<<10))
	conn := f.slowEvents(t)
	br := bufio.NewReaderSize(conn, 64<<10)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "event: hello") {
			break
		}
	}
	// Frames of about 256 KiB (old and new value), 30 of them: far more
	// than the kernel's socket buffers can absorb (they autotune up to a
	// few MiB), so the unread stream must back up into the server's queue
	// whatever the buffers are. (With 64 KiB frames the buffers sometimes
	// took everything, no bye came, and the test timed out.)
	const updates = 30
	big := strings.Repeat("y", 128<<10)
	for i := range updates {
		f.env.Set("MODE", fmt.Sprintf("%d-%s", i, big))
		t0 := time.Now()
		if err := f.reload(t); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("Reload %d took %v", i, d)
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(br) // the server ends the stream after bye
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(rest), err)
	}
	text := string(rest)
	if n := strings.Count(text, "event: update"); n >= updates {
		t.Errorf("%d updates before bye, want fewer than all %d", n, updates)
	}
	if !strings.Contains(text, "event: bye\ndata: {\"reason\":\"fell behind: ") || !strings.Contains(text, "limit 65536") {
		t.Errorf("no bye with a reason at the end:\n%s", text[max(0, len(text)-300):])
	}
	// A new stream starts afresh.
	s := f.openEvents(t)
	s.next(t, "hello", 5*time.Second)
}

// TestEventsHelloSkipsOlderUpdates: a stream never sends an update of the
// generation its hello reported, or an older one.
func TestEventsHelloSkipsOlderUpdates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	s0 := f.openEvents(t) // keeps the shared subscription running
	s0.next(t, "hello", 5*time.Second)
	f.env.Set("MODE", "one")
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	s := f.openEvents(t)
	var hello struct {
		Generation uint64 `json:"generation"`
	}
	decodeStrict(t, s.next(t, "hello", 5*time.Second).Data, &hello)
	f.env.Set("MODE", "two")
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	var u livebindhttp.UpdateJSON
	decodeStrict(t, s.next(t, "update", 5*time.Second).Data, &u)
	if u.Gen <= hello.Generation || string(u.New) != `"two"` {
		t.Errorf("hello gen %d, then update %+v", hello.Generation, u)
	}
}
