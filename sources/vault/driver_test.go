package vault_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

func TestScheme(t *testing.T) {
	t.Parallel()
	// No Redact: locations are paths, never credentials.
	s := fixture.WantScheme(t, "vault", fixture.Traits{Options: []string{"kv", "mount", "write"}, Poll: true, Timeout: true, Secret: true})

	_, err := s.Open(sources.Config{Value: "http://127.0.0.1:8200"})
	require.ErrorContains(t, err, "vault: source config of type string; want *api.Client or vault.Config")
	_, err = s.Open(sources.Config{Value: vault.Config{Poll: -time.Second}})
	require.ErrorContains(t, err, "must not be negative")
	var nilCfg *vault.Config
	d, err := s.Open(sources.Config{Value: nilCfg})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close is idempotent")
}

// TestDriverRead: every kind of secret and location spelling, with the
// Data, Format and Version each reports.
func TestDriverRead(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	client := s.Client(t, s.RootToken())
	ctx := t.Context()
	_, err := client.KVv2("secret").Put(ctx, "db", map[string]any{"password": "pw-1", "port": 5432})
	require.NoError(t, err)
	require.NoError(t, client.KVv1("kv1").Put(ctx, "app", map[string]any{"token": "tok-1"}))
	s.SetRole("database", "app", vaulttest.Role{TTL: time.Hour, Renewable: true})
	d := openDriver(t, client)

	r := d.Read(ctx, target("secret/data/db", 0, nil))
	require.NoError(t, r.Err)
	require.JSONEq(t, `{"password":"pw-1","port":5432}`, string(r.Data))
	require.Equal(t, "application/json", r.Format)
	require.Equal(t, "1", r.Version)

	r = d.Read(ctx, target("secret/db#password", 0, nil))
	require.NoError(t, r.Err)
	require.Equal(t, sources.Result{Data: []byte("pw-1"), Format: "text/plain", Version: "1"}, r, "secret/db is secret/data/db")
	r = d.Read(ctx, target("secret/db#port", 0, nil))
	require.Equal(t, sources.Result{Data: []byte("5432"), Format: "application/json", Version: "1"}, r)
	r = d.Read(ctx, target("secret/db#nope", 0, nil))
	require.Equal(t, sources.Result{Missing: true, Version: "1"}, r, "a missing field of a present secret")
	r = d.Read(ctx, target("secret/none", 0, nil))
	require.True(t, r.Missing)
	require.NoError(t, r.Err)

	r = d.Read(ctx, target("kv1/app#token", 0, nil))
	require.Equal(t, sources.Result{Data: []byte("tok-1"), Format: "text/plain"}, r, "KV v1 has no version")
	r = d.Read(ctx, target("kv1/none", 0, nil))
	require.True(t, r.Missing)

	// Dynamic credentials: every field of one secret gets the same lease,
	// and another Read hands out the same credentials.
	user := d.Read(ctx, target("database/creds/app#username", 0, nil))
	pass := d.Read(ctx, target("database/creds/app#password", 0, nil))
	whole := d.Read(ctx, target("database/creds/app", 0, nil))
	require.NoError(t, user.Err)
	require.True(t, strings.HasPrefix(user.Version, "database/creds/app/"), user.Version)
	require.Equal(t, user.Version, pass.Version)
	require.Equal(t, user.Version, whole.Version)
	require.Len(t, s.Leases(), 1, "one lease for every field")
	info, _ := s.Lease(user.Version)
	require.Equal(t, info.Username, string(user.Data))
	require.Equal(t, info.Password, string(pass.Data))

	// Options and mistakes.
	r = d.Read(ctx, target("secret/db#password", 0, map[string]string{"kv": "2", "mount": "secret"}))
	require.Equal(t, "pw-1", string(r.Data))
	r = d.Read(ctx, target("secret/db", 0, map[string]string{"kv": "1"}))
	require.ErrorIs(t, r.Err, sources.ErrHTTPStatus, "a KV v1 read of a KV v2 mount")
	require.ErrorContains(t, r.Err, "Invalid path for a versioned K/V secrets engine")
	r = d.Read(ctx, target("secret/db", 0, map[string]string{"kv": "7"}))
	require.ErrorContains(t, r.Err, `vault: "secret/db": kv="7"`)
	r = d.Read(ctx, target("nowhere/x", 0, nil))
	require.ErrorIs(t, r.Err, sources.ErrAuth, "Vault answers 403 for a path without a mount")
	require.ErrorContains(t, r.Err, `vault: detect the mount of "nowhere/x": authentication or permission refused (403)`)
	require.NotErrorIs(t, r.Err, vault.ErrTokenInvalid)
}

