package main

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/dbcreds"
	"github.com/livebind/livebind/internal/testenv/pgtest"
	"github.com/livebind/livebind/sources/vault"
)

// TestRetireWaitsForQueriesInFlight checks what phase two relies on:
// pgxpool's Close waits until every acquired connection is released, so a
// query in flight on a retired pool finishes normally; the pool refuses new
// queries once closed.
func TestRetireWaitsForQueriesInFlight(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	pools := &Pools{Host: "127.0.0.1", Port: pg.Port(), Database: "postgres"}
	pool, err := pools.open(vault.Credentials{Username: "postgres", Password: pgtest.AdminPassword})
	require.NoError(t, err)
	// The query sleeps 0.5 s on the server. Close cannot return before its
	// connection is released, which is after the server's answer, so it
	// returns at least 0.5 s after the query started: a lower bound that
	// holds however loaded the machine is. (Comparing with the moment Exec
	// returned would race: Exec releases the connection before it returns.)
	const sleep = 500 * time.Millisecond
	errc := make(chan error, 1)
	started := time.Now()
	go func() {
		_, err := pool.Exec(t.Context(), "select pg_sleep(0.5)")
		errc <- err
	}()
	require.Eventually(t, func() bool { return pool.Stat().AcquiredConns() == 1 }, 5*time.Second, time.Millisecond)
	pools.retire(pool)
	pools.Wait()
	require.GreaterOrEqual(t, time.Since(started), sleep, "Close returned only after the query")
	require.NoError(t, <-errc, "the query in flight finished on the retired pool")
	require.Equal(t, 1, pools.Retired())
	_, err = pool.Exec(t.Context(), "select 1")
	require.ErrorIs(t, err, puddle.ErrClosedPool)
}

// TestNewCredentialsThatDoNotWork: the role is changed to issue users that
// may not log in. At the next rotation Connect cannot ping a pool with the
// new credentials: the generation is rejected (an ErrUpdate Error update
// for DB that shows no secret) and the old pool stays published. The
// source hears of the refusal (sources.Rejecter) and reads new credentials
// after a short backoff (125-250 ms, doubling while they are refused), so
// once the role is fixed a working pool comes before or soon after the old
// lease ends (Vault then ends the old sessions): measured, 0 failed queries
// in 4 runs, against about a hundred when the source kept the refused
// credentials until its next rotation.
func TestNewCredentialsThatDoNotWork(t *testing.T) {
	t.Parallel()
	const ttl, maxTTL = 2 * time.Second, 4 * time.Second
	f, old := runFault(t, ttl, maxTTL, nil)
	s := f.servers
	noLogin := map[string]any{
		"db_name":               "pg",
		"creation_statements":   []string{`CREATE ROLE "{{name}}" WITH NOLOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`},
		"revocation_statements": dbcreds.RevocationStatements,
		"default_ttl":           int(ttl.Seconds()), "max_ttl": int(maxTTL.Seconds()),
	}
	s.bao.Must(http.MethodPost, "database/roles/app", noLogin)
	i, u, _ := f.rec.Wait(t, 0, "the generation rejected", func(u livebind.Update) bool {
		return u.Kind == livebind.Error && errors.Is(u.Err, livebind.ErrUpdate)
	})
	require.Equal(t, "DB", u.Field)
	require.NotContains(t, u.Err.Error(), old.DB.Password)
	require.Same(t, old.Pool, f.a.Binding().Get().Pool, "the old pool stays published")
	require.Equal(t, old.DB, f.a.Binding().Get().DB)
	require.Equal(t, uint64(1), f.a.Binding().Status().Rejected)
	t.Logf("rejected: %v", u.Err)
	require.NoError(t, s.e.Role(t.Context(), "app", ttl, maxTTL))
	failed := f.recovers(t, i+1, old.DB.Username)
	t.Logf("%d queries failed between the old lease's end and the new credentials", failed)
}

// TestQueryRetriesOnCurrentPool: a query that fails on a pool the snapshot
// replaced while it ran (here, one already closed) runs once more on the
// current pool; a query that fails on the current pool is a failure, run
// once.
func TestQueryRetriesOnCurrentPool(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t)
	pools := &Pools{Host: "127.0.0.1", Port: pg.Port(), Database: "postgres"}
	admin := vault.Credentials{Username: "postgres", Password: pgtest.AdminPassword}
	old, err := pools.open(admin)
	require.NoError(t, err)
	old.Close() // retired while a reader still held its snapshot
	cur, err := pools.open(admin)
	require.NoError(t, err)
	defer cur.Close()
	ping := func(p *pgxpool.Pool) error { return p.Ping(t.Context()) }

	reads := 0
	replaced := func() *pgxpool.Pool { // the snapshot changes after the first read
		reads++
		if reads == 1 {
			return old
		}
		return cur
	}
	retried, err := onCurrentPool(replaced, ping)
	require.NoError(t, err, "run again on the current pool")
	require.True(t, retried)
	require.Equal(t, 2, reads)

	retried, err = onCurrentPool(func() *pgxpool.Pool { return old }, ping)
	require.ErrorIs(t, err, puddle.ErrClosedPool, "the current pool fails: a failure, not run again")
	require.False(t, retried)
}
