package vaulttest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// statusOf returns the HTTP status of a vault/api error, or 0.
func statusOf(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// startRoot starts a server and returns it with a client holding its root
// token.
func startRoot(t *testing.T) (*Server, *api.Client) {
	t.Helper()
	s := New(t)
	return s, s.Client(t, s.RootToken())
}

func TestKV2Lifecycle(t *testing.T) {
	t.Parallel()
	_, c := startRoot(t)
	ctx := t.Context()
	kv := c.KVv2("secret")

	_, err := kv.Get(ctx, "db")
	require.ErrorIs(t, err, api.ErrSecretNotFound, "absent: 404 with no body data")

	w, err := kv.Put(ctx, "db", map[string]any{"password": "p1"})
	require.NoError(t, err)
	require.Equal(t, 1, w.VersionMetadata.Version)
	_, err = kv.Put(ctx, "db", map[string]any{"password": "p2"})
	require.NoError(t, err)

	got, err := kv.Get(ctx, "db")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"password": "p2"}, got.Data)
	require.Equal(t, 2, got.VersionMetadata.Version)

	old, err := kv.GetVersion(ctx, "db", 1)
	require.NoError(t, err)
	require.Equal(t, "p1", old.Data["password"])

	md, err := kv.GetMetadata(ctx, "db")
	require.NoError(t, err)
	require.Equal(t, 2, md.CurrentVersion)
	require.Len(t, md.Versions, 2)

	// Soft delete of the latest version: 404 WITH the body, as Vault.
	require.NoError(t, kv.Delete(ctx, "db"))
	sec, err := c.Logical().ReadWithContext(ctx, "secret/data/db")
	require.NoError(t, err, "the client turns a 404 with data into a secret")
	require.NotNil(t, sec)
	require.Nil(t, sec.Data["data"])
	meta := sec.Data["metadata"].(map[string]any)
	require.NotEmpty(t, meta["deletion_time"])
	require.Equal(t, false, meta["destroyed"])
	raw, err := c.Logical().ReadRawWithContext(ctx, "secret/data/db")
	require.Equal(t, http.StatusNotFound, statusOf(err))
	require.Equal(t, http.StatusNotFound, raw.StatusCode)
	_ = raw.Body.Close()

	md, err = kv.GetMetadata(ctx, "db")
	require.NoError(t, err)
	require.False(t, md.Versions["2"].DeletionTime.IsZero())

	require.NoError(t, kv.Undelete(ctx, "db", []int{2}))
	got, err = kv.Get(ctx, "db")
	require.NoError(t, err)
	require.Equal(t, "p2", got.Data["password"])

	require.NoError(t, kv.Destroy(ctx, "db", []int{2}))
	sec, err = c.Logical().ReadWithContext(ctx, "secret/data/db")
	require.NoError(t, err)
	require.Equal(t, true, sec.Data["metadata"].(map[string]any)["destroyed"])
	require.NoError(t, kv.Undelete(ctx, "db", []int{2}))
	sec, err = c.Logical().ReadWithContext(ctx, "secret/data/db")
	require.NoError(t, err)
	require.Nil(t, sec.Data["data"], "a destroyed version cannot be undeleted")

	// CAS.
	_, err = kv.Put(ctx, "db", map[string]any{"password": "p3"}, api.WithCheckAndSet(1))
	require.Equal(t, http.StatusBadRequest, statusOf(err))
	_, err = kv.Put(ctx, "db", map[string]any{"password": "p3"}, api.WithCheckAndSet(2))
	require.NoError(t, err)

	// A path without data/ in a v2 mount: 404 with the plugin's warning.
	sec, err = c.Logical().ReadWithContext(ctx, "secret/db")
	require.NoError(t, err)
	require.NotNil(t, sec)
	require.Contains(t, sec.Warnings[0], "Invalid path for a versioned K/V secrets engine")

	require.NoError(t, kv.DeleteMetadata(ctx, "db"))
	_, err = kv.GetMetadata(ctx, "db")
	require.Error(t, err)
}

