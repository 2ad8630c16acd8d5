package main

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/baotest"
	"github.com/livebind/livebind/sources/vault"
)

// TestZeroDowntimeRotation is issue 12's test: 4 workers query without a
// pause through the bound pool while OpenBao issues leases of default_ttl
// 5 s and max_ttl 15 s, for 5 rotations (about 75 s: each lease is renewed
// until its max TTL nears, so a rotation comes every ~14 s). Every query
// must succeed; each rotation publishes a new pool (connected and pinged
// first) and closes the old one after its queries; at the end no session
// is left, the old users were dropped when their leases ended and cannot
// log in, and once the last lease is revoked no user of the engine is left.
func TestZeroDowntimeRotation(t *testing.T) {
	t.Parallel()
	const rotations = 5
	s := startServers(t, 5*time.Second, 15*time.Second)
	o := s.options(t, s.client(t, baotest.RootToken))
	a := s.start(t, o)
	b := a.Binding()

	st := b.Status().Sources[0]
	require.WithinDuration(t, time.Now().Add(5*time.Second), st.LeaseExpires, 1500*time.Millisecond, "Status shows the lease's expiry")
	require.True(t, st.LeaseRenewal.After(time.Now()) && st.LeaseRenewal.Before(st.LeaseExpires), "and its next renewal: %v", st)

	var mu sync.Mutex
	creds := []vault.Credentials{b.Get().DB}
	unsub, err := b.Subscribe(func(u livebind.Update) {
		if u.Kind == livebind.Updated && u.Field == "DB" {
			mu.Lock()
			creds = append(creds, b.Get().DB)
			mu.Unlock()
		}
	})
	require.NoError(t, err)
	defer unsub()

	deadline := time.Now().Add(rotations*15*time.Second + 10*time.Second)
	for a.Rotations() < rotations {
		require.True(t, time.Now().Before(deadline), "only %d rotations by the deadline", a.Rotations())
		if _, failed := a.Counts(); failed > 0 {
			break // Stop's report says which queries failed, and when
		}
		time.Sleep(250 * time.Millisecond)
	}
	r, err := a.Stop()
	require.NoError(t, err)
	t.Logf("report: %s", r)
	require.Zero(t, r.Failed, "failed queries: %v", r.FirstFailures)
	require.Empty(t, r.Errors)
	require.GreaterOrEqual(t, r.Rotations, rotations)
	require.Greater(t, r.OK, int64(1000))
	require.GreaterOrEqual(t, r.PoolsRetired, r.Rotations, "every replaced pool was closed")
	require.Zero(t, s.sessions(t), "no connection left once the program stopped")

	mu.Lock()
	all := append([]vault.Credentials(nil), creds...)
	mu.Unlock()
	require.Len(t, all, r.Rotations+1)
	last := all[len(all)-1]
	// The last replaced lease ends about 2 s after its rotation (the
	// source's lead), and Vault then drops its user.
	for until := time.Now().Add(6 * time.Second); s.users(t) != 1; time.Sleep(100 * time.Millisecond) {
		require.True(t, time.Now().Before(until), "the old users were dropped when their leases ended: %d users", s.users(t))
	}
	for _, c := range all[:len(all)-1] {
		require.Error(t, s.login(t.Context(), c.Username, c.Password), "old credentials of %s", c.Username)
	}
	require.NoError(t, s.login(t.Context(), last.Username, last.Password), "the current credentials work")
	s.bao.Must(http.MethodPut, "sys/leases/revoke-prefix/database/creds/app", nil)
	require.Zero(t, s.users(t), "no user of the engine is left")
	require.Error(t, s.login(t.Context(), last.Username, last.Password), "revoked credentials cannot log in")
}
