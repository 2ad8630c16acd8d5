package vault_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/baotest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources/vault"
)

// Leases and tokens on a real server (issue 12). The dev server's
// -dev-leased-kv mounts secret/ as a KV v1 mount whose reads carry a
// renewable lease of the secret's own "ttl" key: the driver must follow
// the lease of the answer, not the mount type.

// leases lists the ids of the leases under prefix (sys/leases/lookup/<prefix>/).
func leases(t testing.TB, s *baotest.Server, prefix string) []string {
	t.Helper()
	keys := listKeys(t, s, "sys/leases/lookup/"+prefix+"/")
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = prefix + "/" + k
	}
	return ids
}

// listKeys LISTs path on s and returns its keys; none for a 404.
func listKeys(t testing.TB, s *baotest.Server, path string) []string {
	t.Helper()
	status, body, err := s.Do("LIST", path, nil)
	require.NoError(t, err)
	if status == http.StatusNotFound {
		return nil
	}
	require.Equal(t, http.StatusOK, status, "%s", body)
	var ans struct {
		Data struct {
			Keys []string `json:"keys"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &ans))
	return ans.Data.Keys
}

// leaseExpiry looks a lease up and returns its expire_time; ok is false
// when the server no longer knows it.
func leaseExpiry(t testing.TB, s *baotest.Server, id string) (time.Time, bool) {
	t.Helper()
	_, exp, ok := leaseTimes(t, s, id)
	return exp, ok
}

// leaseTimes looks a lease up and returns its issue_time and expire_time;
// ok is false when the server no longer knows it.
func leaseTimes(t testing.TB, s *baotest.Server, id string) (issued, expires time.Time, ok bool) {
	t.Helper()
	status, body, err := s.Do(http.MethodPut, "sys/leases/lookup", map[string]any{"lease_id": id})
	require.NoError(t, err)
	if status != http.StatusOK {
		return time.Time{}, time.Time{}, false
	}
	var ans struct {
		Data struct {
			IssueTime  time.Time `json:"issue_time"`
			ExpireTime time.Time `json:"expire_time"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &ans))
	return ans.Data.IssueTime, ans.Data.ExpireTime, true
}

// bindLeasedKV starts a -dev-leased-kv server holding secret/app (user
// bob-leased-1) with a lease of ttl, and binds a T to it with the root
// token (see bind).
func bindLeasedKV[T any](t *testing.T, ttl string) (*baotest.Server, *livebind.Binding[T], *fixture.Log[livebind.Update], *fixture.Buffer) {
	t.Helper()
	s := baotest.Start(t, baotest.WithArgs("-dev-leased-kv"))
	s.Must(http.MethodPost, "secret/app", map[string]any{"user": "bob-leased-1", "ttl": ttl})
	b, rec, logs := bind[T](t, realClient(t, s, baotest.RootToken))
	return s, b, rec, logs
}

type realLeased struct {
	User string `live:"vault=secret/app#user"`
}

// TestRealLeasedKVRenewed: the issue's bug. A KV v1 secret that comes with a
// renewable lease (8 s) is renewed before it expires (sys/leases/lookup
// shows its expire_time move), the lease outlives its first TTL, and it is
// not re-read (one lease, no poll minting new ones). Bad outcome before
// the fix: polled every 30 s as plain KV, the lease ran out 8 s after Bind.
func TestRealLeasedKVRenewed(t *testing.T) {
	t.Parallel()
	s, b, rec, logs := bindLeasedKV[realLeased](t, "8s")
	require.Equal(t, "bob-leased-1", b.Get().User)
	ids := leases(t, s, "secret/app")
	require.Len(t, ids, 1, "one read, one lease")
	first, ok := leaseExpiry(t, s, ids[0])
	require.True(t, ok)
	deadline := time.Now().Add(15 * time.Second)
	for {
		exp, ok := leaseExpiry(t, s, ids[0])
		require.True(t, ok, "the lease must not run out")
		if exp.After(first.Add(time.Second)) && time.Now().After(first.Add(time.Second)) {
			t.Logf("lease renewed: expire_time %s -> %s", first.Format(time.RFC3339Nano), exp.Format(time.RFC3339Nano))
			break
		}
		require.True(t, time.Now().Before(deadline), "expire_time never moved past %s", first)
		time.Sleep(200 * time.Millisecond)
	}
	require.Equal(t, ids, leases(t, s, "secret/app"), "renewed, not re-read")
	noErrorUpdates(t, rec, "while the lease is renewed")
	require.Equal(t, "bob-leased-1", b.Get().User)
	leaks(t, "logs", logs.String(), "bob-leased-1")
}

