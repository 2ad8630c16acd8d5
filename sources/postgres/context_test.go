package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/pgtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/postgres"
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

// TestWideQueryEndsPromptly: a query= that returns a huge number of rows
// is an ErrQuery error as soon as the second row arrives, and one that
// returns two columns as soon as its row description does; the driver must
// not read the rows first (holding the connection every field shares for
// as long as timeout= allows), and the next read works.
func TestWideQueryEndsPromptly(t *testing.T) {
	s := pgtest.Start(t)
	d := openDriver(t, s.AdminDSN())
	for _, tc := range []struct{ name, query, want string }{
		{"rows", "SELECT generate_series(1, 1000000000)::text", "more than one row"},
		{"columns", "SELECT generate_series(1, 1000000000)::text, 'x'", "2 columns"},
	} {
		wide := target(tc.name, map[string]string{"query": tc.query})
		wide.Timeout = 20 * time.Second
		start := time.Now()
		r := d.Read(t.Context(), wide)
		took := time.Since(start)
		require.ErrorIs(t, r.Err, postgres.ErrQuery, tc.name)
		require.ErrorContains(t, r.Err, tc.want)
		require.Less(t, took, 3*time.Second, "%s: the rows were drained", tc.name)
		r = d.Read(t.Context(), target("after", map[string]string{"query": "SELECT 'ok'"}))
		require.NoError(t, r.Err, tc.name)
		require.Equal(t, "ok", string(r.Data))
	}
}

// TestCanceledReadKeepsConnection: a Read whose context is already
// canceled (a Reload given a dead context) fails with context.Canceled
// and leaves the shared read connection alone: the next read runs on the
// same backend instead of logging in again.
func TestCanceledReadKeepsConnection(t *testing.T) {
	s := pgtest.Start(t)
	d := openDriver(t, s.AdminDSN())
	pid := target("pid", map[string]string{"query": "SELECT pg_backend_pid()::text"})
	first := d.Read(t.Context(), pid)
	require.NoError(t, first.Err)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	for range 10 {
		r := d.Read(canceled, target("x", map[string]string{"query": "SELECT 'x'"}))
		require.ErrorIs(t, r.Err, context.Canceled)
	}
	again := d.Read(t.Context(), pid)
	require.NoError(t, again.Err)
	require.Equal(t, string(first.Data), string(again.Data), "the read connection was replaced")
}

// TestReadCanceledWithCause: a Read whose context was canceled with a
// cause of the caller's own is context.Canceled, not ErrUnreachable.
func TestReadCanceledWithCause(t *testing.T) {
	s := pgtest.Start(t)
	d := openDriver(t, s.AdminDSN())
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errors.New("shutting down"))
	r := d.Read(ctx, target("x", map[string]string{"query": "SELECT 'x'"}))
	require.ErrorIs(t, r.Err, context.Canceled)
	require.NotErrorIs(t, r.Err, sources.ErrUnreachable)
}