// TestDriverKV2Lifecycle: new version -> emitted; same data -> nothing;
// delete latest -> missing; undelete -> back; destroy -> missing; new
// version -> back; metadata erased -> missing.
func TestDriverKV2Lifecycle(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	client := s.Client(t, s.RootToken())
	kv := client.KVv2("secret")
	ctx := t.Context()
	_, err := kv.Put(ctx, "life", map[string]any{"v": "one"})
	require.NoError(t, err)
	d := openDriver(t, fast(t, s, s.RootToken()))
	tg := target("secret/life#v", 30*time.Millisecond, nil)
	last := d.Read(ctx, tg)
	require.Equal(t, "one", string(last.Data))
	res := newResults()
	fixture.Watch(t, d, tg, last, res.Add)

	_, err = kv.Put(ctx, "life", map[string]any{"v": "two"})
	require.NoError(t, err)
	i, r, _ := res.Wait(t, 0, "two", hasData("two"))
	require.Equal(t, "2", r.Version)

	_, err = kv.Put(ctx, "life", map[string]any{"v": "two"}) // version 3, same data
	require.NoError(t, err)
	_, err = kv.Put(ctx, "life", map[string]any{"v": "two", "other": "x"}) // another field only
	require.NoError(t, err)
	res.Quiet(t, i+1, 300*time.Millisecond)

	require.NoError(t, kv.Delete(ctx, "life"))
	i, r, _ = res.Wait(t, i+1, "missing after delete", isMissing)
	require.Equal(t, "4", r.Version)
	require.NoError(t, kv.Undelete(ctx, "life", []int{4}))
	i, _, _ = res.Wait(t, i+1, "back after undelete", hasData("two"))
	require.NoError(t, kv.Destroy(ctx, "life", []int{4}))
	i, _, _ = res.Wait(t, i+1, "missing after destroy", isMissing)
	_, err = kv.Put(ctx, "life", map[string]any{"v": "five"})
	require.NoError(t, err)
	i, _, _ = res.Wait(t, i+1, "five", hasData("five"))
	require.NoError(t, kv.DeleteMetadata(ctx, "life"))
	res.Wait(t, i+1, "missing after erase", isMissing)
	for _, r := range res.All() {
		require.NoError(t, r.Err)
	}
}

// TestDriverRequestsPerPoll measures the requests of one watched KV v2
// secret: one metadata read per poll while nothing changes, two (metadata
// and data) per poll with a change, never more. The figure is extrapolated
// to the default poll of 30s.
func TestDriverRequestsPerPoll(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	client := s.Client(t, s.RootToken())
	s.PutKV2("secret", "rate", map[string]any{"v": "0"})
	d := openDriver(t, vault.Config{Client: client, SkipTokenRenewal: true})
	const poll = 100 * time.Millisecond
	tg := target("secret/rate#v", poll, nil)
	res := newResults()
	fixture.Watch(t, d, tg, d.Read(t.Context(), tg), res.Add)
	time.Sleep(3 * poll / 2) // past the first look
	s.ResetCounts()

	const window = 2 * time.Second
	time.Sleep(window)
	idle := s.Total()
	polls := float64(window) / float64(poll)
	t.Logf("idle: %d requests in %s at poll=%s (%.2f per poll) -> %.0f per hour at poll=30s",
		idle, window, poll, float64(idle)/polls, float64(idle)/polls*3600/30)
	require.LessOrEqual(t, float64(idle), 1.25*polls, "one metadata read per poll, ±10%% jitter")
	require.Equal(t, idle, s.Count("secret/metadata/rate"), "no data read while nothing changes")

	s.ResetCounts()
	for i := range 10 {
		s.PutKV2("secret", "rate", map[string]any{"v": string(rune('a' + i))})
		time.Sleep(window / 10)
	}
	busy := s.Total()
	t.Logf("changing every %s: %d requests in %s (%.2f per poll) -> %.0f per hour at poll=30s",
		window/10, busy, window, float64(busy)/polls, float64(busy)/polls*3600/30)
	require.LessOrEqual(t, float64(busy), 2*1.25*polls, "at most 2 requests per poll")
	res.Wait(t, 0, "the last value", hasData("j"))
}

