package vault_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// TestHostileTokenRenewalOfZero: a server whose lookup-self says the token
// is renewable with a ttl of 0 (and no creation_ttl), and whose renew-self
// keeps granting 0 s, must not drive the token renewer into a hot loop:
// a renewal that grants nothing cannot be followed by another one at once.
func TestHostileTokenRenewalOfZero(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "tok", map[string]any{"v": "x"})
	s.Respond("auth/token/lookup-self", http.StatusOK,
		`{"data":{"ttl":0,"renewable":true,"expire_time":"2026-01-01T00:00:00Z","accessor":"acc"}}`)
	s.Respond("auth/token/renew-self", http.StatusOK,
		`{"auth":{"client_token":"x","lease_duration":0,"renewable":true}}`)
	d := openDriver(t, vault.Config{Client: s.Client(t, s.RootToken()), MaxBackoff: 500 * time.Millisecond})
	tg := target("secret/tok#v", time.Hour, nil)
	fixture.Watch(t, d, tg, d.Read(t.Context(), tg), newResults().Add)
	time.Sleep(time.Second)
	renewals := countPrefix(s.Requests(), "PUT auth/token/renew-self")
	t.Logf("renew-self requests in 1s: %d", renewals)
	require.LessOrEqual(t, renewals, 3, "no renewal storm")
}

// TestHostileHugeLeaseDuration: a lease_duration too large for a
// time.Duration (1e10 s, about 317 years) must not overflow into a lease
// that has already expired, which made every look mint new credentials.
func TestHostileHugeLeaseDuration(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.SetRole("database", "app", vaulttest.Role{TTL: time.Hour})
	s.Respond("database/creds/app", http.StatusOK,
		`{"lease_id":"database/creds/app/abc","lease_duration":10000000000,"renewable":false,"data":{"username":"u","password":"p"}}`)
	d := openDriver(t, fast(t, s, s.RootToken()))
	tg := target("database/creds/app#password", 0, nil)
	last, res := readWatch(t, d, tg)
	require.Equal(t, "p", string(last.Data))
	time.Sleep(2 * time.Second)
	for range 3 {
		require.NoError(t, d.Read(t.Context(), tg).Err)
	}
	reads := countPrefix(s.Requests(), "GET database/creds/app")
	t.Logf("credential reads in 2s: %d; updates: %d", reads, len(res.All()))
	require.Equal(t, 1, reads, "the credentials are fresh for the lease's length")
}

// TestHostileWarningsAreBounded: the warnings of an answer are logged, but
// a server that sends megabytes of them (or echoes the client's token in
// one) must not put megabytes, or the token, in each poll's log line.
func TestHostileWarningsAreBounded(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.MountKV("kv1", 1)
	huge := strings.Repeat("w", 1<<20)
	s.Respond("kv1/w", http.StatusOK,
		`{"data":{"v":"x"},"warnings":["`+huge+`","echo `+s.RootToken()+`"]}`)
	type cfg struct {
		V string `live:"vault=kv1/w#v; poll=50ms"`
	}
	b, _, logs := bind[cfg](t, vault.Config{Client: s.Client(t, s.RootToken()), MaxBackoff: 500 * time.Millisecond})
	require.Equal(t, "x", b.Get().V)
	time.Sleep(500 * time.Millisecond)
	out := logs.String()
	t.Logf("log bytes after about 10 polls: %d", len(out))
	require.NotContains(t, out, s.RootToken())
	require.Less(t, len(out), 64<<10, "warnings are cut before they are logged")
}

// TestHostileWarningOf404KeepsTokenOut: a 404 explained by a warning is an
// error quoting the warning; a warning that echoes the token must not put
// it in the error text.
func TestHostileWarningOf404KeepsTokenOut(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.MountKV("kv1", 1)
	s.Respond("kv1/gone", http.StatusNotFound, `{"errors":[],"warnings":["no such path for `+s.RootToken()+`"]}`)
	d := openDriver(t, fast(t, s, s.RootToken()))
	r := d.Read(t.Context(), target("kv1/gone", 0, nil))
	require.Error(t, r.Err)
	require.ErrorContains(t, r.Err, "no such path for")
	require.NotContains(t, r.Err.Error(), s.RootToken())
}

// TestHostile403LookupHonoursContext: a 403 is explained by a lookup-self;
// when that lookup hangs, a Read must still end with its own context (and
// its timeout=), not up to the lookup's 5 s later.
func TestHostile403LookupHonoursContext(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.MountKV("kv1", 1)
	s.Respond("kv1/denied", http.StatusForbidden, `{"errors":["permission denied"]}`)
	release := s.Stall("auth/token/lookup-self")
	t.Cleanup(release)
	d := openDriver(t, vault.Config{Client: s.Client(t, s.RootToken()), SkipTokenRenewal: true})
	tg := target("kv1/denied", 0, map[string]string{"kv": "1"})
	tg.Timeout = 300 * time.Millisecond
	start := time.Now()
	r := d.Read(t.Context(), tg)
	took := time.Since(start)
	t.Logf("Read with timeout=300ms took %s: %v", took.Round(time.Millisecond), r.Err)
	require.Error(t, r.Err)
	require.Less(t, took, 2*time.Second, "the Read's timeout bounds the 403's lookup too")
}

