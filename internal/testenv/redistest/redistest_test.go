package redistest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStart: a plain server answers, has notifications off, and comes back
// empty (no persistence) after a restart; the options take effect.
func TestStart(t *testing.T) {
	s := redistest.Start(t)
	if got := s.Cmd("SET", "k", "v"); got != "OK" {
		t.Fatalf("SET: %q", got)
	}
	if got := s.Cmd("CONFIG", "GET", "notify-keyspace-events"); got != "notify-keyspace-events\n" {
		t.Fatalf("notifications: %q, want off", got)
	}
	s.Restart()
	if got := s.Cmd("EXISTS", "k"); got != "0" {
		t.Fatalf("after restart EXISTS k = %q, want 0 (no persistence)", got)
	}

	n := redistest.Start(t, redistest.WithNotifications(), redistest.WithPassword("pw1"), redistest.WithLimitedUser("app", "pw2"))
	if got := n.Cmd("CONFIG", "GET", "notify-keyspace-events"); !strings.Contains(strings.TrimPrefix(got, "notify-keyspace-events\n"), "K") {
		t.Fatalf("notifications: %q, want on", got)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := redistest.Do(ctx, n.Addr(), "", "", "GET", "k"); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("without password: %v, want NOAUTH", err)
	}
	if _, err := redistest.Do(ctx, n.Addr(), "app", "pw2", "GET", "k"); err != nil {
		t.Fatalf("limited user GET: %v", err)
	}
	if _, err := redistest.Do(ctx, n.Addr(), "app", "pw2", "CONFIG", "GET", "notify-keyspace-events"); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("limited user CONFIG: %v, want NOPERM", err)
	}
}