// TestDriverMetadataDenied: a token that may read the data but not the
// metadata falls back to reading the data each poll, still one request per
// poll, and still sees changes and deletions.
func TestDriverMetadataDenied(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "app/db", map[string]any{"password": "p1"})
	tok := s.CreateToken(vaulttest.TokenOptions{Policies: []string{"secret/data/app/*"}})
	d := openDriver(t, vault.Config{Client: s.Client(t, tok), SkipTokenRenewal: true})
	const poll = 100 * time.Millisecond
	tg := target("secret/app/db#password", poll, nil)
	last := d.Read(t.Context(), tg)
	require.Equal(t, "p1", string(last.Data))
	res := newResults()
	fixture.Watch(t, d, tg, last, res.Add)
	time.Sleep(3 * poll / 2)
	s.ResetCounts()
	time.Sleep(time.Second)
	n := s.Total()
	t.Logf("metadata denied: %d requests in 1s at poll=%s", n, poll)
	require.LessOrEqual(t, n, 13)
	require.Zero(t, s.Count("secret/metadata/app/db"), "the metadata is not asked again")

	s.PutKV2("secret", "app/db", map[string]any{"password": "p2"})
	i, _, _ := res.Wait(t, 0, "p2", hasData("p2"))
	admin := s.Client(t, s.RootToken())
	require.NoError(t, admin.KVv2("secret").Delete(t.Context(), "app/db"))
	res.Wait(t, i+1, "missing", isMissing)
}

// TestDriverSealed: a sealed Vault is an error with backoff; after unseal
// the watch recovers and reports what changed meanwhile.
func TestDriverSealed(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "seal", map[string]any{"v": "before"})
	d := openDriver(t, fast(t, s, s.RootToken()))
	tg := target("secret/seal#v", 50*time.Millisecond, nil)
	res := newResults()
	fixture.Watch(t, d, tg, d.Read(t.Context(), tg), res.Add)

	s.Seal()
	i, r, _ := res.Wait(t, 0, "sealed error", isErr)
	require.ErrorIs(t, r.Err, vault.ErrSealed)
	require.ErrorContains(t, r.Err, `vault: read metadata "secret/metadata/seal": vault is sealed (503)`)
	s.ResetCounts()
	start := time.Now()
	time.Sleep(time.Second)
	n, took := s.Total(), time.Since(start)
	t.Logf("sealed: %d requests in %v (backoff 250ms..500ms)", n, took)
	// At most one request per 250 ms of the time that really passed (a
	// loaded machine sleeps longer than asked), plus two: 6 for 1 s.
	require.LessOrEqual(t, n, int(took/(250*time.Millisecond))+2, "capped backoff, not a hot loop")
	s.Unseal()
	s.PutKV2("secret", "seal", map[string]any{"v": "after"})
	res.Wait(t, i+1, "recovery", hasData("after"))
}

// TestDriverForbidden: a token whose policy denies the path: Read fails
// with ErrPermissionDenied (the token itself is fine), and a watch backs
// off without a request storm.
func TestDriverForbidden(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "app/db", map[string]any{"password": "p"})
	tok := s.CreateToken(vaulttest.TokenOptions{Policies: []string{"secret/data/other"}, TTL: time.Hour})
	d := openDriver(t, vault.Config{Client: s.Client(t, tok), MaxBackoff: 2 * time.Second})
	tg := target("secret/app/db#password", 20*time.Millisecond, map[string]string{"kv": "2", "mount": "secret"})
	r := d.Read(t.Context(), tg)
	require.ErrorIs(t, r.Err, sources.ErrAuth)
	require.NotErrorIs(t, r.Err, vault.ErrTokenInvalid, "the token is valid; its policy denies the path")
	require.NotContains(t, r.Err.Error(), tok)

	s.ResetCounts()
	res := newResults()
	fixture.Watch(t, d, tg, r, res.Add)
	time.Sleep(3 * time.Second)
	reqs := s.Requests()
	t.Logf("403 for 3s at poll=20ms, MaxBackoff 2s: %d requests: %v", len(reqs), reqs)
	require.LessOrEqual(t, len(reqs), 10, "no request storm")
	require.Empty(t, res.All(), "the same error as the Read is not emitted again")
}