// TestRealLeasedKVCappedRotates: a lease that renewals cannot extend (the
// mount's max_lease_ttl of 7 s caps a 3 s lease) is replaced by a new
// read before it ends, with a lead of at least 10% of the lease.
func TestRealLeasedKVCappedRotates(t *testing.T) {
	t.Parallel()
	lead, ttl := rotationLead(t)
	t.Logf("rotation lead %s of a %s lease (%.0f%%)", lead, ttl, 100*lead.Seconds()/ttl.Seconds())
	require.GreaterOrEqual(t, lead, ttl/10, "new credentials %s before the old lease ends; want >= 10%% of %s", lead, ttl)
}

// rotationLead runs one capped rotation on a real server (a 3 s lease,
// max_lease_ttl 7 s) and returns how long before the old lease's end the
// server issued the new one, and the lease's TTL. Both times come from
// the server (sys/leases/lookup). The secret's data does not change, so
// the re-read emits nothing new (equal results are not repeated): the
// server's lease table is the witness.
func rotationLead(tb testing.TB) (lead, ttl time.Duration) {
	tb.Helper()
	ttl = 3 * time.Second
	s := baotest.Start(tb, baotest.WithArgs("-dev-leased-kv"))
	s.Must(http.MethodPost, "sys/mounts/secret/tune", map[string]any{"max_lease_ttl": "7s"})
	s.Must(http.MethodPost, "secret/app", map[string]any{"user": "bob-capped", "ttl": "3s"})
	d := openDriver(tb, realClient(tb, s, baotest.RootToken))
	tg := target("secret/app#user", 0, nil)
	last := d.Read(tb.Context(), tg)
	require.NoError(tb, last.Err)
	require.Equal(tb, "bob-capped", string(last.Data))
	res := newResults()
	stop, err := d.Watch(tg, last, res.Add)
	require.NoError(tb, err)
	tb.Cleanup(stop)
	var oldEnd time.Time
	deadline := time.Now().Add(12 * time.Second)
	for {
		if _, exp, ok := leaseTimes(tb, s, last.Version); ok {
			oldEnd = exp
		}
		for _, id := range leases(tb, s, "secret/app") {
			if id == last.Version {
				continue
			}
			issued, _, ok := leaseTimes(tb, s, id)
			require.True(tb, ok)
			require.False(tb, oldEnd.IsZero())
			for _, r := range res.All() {
				require.NoError(tb, r.Err)
			}
			return oldEnd.Sub(issued), ttl
		}
		require.True(tb, time.Now().Before(deadline), "no new lease within 12 s")
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealLeaseRevoked: a lease revoked on the server (sys/leases/revoke)
// gives, at the next renewal, an Error update wrapping ErrLeaseExpired that
// names the field and shows no secret; the value stays, and the driver
// recovers by reading new credentials (a new lease, renewed in turn).
func TestRealLeaseRevoked(t *testing.T) {
	t.Parallel()
	s, b, rec, logs := bindLeasedKV[realLeased](t, "4s")
	ids := leases(t, s, "secret/app")
	require.Len(t, ids, 1)
	s.Must(http.MethodPut, "sys/leases/revoke", map[string]any{"lease_id": ids[0]})
	u := rec.Until(t, "Error after the revocation", func(u livebind.Update) bool { return u.Kind == livebind.Error })
	require.ErrorIs(t, u.Err, vault.ErrLeaseExpired)
	var ve *vault.Error
	require.ErrorAs(t, u.Err, &ve)
	require.Equal(t, "User", u.Field)
	leaks(t, "error update", u.String(), "bob-leased-1")
	require.Equal(t, "bob-leased-1", b.Get().User, "the last good value stays")
	newLease(t, s, ids[0], "after the revocation")
	// The new lease is followed: it outlives its own 4 s.
	time.Sleep(5 * time.Second)
	now := leases(t, s, "secret/app")
	require.Len(t, now, 1, "renewed, not re-read")
	_, ok := leaseExpiry(t, s, now[0])
	require.True(t, ok)
	leaks(t, "logs", logs.String(), "bob-leased-1")
}

// newToken creates a renewable child of the root token with ttl and
// policies (root when none are given) and returns it.
func newToken(t testing.TB, s *baotest.Server, ttl string, policies ...string) string {
	t.Helper()
	if len(policies) == 0 {
		policies = []string{"root"}
	}
	ans := s.Must(http.MethodPost, "auth/token/create", map[string]any{"policies": policies, "ttl": ttl, "renewable": true})
	return ans["auth"].(map[string]any)["client_token"].(string)
}

// policyToken writes the ACL policy name with rules and returns a new
// token of one hour holding only that policy.
func policyToken(t testing.TB, s *baotest.Server, name, rules string) string {
	t.Helper()
	s.Must(http.MethodPut, "sys/policies/acl/"+name, map[string]any{"policy": rules})
	return newToken(t, s, "1h", name)
}

// newLease waits up to 8 s for the one lease under secret/app to be another
// than old and known to the server, and returns it; what says after what.
func newLease(t testing.TB, s *baotest.Server, old, what string) string {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for {
		now := leases(t, s, "secret/app")
		if len(now) == 1 && now[0] != old {
			if _, ok := leaseExpiry(t, s, now[0]); ok {
				return now[0]
			}
		}
		require.True(t, time.Now().Before(deadline), "no new lease %s: %v", what, now)
		time.Sleep(100 * time.Millisecond)
	}
}

// tokenTTL looks tok up with itself: its remaining TTL and whether it has
// been renewed; ok is false when the server refuses it.
func tokenTTL(t *testing.T, s *baotest.Server, tok string) (ttl time.Duration, renewed, ok bool) {
	t.Helper()
	status, body, err := s.DoToken(tok, http.MethodGet, "auth/token/lookup-self", nil)
	require.NoError(t, err)
	if status != http.StatusOK {
		return 0, false, false
	}
	var ans struct {
		Data struct {
			TTL         int64  `json:"ttl"`
			LastRenewal *int64 `json:"last_renewal_time"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &ans))
	return time.Duration(ans.Data.TTL) * time.Second, ans.Data.LastRenewal != nil, true
}

// TestRealTokenRenewed: a renewable token of 4 s is renewed by the driver
// (lookup-self shows a last_renewal_time and a TTL refreshed), outlives its
// first TTL, and reads keep working.
func TestRealTokenRenewed(t *testing.T) {
	t.Parallel()
	s := baotest.Start(t)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "tok-pw-1"}})
	tok := newToken(t, s, "4s")
	b, rec, logs := bind[realKV](t, realClient(t, s, tok))
	require.Equal(t, "tok-pw-1", b.Get().Password)
	time.Sleep(6 * time.Second) // past the token's first TTL
	ttl, renewed, ok := tokenTTL(t, s, tok)
	require.True(t, ok, "the token ran out: not renewed")
	require.True(t, renewed, "lookup-self shows no renewal")
	require.Positive(t, ttl)
	t.Logf("token TTL 6 s after a 4 s token was created: %s", ttl)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "tok-pw-2"}})
	rec.Until(t, "Updated with the renewed token", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && u.Field == "Password"
	})
	noErrorUpdates(t, rec, "with the renewed token")
	leaks(t, "logs", logs.String(), tok, "tok-pw-1", "tok-pw-2")
}

// TestRealTokenExpiredOrRevoked: a token that runs out (not renewed:
// SkipTokenRenewal) and a token revoked on the server each give an Error
// update wrapping ErrTokenInvalid, naming the field, with neither the
// token nor the secret in any text; the value stays.
func TestRealTokenExpiredOrRevoked(t *testing.T) {
	t.Parallel()
	s := baotest.Start(t)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "tok-pw-x"}})
	for _, tc := range []struct {
		name string
		end  func(tok string)
	}{
		{"expired", func(string) {}},
		{"revoked", func(tok string) { s.Must(http.MethodPost, "auth/token/revoke", map[string]any{"token": tok}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := newToken(t, s, "3s")
			cfg := realClient(t, s, tok)
			cfg.SkipTokenRenewal = true
			b, rec, logs := bind[realKV](t, cfg)
			tc.end(tok)
			u := rec.Until(t, "Error for the dead token", func(u livebind.Update) bool { return u.Kind == livebind.Error })
			require.ErrorIs(t, u.Err, vault.ErrTokenInvalid)
			require.NotEmpty(t, u.Field)
			require.Equal(t, "tok-pw-x", b.Get().Password)
			for _, u := range rec.All() {
				leaks(t, "update", u.String(), tok, "tok-pw-x")
				if u.Err != nil {
					leaks(t, "error", u.Err.Error(), tok, "tok-pw-x")
				}
			}
			leaks(t, "logs", logs.String(), tok, "tok-pw-x")
		})
	}
}

// TestRealLeasedKVChangeAtRenewal: a leased KV secret rewritten on the
// server is Updated at the next renewal (whose answer carries the current
// data), with no extra read: still one lease.
func TestRealLeasedKVChangeAtRenewal(t *testing.T) {
	t.Parallel()
	s, b, rec, logs := bindLeasedKV[realLeased](t, "4s")
	require.Equal(t, "bob-leased-1", b.Get().User)
	ids := leases(t, s, "secret/app")
	s.Must(http.MethodPost, "secret/app", map[string]any{"user": "bob-leased-2", "ttl": "4s"})
	rec.Until(t, "Updated at the renewal", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && u.Field == "User"
	})
	require.Equal(t, "bob-leased-2", b.Get().User)
	require.Equal(t, ids, leases(t, s, "secret/app"), "seen by a renewal, not a new read")
	leaks(t, "logs", logs.String(), "bob-leased-1", "bob-leased-2")
}

// TestRealMetadataDenied: a token whose policy allows secret/data/app but
// not secret/metadata/app (and may look its mount up) still follows the
// secret by reading the data each poll, and sees a new version.
func TestRealMetadataDenied(t *testing.T) {
	t.Parallel()
	s := baotest.Start(t)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "md-pw-1"}})
	tok := policyToken(t, s, "dataonly", `path "secret/data/app" { capabilities = ["read"] }`)
	b, rec, logs := bind[realKV](t, realClient(t, s, tok))
	require.Equal(t, "md-pw-1", b.Get().Password)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "md-pw-2"}})
	rec.Until(t, "Updated through data reads", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && u.Field == "Password"
	})
	require.Equal(t, "md-pw-2", b.Get().Password)
	noErrorUpdates(t, rec, "while reading data without metadata")
	leaks(t, "logs", logs.String(), tok, "md-pw-1", "md-pw-2")
}

type realLeasedPolled struct {
	User string `live:"vault=secret/app#user; poll=200ms"`
}

// TestRealLeasedKVDeleted: a leased KV secret deleted on the server is
// Removed (the value stays) at the next renewal, which comes back empty,
// with no Error update; while missing it is polled (poll=), and a new
// write is Added.
func TestRealLeasedKVDeleted(t *testing.T) {
	t.Parallel()
	s, b, rec, logs := bindLeasedKV[realLeasedPolled](t, "3s")
	s.Must(http.MethodDelete, "secret/app", nil)
	rec.Until(t, "Removed", func(u livebind.Update) bool { return u.Kind == livebind.Removed && u.Field == "User" })
	require.Equal(t, "bob-leased-1", b.Get().User, "Removed keeps the value")
	s.Must(http.MethodPost, "secret/app", map[string]any{"user": "bob-leased-3", "ttl": "3s"})
	rec.Until(t, "Added", func(u livebind.Update) bool { return u.Kind == livebind.Added && u.Field == "User" })
	require.Equal(t, "bob-leased-3", b.Get().User)
	noErrorUpdates(t, rec, "while the secret is deleted and written again")
	require.NotContains(t, logs.String(), `"level":"WARN"`)
	leaks(t, "logs", logs.String(), "bob-leased-1", "bob-leased-3")
}

// TestRealLeaseSealed: sealing the server while a 3 s lease is followed:
// the renewal and the re-read fail, an Error update wraps ErrSealed and,
// once the lease has run out, ErrLeaseExpired; the value stays. After
// unsealing, new credentials are read (a new lease) and followed.
func TestRealLeaseSealed(t *testing.T) {
	t.Parallel()
	s, b, rec, logs := bindLeasedKV[realLeased](t, "3s")
	old := leases(t, s, "secret/app")
	require.Len(t, old, 1)
	s.Seal()
	u := rec.Until(t, "Error while sealed", func(u livebind.Update) bool { return u.Kind == livebind.Error })
	require.ErrorIs(t, u.Err, vault.ErrSealed)
	u = rec.Until(t, "Error naming the expired lease", func(u livebind.Update) bool {
		return u.Kind == livebind.Error && errorsIs(u.Err, vault.ErrLeaseExpired)
	})
	require.ErrorIs(t, u.Err, vault.ErrSealed)
	require.Equal(t, "bob-leased-1", b.Get().User, "the last good value stays")
	s.Unseal()
	newLease(t, s, old[0], "after unseal")
	require.Equal(t, "bob-leased-1", b.Get().User)
	for _, u := range rec.All() {
		leaks(t, "update", u.String(), "bob-leased-1")
	}
	leaks(t, "logs", logs.String(), "bob-leased-1")
}
