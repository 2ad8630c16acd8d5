package vault_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// newVersion matches a result of credentials other than those of lease.
func newVersion(lease string) func(sources.Result) bool {
	return func(r sources.Result) bool { return r.Err == nil && !r.Missing && r.Version != lease }
}

// readWatch reads tg with d, which must succeed, and watches it from that
// read; it returns the read and the log of what the watch emits.
func readWatch(t *testing.T, d sources.Driver, tg *sources.Target) (sources.Result, *fixture.Log[sources.Result]) {
	t.Helper()
	last := d.Read(t.Context(), tg)
	require.NoError(t, last.Err)
	res := newResults()
	fixture.Watch(t, d, tg, last, res.Add)
	return last, res
}

// watchFixedLease starts a server whose role database/fixed issues leases
// of ttl that cannot be renewed, and reads and watches its credentials
// through a driver with short backoffs.
func watchFixedLease(t *testing.T, ttl time.Duration) (*vaulttest.Server, sources.Result, *fixture.Log[sources.Result]) {
	t.Helper()
	s := vaulttest.New(t)
	s.SetRole("database", "fixed", vaulttest.Role{TTL: ttl})
	d := openDriver(t, fast(t, s, s.RootToken()))
	last, res := readWatch(t, d, target("database/creds/fixed", 0, nil))
	return s, last, res
}

// TestDriverLeaseRenewAndRotate: a renewable lease (TTL 2s, max TTL 6s) is
// renewed several times, then, as its max TTL nears, new credentials are
// read and emitted well before the old ones expire. Both fields of the
// secret move together.
func TestDriverLeaseRenewAndRotate(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	s := vaulttest.New(t)
	s.SetRole("database", "app", vaulttest.Role{TTL: ttl, MaxTTL: 3 * ttl, Renewable: true})
	d := openDriver(t, fast(t, s, s.RootToken()))
	user, pass := target("database/creds/app#username", 0, nil), target("database/creds/app#password", 0, nil)
	lastU, lastP := d.Read(t.Context(), user), d.Read(t.Context(), pass)
	require.NoError(t, lastU.Err)
	old := lastU.Version
	require.Equal(t, old, lastP.Version)
	ru, rp := newResults(), newResults()
	fixture.Watch(t, d, user, lastU, ru.Add)
	fixture.Watch(t, d, pass, lastP, rp.Add)

	_, r, at := ru.Wait(t, 0, "new credentials", newVersion(old))
	info, ok := s.Lease(old)
	require.True(t, ok)
	lead := info.Expires.Sub(at)
	t.Logf("lease TTL %s, max TTL %s: %d renewals, new credentials %s after issue, %s (%.0f%% of the TTL) before the old expired",
		ttl, 3*ttl, info.Renewals, at.Sub(info.Issued).Round(time.Millisecond), lead.Round(time.Millisecond), 100*float64(lead)/float64(ttl))
	require.GreaterOrEqual(t, info.Renewals, 2, "renewed while the max TTL allowed")
	require.GreaterOrEqual(t, lead, ttl/10, "published at least 10%% of the lease before expiry")
	require.GreaterOrEqual(t, at.Sub(info.Issued), 2*ttl, "not rotated while renewals still extended the lease")
	fresh, ok := s.Lease(r.Version)
	require.True(t, ok)
	require.Equal(t, fresh.Username, string(r.Data))
	_, rpass, _ := rp.Wait(t, 0, "new password", newVersion(old))
	require.Equal(t, r.Version, rpass.Version, "both fields come from the same lease")
	require.Equal(t, fresh.Password, string(rpass.Data))
	require.Len(t, s.Leases(), 2, "one read per rotation")
}

// TestDriverLeaseNotRenewable: a lease that cannot be renewed is replaced
// 15-20% of its TTL before it expires; the replacements keep coming.
func TestDriverLeaseNotRenewable(t *testing.T) {
	t.Parallel()
	const ttl = 3 * time.Second // whole seconds, as Vault; long enough that scheduling noise is small
	s, last, res := watchFixedLease(t, ttl)
	prev := last.Version
	for i := range 2 {
		_, r, at := res.Wait(t, i, "rotation", newVersion(prev))
		info, _ := s.Lease(prev)
		lead := info.Expires.Sub(at)
		t.Logf("rotation %d: %s (%.0f%% of the TTL) before the old lease expired", i+1, lead.Round(time.Millisecond), 100*float64(lead)/float64(ttl))
		require.GreaterOrEqual(t, lead, ttl/10)
		require.Zero(t, info.Renewals)
		prev = r.Version
	}
	require.Zero(t, countPrefix(s.Requests(), "PUT sys/leases/renew"), "a non-renewable lease is never renewed")
}

// TestDriverLeaseRevoked: a lease revoked behind the driver's back fails
// its next renewal; new credentials are read at once.
func TestDriverLeaseRevoked(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.SetRole("database", "app", vaulttest.Role{TTL: 3 * time.Second, Renewable: true})
	client := s.Client(t, s.RootToken())
	d := openDriver(t, vault.Config{Client: client, MaxBackoff: 500 * time.Millisecond})
	last, res := readWatch(t, d, target("database/creds/app", 0, nil))
	require.NoError(t, client.Sys().RevokeWithContext(t.Context(), last.Version))
	start := time.Now()
	_, _, at := res.Wait(t, 0, "replacement", newVersion(last.Version))
	t.Logf("revoked lease replaced after %s (at its renewal, ~2s into a 3s lease)", at.Sub(start).Round(time.Millisecond))
	require.Less(t, at.Sub(start), 2500*time.Millisecond)
}

// TestDriverLeaseSealed: while Vault is sealed new credentials cannot be
// read; once the old lease has run out the error says so; after unseal the
// credentials come back.
func TestDriverLeaseSealed(t *testing.T) {
	t.Parallel()
	const ttl = time.Second
	s, last, res := watchFixedLease(t, ttl)
	s.Seal()
	i, r, _ := res.Wait(t, 0, "expired", func(r sources.Result) bool { return r.Err != nil && errorsIs(r.Err, vault.ErrLeaseExpired) })
	require.ErrorIs(t, r.Err, vault.ErrSealed)
	require.ErrorContains(t, r.Err, "the current credentials' lease has expired (lease #")
	require.NotContains(t, r.Err.Error(), last.Version, "the lease id is named by a fingerprint, never itself")
	s.Unseal()
	res.Wait(t, i+1, "new credentials", newVersion(last.Version))
}