// TestDriverTokenExpiry: an expired token gives an error that names the
// problem, never the token; the renewable token is renewed while it can be.
func TestDriverTokenExpiry(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name string
		kill func(s *vaulttest.Server, tok string)
	}{
		{"revoked", func(s *vaulttest.Server, tok string) { s.RevokeToken(tok) }},
		{"server clock past expiry", func(s *vaulttest.Server, _ string) { s.Advance(2 * time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := vaulttest.New(t)
			s.PutKV2("secret", "tok", map[string]any{"v": "x"})
			tok := s.CreateToken(vaulttest.TokenOptions{Policies: []string{"secret/*"}, TTL: time.Hour})
			d := openDriver(t, vault.Config{Client: s.Client(t, tok), MaxBackoff: 500 * time.Millisecond, SkipTokenRenewal: true})
			tg := target("secret/tok#v", 30*time.Millisecond, nil)
			res := newResults()
			fixture.Watch(t, d, tg, d.Read(t.Context(), tg), res.Add)
			tc.kill(s, tok)
			_, r, _ := res.Wait(t, 0, "token error", isErr)
			require.ErrorIs(t, r.Err, vault.ErrTokenInvalid)
			require.ErrorIs(t, r.Err, sources.ErrAuth)
			require.ErrorContains(t, r.Err, "vault token expired or revoked (403 authentication or permission refused); give the client a new token")
			require.NotContains(t, r.Err.Error(), tok)
		})
	}

	t.Run("renewed then expired", func(t *testing.T) {
		t.Parallel()
		s := vaulttest.New(t)
		s.PutKV2("secret", "tok", map[string]any{"v": "x"})
		tok := s.CreateToken(vaulttest.TokenOptions{Policies: []string{"secret/*"}, TTL: 2 * time.Second, MaxTTL: 4 * time.Second, Renewable: true})
		c := s.Client(t, tok)
		d := openDriver(t, vault.Config{Client: c, MaxBackoff: 500 * time.Millisecond})
		tg := target("secret/tok#v", 100*time.Millisecond, nil)
		res := newResults()
		start := time.Now()
		fixture.Watch(t, d, tg, d.Read(t.Context(), tg), res.Add)
		time.Sleep(3 * time.Second) // past the token's first TTL
		require.Empty(t, res.All(), "the token was renewed: no error at %s", time.Since(start))
		_, r, at := res.Wait(t, 0, "expired", isErr)
		time.Sleep(time.Second) // after expiry: no storm of lookups
		reqs := s.Requests()
		renewals, lookups := countPrefix(reqs, "PUT auth/token/renew-self"), countPrefix(reqs, "GET auth/token/lookup-self")
		t.Logf("token (TTL 2s, max TTL 4s) renewed %d times, looked up %d times; expiry error after %s: %v",
			renewals, lookups, at.Sub(start).Round(time.Millisecond), r.Err)
		require.GreaterOrEqual(t, renewals, 1)
		require.LessOrEqual(t, renewals, 5)
		require.LessOrEqual(t, lookups, 12, "lookups back off (MaxBackoff 500ms) and 403s share one lookup")
		require.ErrorIs(t, r.Err, vault.ErrTokenInvalid)
		require.Contains(t, r.Err.Error(), "its TTL ran out at about")
		require.NotContains(t, r.Err.Error(), tok)
	})
}

