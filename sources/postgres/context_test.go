package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/pgtest"
	"github.com/livebind/livebind/sources"
)

// TestReadHonoursContextWhileAnotherReadRuns: the read connection runs
// one query at a time; a Read whose context is canceled while another
// read holds the connection (a slow query=) must return at once with
// context.Canceled, not after the other read ends.
func TestReadHonoursContextWhileAnotherReadRuns(t *testing.T) {
	s := pgtest.Start(t)
	d := openDriver(t, s.AdminDSN())
	slow := target("slow", map[string]string{"query": "SELECT pg_sleep(4)::text"})
	slow.Timeout = 10 * time.Second
	done := make(chan sources.Result, 1)
	go func() { done <- d.Read(t.Context(), slow) }()
	require.Eventually(t, func() bool {
		return s.SQL("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(4)%' AND state = 'active'") == "1"
	}, 10*time.Second, 10*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := d.Read(ctx, target("quick", map[string]string{"query": "SELECT 'x'"}))
	took := time.Since(start)
	require.ErrorIs(t, r.Err, context.Canceled)
	require.NotErrorIs(t, r.Err, sources.ErrUnreachable)
	require.Less(t, took, time.Second, "a canceled Read waited for the other read")
	require.NoError(t, (<-done).Err)
}
