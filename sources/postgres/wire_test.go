package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/pgtest"
	"github.com/livebind/livebind/sources"
)

// hugeMessage is the body size the fake servers declare: 512 MiB, ten
// times the children's heap limit.
const hugeMessage = 512 << 20

// TestOversizeMessageWhileConnecting: a server (or something posing as
// one) that answers the startup with a message header declaring 512 MiB
// must not make the driver allocate it: the read fails as unreachable,
// promptly, under a 48 MiB heap watchdog.
func TestOversizeMessageWhileConnecting(t *testing.T) {
	res := childtest.Run(t, childtest.Limits{Timeout: 60 * time.Second, Heap: 48 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		f := pgtest.Fake(t, pgtest.OversizeStartup, hugeMessage)
		d := openDriver(t, "postgres://app:fake-pw-31@"+f.Addr+"/postgres?sslmode=disable")
		tg := target("settings/x", nil)
		tg.Timeout = 3 * time.Second
		start := time.Now()
		r := d.Read(t.Context(), tg)
		require.ErrorIs(t, r.Err, sources.ErrUnreachable)
		require.NotContains(t, r.Err.Error(), "fake-pw-31")
		require.Less(t, time.Since(start), 2*time.Second, "the oversize message was read until the timeout: %v", r.Err)
	})
	require.True(t, res.OK(), "%s", res)
}

// TestOversizeNotification: the LISTEN connection gets a notification
// message header declaring 512 MiB (a real server sends at most 8000
// bytes of payload): the driver must not allocate it, and must drop that
// connection and LISTEN again on a new one.
func TestOversizeNotification(t *testing.T) {
	res := childtest.Run(t, childtest.Limits{Timeout: 60 * time.Second, Heap: 48 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		f := pgtest.Fake(t, pgtest.OversizeNotify, hugeMessage)
		d := openDriver(t, "postgres://app:fake-pw-31@"+f.Addr+"/postgres?sslmode=disable")
		stop := fixture.Watch(t, d, target("q", map[string]string{"query": "SELECT 1"}), sources.Result{}, func(sources.Result) {})
		defer stop()
		// One read connection, and the LISTEN connection at least twice.
		require.Eventually(t, func() bool { return f.Conns.Load() >= 3 }, 10*time.Second, 10*time.Millisecond, "connections: %d", f.Conns.Load())
	})
	require.True(t, res.OK(), "%s", res)
}