// TestHostileStaticTTLStuckAtZero: a static role whose rotation keeps
// failing (its database is down) answers ttl 0 with the same password for
// as long as that lasts; the driver must back off from its 500 ms re-reads
// instead of reading twice a second for the whole outage.
func TestHostileStaticTTLStuckAtZero(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.SetRole("database", "app", vaulttest.Role{TTL: time.Hour})
	s.Respond("database/static-creds/app", http.StatusOK,
		`{"data":{"username":"u","password":"p","ttl":0,"rotation_period":60,"last_vault_rotation":"2026-01-01T00:00:00Z"}}`)
	d := openDriver(t, fast(t, s, s.RootToken()))
	tg := target("database/static-creds/app#password", time.Hour, nil)
	_, _ = readWatch(t, d, tg)
	time.Sleep(10 * time.Second)
	reads := countPrefix(s.Requests(), "GET database/static-creds/app")
	t.Logf("reads in 10s of a static role stuck at ttl 0: %d", reads)
	require.LessOrEqual(t, reads, 15, "re-reads of an overdue rotation back off (500 ms each: 21)")
}

// TestHostileMountAnswerIsCut: a mount-detection answer naming a mount of
// a megabyte is an error, and the error quotes a bounded part of it.
func TestHostileMountAnswerIsCut(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.Respond("sys/internal/ui/mounts/kv1/x", http.StatusOK,
		`{"data":{"path":"`+strings.Repeat("m", 1<<20)+`/","type":"kv","options":{"version":"1"}}}`)
	d := openDriver(t, fast(t, s, s.RootToken()))
	r := d.Read(t.Context(), target("kv1/x", 0, nil))
	require.ErrorIs(t, r.Err, vault.ErrMalformed)
	t.Logf("error of %d bytes", len(r.Err.Error()))
	require.Less(t, len(r.Err.Error()), 1024)
}

// TestHostileEmptyTokenAnswers: lookup-self and renew-self answered with
// an empty body (200 or 204) must not crash the token renewer. It runs in a
// child process: the crash it guards against was a nil pointer dereference
// on the renewer's goroutine, which nothing recovers, so a regression would
// end the whole test binary instead of failing this test.
func TestHostileEmptyTokenAnswers(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusOK, http.StatusNoContent} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			res := childtest.Run(t, childtest.Limits{Timeout: 30 * time.Second, Heap: 256 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
				s := vaulttest.New(t)
				s.PutKV2("secret", "tok", map[string]any{"v": "x"})
				s.Respond("auth/token/lookup-self", status, ``)
				s.Respond("auth/token/renew-self", status, ``)
				d := openDriver(t, vault.Config{Client: s.Client(t, s.RootToken()), MaxBackoff: 200 * time.Millisecond})
				tg := target("secret/tok#v", 50*time.Millisecond, nil)
				fixture.Watch(t, d, tg, d.Read(t.Context(), tg), newResults().Add)
				time.Sleep(500 * time.Millisecond)
				require.Positive(t, countPrefix(s.Requests(), "GET auth/token/lookup-self"))
			})
			require.True(t, res.OK(), "%s", res)
		})
	}
}

// TestHostileReadWaitsNoLongerThanItsContext: a Read of a secret whose
// watch has a request hanging on the server must end with the Read's own
// timeout, not wait for the watch's request to time out (10 s).
func TestHostileReadWaitsNoLongerThanItsContext(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.MountKV("kv1", 1)
	release := s.Stall("kv1/x")
	t.Cleanup(release)
	d := openDriver(t, vault.Config{Client: s.Client(t, s.RootToken()), SkipTokenRenewal: true})
	tg := target("kv1/x", time.Hour, map[string]string{"kv": "1"})
	stop, err := d.Watch(tg, sources.Result{}, func(sources.Result) {})
	require.NoError(t, err)
	t.Cleanup(stop)
	require.Eventually(t, func() bool { return s.Count("kv1/x") == 1 }, waitFor, 10*time.Millisecond, "the watch's read hangs")
	tg2 := target("kv1/x", time.Hour, map[string]string{"kv": "1"})
	tg2.Timeout = 300 * time.Millisecond
	start := time.Now()
	r := d.Read(t.Context(), tg2)
	took := time.Since(start)
	t.Logf("Read with timeout=300ms took %s: %v", took.Round(time.Millisecond), r.Err)
	require.Error(t, r.Err)
	require.Less(t, took, 2*time.Second)
}
