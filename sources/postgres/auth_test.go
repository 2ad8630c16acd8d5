package postgres_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/postgres"
)

// TestRefusedLoginNotHotRetried: with a password the server refuses, a
// watch must not log in again every second (failed logins fill the
// server's log and trip lockouts such as fail2ban): the read and the
// LISTEN connection both wait on the permanent backoff, from 5 s.
func TestRefusedLoginNotHotRetried(t *testing.T) {
	s := startDB(t, "k", "v")
	p := fixture.NewProxy(t, "127.0.0.1:"+strconv.Itoa(s.Port()))
	d := openDriver(t, postgres.Config{DSN: "postgres://app:wrong-pw-5@" + p.Addr + "/postgres?sslmode=disable"})
	stop := fixture.Watch(t, d, target("settings/k", nil), sources.Result{}, func(sources.Result) {})
	defer stop()
	time.Sleep(4 * time.Second)
	require.LessOrEqual(t, p.Accepted(), 4, "login attempts in 4 s")
}
