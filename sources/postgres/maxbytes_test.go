package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/internal/testenv/pgtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/postgres"
)

// TestHugeValueIsBoundedOnTheWire: a value far over maxbytes= (a row an
// attacker with write access to the table stored, here a query's 64 MB
// result, 64 times the default limit) must be an error wrapping sources.ErrTooLarge that names the
// target, without the driver receiving the whole row into memory first;
// the next read of a good value works (a fresh connection). Runs in a
// child process under a heap watchdog.
func TestHugeValueIsBoundedOnTheWire(t *testing.T) {
	res := childtest.Run(t, childtest.Limits{Timeout: 90 * time.Second, Heap: 48 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		s := pgtest.Start(t)
		d := openDriver(t, s.AdminDSN())
		for _, q := range []string{"SELECT repeat('x', 64000000)", "SELECT decode(repeat('ab', 32000000), 'hex')"} {
			r := d.Read(t.Context(), &sources.Target{Scheme: "postgres", Location: "big", Timeout: time.Minute, Params: map[string]string{"query": q}})
			require.ErrorIs(t, r.Err, sources.ErrTooLarge, "%s", q)
			var e *postgres.Error
			require.True(t, errors.As(r.Err, &e), "%T", r.Err)
			require.Contains(t, r.Err.Error(), "big")
		}
		r := d.Read(t.Context(), &sources.Target{Scheme: "postgres", Location: "small", Params: map[string]string{"query": "SELECT 'ok'"}})
		require.NoError(t, r.Err)
		require.Equal(t, "ok", string(r.Data))
	})
	require.True(t, res.OK(), "%s", res)
}