func TestKV1AndMounts(t *testing.T) {
	t.Parallel()
	_, c := startRoot(t)
	ctx := t.Context()
	require.NoError(t, c.KVv1("kv1").Put(ctx, "app", map[string]any{"token": "t1"}))
	sec, err := c.Logical().ReadWithContext(ctx, "kv1/app")
	require.NoError(t, err)
	require.Equal(t, "t1", sec.Data["token"])
	require.Equal(t, kvDefaultTTL, sec.LeaseDuration)
	require.Empty(t, sec.LeaseID)
	_, err = c.Logical().DeleteWithContext(ctx, "kv1/app")
	require.NoError(t, err)
	sec, err = c.Logical().ReadWithContext(ctx, "kv1/app")
	require.NoError(t, err)
	require.Nil(t, sec)

	for path, want := range map[string][2]string{
		"secret/data/db": {"secret/", "2"}, "secret/db": {"secret/", "2"}, "kv1/app": {"kv1/", "1"},
	} {
		sec, err := c.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+path)
		require.NoError(t, err, path)
		require.Equal(t, want[0], sec.Data["path"])
		require.Equal(t, "kv", sec.Data["type"])
		require.Equal(t, want[1], sec.Data["options"].(map[string]any)["version"])
	}
	sec, err = c.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/database/creds/x")
	require.NoError(t, err)
	require.Equal(t, "database", sec.Data["type"])
	require.Nil(t, sec.Data["options"])

	_, err = c.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/nowhere/x")
	require.Equal(t, http.StatusForbidden, statusOf(err), "no mount: 403, as Vault")

	resp, err := c.Logical().ReadRawWithContext(ctx, "nowhere/x")
	require.Equal(t, http.StatusNotFound, statusOf(err))
	require.ErrorContains(t, err, "no handler for route")
	_ = resp.Body.Close()
}

func TestPolicyAndTokens(t *testing.T) {
	t.Parallel()
	s, root := startRoot(t)
	ctx := t.Context()
	s.PutKV2("secret", "app/db", map[string]any{"k": "v"})

	tok := s.CreateToken(TokenOptions{Policies: []string{"secret/data/app/*"}, TTL: time.Hour, MaxTTL: 90 * time.Minute, Renewable: true})
	c := s.Client(t, tok)
	_, err := c.Logical().ReadWithContext(ctx, "secret/data/app/db")
	require.NoError(t, err)
	_, err = c.Logical().ReadWithContext(ctx, "secret/metadata/app/db")
	require.Equal(t, http.StatusForbidden, statusOf(err))
	_, err = c.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/secret/data/app/db")
	require.NoError(t, err, "some access under the mount is enough")
	_, err = c.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/kv1/app")
	require.Equal(t, http.StatusForbidden, statusOf(err))

	self, err := c.Auth().Token().LookupSelfWithContext(ctx)
	require.NoError(t, err)
	ttl, err := self.TokenTTL()
	require.NoError(t, err)
	require.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 2)
	renewable, err := self.TokenIsRenewable()
	require.NoError(t, err)
	require.True(t, renewable)

	s.Advance(50 * time.Minute)
	r, err := c.Auth().Token().RenewSelfWithContext(ctx, 0)
	require.NoError(t, err)
	require.InDelta(t, 40*60, r.Auth.LeaseDuration, 1, "capped at the max TTL")
	require.Len(t, r.Warnings, 1)
	require.Contains(t, r.Warnings[0], "capped")

	s.Advance(41 * time.Minute)
	_, err = c.Logical().ReadWithContext(ctx, "secret/data/app/db")
	require.Equal(t, http.StatusForbidden, statusOf(err), "expired")
	_, err = c.Auth().Token().LookupSelfWithContext(ctx)
	require.Equal(t, http.StatusForbidden, statusOf(err))
	_, err = root.Logical().ReadWithContext(ctx, "secret/data/app/db")
	require.NoError(t, err, "the root token never expires")

	tok2 := s.CreateToken(TokenOptions{Policies: []string{"secret/*"}})
	c2 := s.Client(t, tok2)
	_, err = c2.Auth().Token().RenewSelfWithContext(ctx, 0)
	require.Equal(t, http.StatusBadRequest, statusOf(err))
	s.RevokeToken(tok2)
	_, err = c2.Logical().ReadWithContext(ctx, "secret/data/app/db")
	require.Equal(t, http.StatusForbidden, statusOf(err))
	var re *api.ResponseError
	require.ErrorAs(t, err, &re)
	require.Equal(t, []string{"permission denied"}, re.Errors)
}

