package postgres_test

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/sources/postgres"
)

// TestSilentListenConnection: the backend of the LISTEN connection stops
// answering while its TCP connection stays up (SIGSTOP: a hung backend, or
// a peer behind a partition whose kernel still ACKs), and the row changes.
// The notification never comes; the driver must notice the silent
// connection within its health interval, LISTEN on a new one and read the
// row again, so the change lands.
func TestSilentListenConnection(t *testing.T) {
	s := startDB(t, "hung", "one")
	cfg := appConfig(s)
	cfg.HealthInterval = 500 * time.Millisecond
	b, rec := bindtest.BindKey[textRow](t, "postgres", cfg, "hung")
	require.Equal(t, "one", b.Get().V)
	var pid int
	require.Eventually(t, func() bool {
		out := s.SQL("SELECT pid FROM pg_stat_activity WHERE application_name = '" + postgres.ApplicationName + "' AND query LIKE 'LISTEN%'")
		var err error
		pid, err = strconv.Atoi(out)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the LISTEN backend")
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	defer func() { _ = syscall.Kill(pid, syscall.SIGCONT) }()
	set(t, s, "hung", "two")
	rec.Until(t, "two", bindtest.HasNew("two"))
}
