package pgtest_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStartRestart checks the harness itself: a cluster comes up, runs SQL
// over the socket, keeps its data across a restart on the same port, and a
// superuser password works over TCP (checked by psql with PGPASSWORD).
func TestStartRestart(t *testing.T) {
	s := pgtest.Start(t)
	s.SQL("create table settings(key text primary key, value text); insert into settings values ('a', '1')")
	port := s.Port()
	s.Restart()
	if s.Port() != port {
		t.Fatalf("port changed across restart: %d -> %d", port, s.Port())
	}
	if got := s.SQL("select value from settings where key = 'a'"); got != "1" {
		t.Fatalf("after restart: got %q, want 1", got)
	}
	s.Kill()
	if _, err := s.TrySQL("select 1"); err == nil || !strings.Contains(err.Error(), "psql") {
		t.Fatalf("a killed server still answers: %v", err)
	}
	s.Restart()
	if got := s.SQL("select count(*) from settings"); got != "1" {
		t.Fatalf("after a crash and restart: got %q, want 1", got)
	}
}