func TestLeases(t *testing.T) {
	t.Parallel()
	s, c := startRoot(t)
	ctx := t.Context()
	s.SetRole("database", "app", Role{TTL: time.Minute, MaxTTL: 3 * time.Minute, Renewable: true})
	s.SetRole("database", "fixed", Role{TTL: time.Minute})

	a, err := c.Logical().ReadWithContext(ctx, "database/creds/app")
	require.NoError(t, err)
	b, err := c.Logical().ReadWithContext(ctx, "database/creds/app")
	require.NoError(t, err)
	require.NotEqual(t, a.LeaseID, b.LeaseID)
	require.NotEqual(t, a.Data["password"], b.Data["password"], "new credentials on each read")
	require.Equal(t, 60, a.LeaseDuration)
	require.True(t, a.Renewable)

	for range 2 {
		s.Advance(50 * time.Second)
		r, err := c.Sys().RenewWithContext(ctx, a.LeaseID, 60)
		require.NoError(t, err)
		require.Equal(t, 60, r.LeaseDuration)
		require.Empty(t, r.Warnings)
	}
	s.Advance(50 * time.Second) // 150s after issue; max TTL 180s
	r, err := c.Sys().RenewWithContext(ctx, a.LeaseID, 60)
	require.NoError(t, err)
	require.InDelta(t, 30, r.LeaseDuration, 1, "capped at max TTL")
	require.NotEmpty(t, r.Warnings)
	info, ok := s.Lease(a.LeaseID)
	require.True(t, ok)
	require.Equal(t, 3, info.Renewals)

	s.Advance(31 * time.Second)
	_, err = c.Sys().RenewWithContext(ctx, a.LeaseID, 60)
	require.Equal(t, http.StatusBadRequest, statusOf(err), "expired")
	require.ErrorContains(t, err, "lease not found")

	f, err := c.Logical().ReadWithContext(ctx, "database/creds/fixed")
	require.NoError(t, err)
	require.False(t, f.Renewable)
	_, err = c.Sys().RenewWithContext(ctx, f.LeaseID, 0)
	require.ErrorContains(t, err, "lease is not renewable")
	require.Len(t, s.Leases(), 3)
}

func TestSealCountsStallRespond(t *testing.T) {
	t.Parallel()
	s, c := startRoot(t)
	ctx := t.Context()
	s.PutKV2("secret", "db", map[string]any{"k": "v"})

	require.NoError(t, c.Sys().SealWithContext(ctx))
	_, err := c.Logical().ReadWithContext(ctx, "secret/data/db")
	require.Equal(t, http.StatusServiceUnavailable, statusOf(err))
	require.ErrorContains(t, err, "Vault is sealed")
	st, err := c.Sys().SealStatusWithContext(ctx)
	require.NoError(t, err)
	require.True(t, st.Sealed)
	st, err = c.Sys().UnsealWithContext(ctx, "key")
	require.NoError(t, err)
	require.False(t, st.Sealed)
	_, err = c.Logical().ReadWithContext(ctx, "secret/data/db")
	require.NoError(t, err)
	require.Equal(t, 2, s.Count("secret/data/db"))

	s.Seal()
	_, err = c.Logical().ReadWithContext(ctx, "secret/data/db")
	require.Equal(t, http.StatusServiceUnavailable, statusOf(err))
	s.Unseal()

	remove := s.Respond("secret/data/db", http.StatusOK, `{"data": "not an object"`)
	_, err = c.Logical().ReadWithContext(ctx, "secret/data/db")
	require.Error(t, err)
	remove()

	release := s.Stall("secret/")
	rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Logical().ReadWithContext(rctx, "secret/data/db")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
	release()
	_, err = c.Logical().ReadWithContext(ctx, "secret/data/db")
	require.NoError(t, err)

	reqs := s.Requests()
	require.Contains(t, reqs, "PUT sys/seal")
	s.ResetCounts()
	require.Zero(t, s.Total())
}

func TestEnvelopeShape(t *testing.T) {
	t.Parallel()
	s, c := startRoot(t)
	s.PutKV2("secret", "db", map[string]any{"k": "v"})
	resp, err := c.Logical().ReadRawWithContext(t.Context(), "secret/data/db")
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	for _, k := range []string{"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth", "mount_type"} {
		require.Contains(t, body, k)
	}
	require.JSONEq(t, `{"k":"v"}`, string(mustField(t, body["data"], "data")))
}

func mustField(t *testing.T, raw json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return m[name]
}
