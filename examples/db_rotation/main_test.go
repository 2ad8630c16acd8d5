package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/baotest"
	"github.com/livebind/livebind/internal/testenv/pgtest"
)

// TestProgram runs the program as `go run` would, briefly, against servers
// the test starts: it sets up the engine itself (-setup), binds, rotates
// twice with 2 s leases capped at 4 s, and prints each rotation, status
// lines with the lease, and a summary with 0 failed queries.
func TestProgram(t *testing.T) {
	pg := pgtest.Start(t)
	bao := baotest.Start(t)
	t.Setenv("VAULT_ADDR", bao.Addr)
	t.Setenv("VAULT_TOKEN", baotest.RootToken)
	t.Setenv("PGPASSWORD", pgtest.AdminPassword)
	out := &logWriter{tb: t}
	err := mainRun(t.Context(), flags{
		pgHost: "127.0.0.1", pgPort: pg.Port(), pgDB: "postgres", setup: true,
		ttl: 2 * time.Second, maxTTL: 4 * time.Second, duration: 9 * time.Second, workers: 2,
	}, out)
	require.NoError(t, err)
	got := out.buf.String()
	require.Contains(t, got, "bound: user v-")
	require.Contains(t, got, "rotation 2 (generation")
	require.Contains(t, got, "; lease expires in ")
	require.Contains(t, got, ", renewal in ")
	require.Regexp(t, `\d+ rotations, \d+ queries ok, 0 failed`, got)
	require.NotContains(t, got, "password")

	require.ErrorIs(t, mainRun(t.Context(), flags{}, out), errNoPostgres)
}