func countPrefix(reqs []string, prefix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// TestDriverMalformed: invalid JSON and a wrong shape are errors that quote
// nothing of the body; the value comes back once the answers are sane.
func TestDriverMalformed(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "bad", map[string]any{"v": "good"})
	d := openDriver(t, fast(t, s, s.RootToken()))
	tg := target("secret/bad#v", 30*time.Millisecond, map[string]string{"kv": "2", "mount": "secret"})
	last := d.Read(t.Context(), tg)
	res := newResults()
	fixture.Watch(t, d, tg, last, res.Add)

	const leak = "leaked-secret-value"
	remove := s.Respond("secret/metadata/bad", http.StatusOK, `{"data":{"current_version":"`+leak)
	i, r, _ := res.Wait(t, 0, "invalid JSON", isErr)
	require.ErrorIs(t, r.Err, vault.ErrMalformed)
	require.ErrorContains(t, r.Err, "not JSON (syntax error at byte")
	require.NotContains(t, r.Err.Error(), leak)
	remove()
	s.PutKV2("secret", "bad", map[string]any{"v": "good2"})
	i, _, _ = res.Wait(t, i+1, "recovered", hasData("good2"))

	remove = s.Respond("secret/data/bad", http.StatusOK, `{"data":{"data":"`+leak+`","metadata":{"version":9}}}`)
	s.PutKV2("secret", "bad", map[string]any{"v": "good3"})
	_, r, _ = res.Wait(t, i+1, "wrong shape", isErr)
	require.ErrorIs(t, r.Err, vault.ErrMalformed)
	require.ErrorContains(t, r.Err, "data is not a JSON object")
	require.NotContains(t, r.Err.Error(), leak)
	remove()
	res.Wait(t, i+1, "good3", hasData("good3"))
}

// TestDriverCloseMidRequest: Close cancels a hanging request at once.
func TestDriverCloseMidRequest(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "hang", map[string]any{"v": "x"})
	sc, _ := sources.Lookup("vault")
	d, err := sc.Open(sources.Config{Value: vault.Config{Client: s.Client(t, s.RootToken()), Timeout: time.Minute}})
	require.NoError(t, err)
	tg := target("secret/hang#v", 20*time.Millisecond, nil)
	last := d.Read(t.Context(), tg)
	release := s.Stall("secret/")
	defer release()
	stop, err := d.Watch(tg, last, func(sources.Result) {})
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // the watch's request hangs now
	start := time.Now()
	stop()
	require.NoError(t, d.Close())
	took := time.Since(start)
	t.Logf("stop+Close with a hanging request took %s", took)
	require.Less(t, took, time.Second)

	// A Read that hangs ends with its context.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	d2 := openDriver(t, s.Client(t, s.RootToken()))
	r := d2.Read(ctx, target("secret/hang#v", 0, map[string]string{"kv": "2", "mount": "secret"}))
	require.ErrorIs(t, r.Err, sources.ErrUnreachable)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
}

// TestDriverEnvironment: with no source config the client comes from
// VAULT_ADDR and VAULT_TOKEN, and Close leaves no goroutine behind.
func TestDriverEnvironment(t *testing.T) {
	s := vaulttest.New(t)
	s.PutKV2("secret", "env", map[string]any{"v": "from-env"})
	t.Setenv("VAULT_ADDR", s.Addr())
	t.Setenv("VAULT_TOKEN", s.RootToken())
	t.Setenv("VAULT_NAMESPACE", "")
	t.Setenv("VAULT_MAX_RETRIES", "0")
	t.Setenv("VAULT_WRAP_TTL", "5m") // ignored by a client the driver builds
	ignore := goleak.IgnoreCurrent()
	sc, _ := sources.Lookup("vault")
	d, err := sc.Open(sources.Config{})
	require.NoError(t, err)
	tg := target("secret/env#v", 20*time.Millisecond, nil)
	r := d.Read(t.Context(), tg)
	require.Equal(t, "from-env", string(r.Data))
	stop, err := d.Watch(tg, r, func(sources.Result) {})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	stop()
	require.NoError(t, d.Close())
	_, err = d.Watch(tg, r, func(sources.Result) {})
	require.ErrorContains(t, err, "driver closed")
	goleak.VerifyNone(t, ignore)
}

// TestDriverRetriesOfTheClient: a client with the api's default retries
// (2 retries, 1-1.5s apart) still reports a sealed Vault, within one
// driver timeout.
func TestDriverRetriesOfTheClient(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "retry", map[string]any{"v": "x"})
	c := s.ClientWith(t, s.RootToken(), func(c *api.Config) { c.MinRetryWait, c.MaxRetryWait = 10*time.Millisecond, 20*time.Millisecond })
	d := openDriver(t, vault.Config{Client: c, SkipTokenRenewal: true})
	s.Seal()
	s.ResetCounts()
	r := d.Read(t.Context(), target("secret/retry#v", 0, map[string]string{"kv": "2", "mount": "secret"}))
	require.ErrorIs(t, r.Err, vault.ErrSealed)
	require.Equal(t, 3, s.Total(), "the client's own 2 retries")
}
