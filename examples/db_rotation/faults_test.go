package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/baotest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/pgtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// faultRun is the program running through a fault, with the DB field's
// updates recorded.
type faultRun struct {
	*servers
	a   *App
	rec *fixture.Log[livebind.Update]
}

// runFault starts the servers (role app with ttl and maxTTL) and the
// program, reading with the token that token returns (nil: the root
// token), and records the DB field's updates. It returns the run and the
// snapshot before the fault.
func runFault(t *testing.T, ttl, maxTTL time.Duration, token func(*servers) string) (*faultRun, *Config) {
	t.Helper()
	s := startServers(t, ttl, maxTTL)
	tok := baotest.RootToken
	if token != nil {
		tok = token(s)
	}
	a := s.start(t, s.options(t, s.client(t, tok)))
	rec := fixture.NewLog[livebind.Update](30 * time.Second)
	unsub, err := a.Binding().Subscribe(func(u livebind.Update) {
		if u.Field == "DB" {
			rec.Add(u)
		}
	})
	require.NoError(t, err)
	t.Cleanup(unsub)
	return &faultRun{servers: s, a: a, rec: rec}, a.Binding().Get()
}

// fault waits for the Error update the fault causes and checks it: it
// names the field and the source, wraps *vault.Error and want, and shows
// neither the credentials nor the token. It returns the log position after
// it.
func (f *faultRun) fault(t *testing.T, from int, want error, secrets ...string) int {
	t.Helper()
	i, u, _ := f.rec.Wait(t, from, "an Error update wrapping "+want.Error(), func(u livebind.Update) bool {
		return u.Kind == livebind.Error && errors.Is(u.Err, want)
	})
	require.Equal(t, "DB", u.Field)
	require.True(t, strings.HasPrefix(u.Source, "vault:"), u.Source)
	var fe *livebind.FieldError
	require.ErrorAs(t, u.Err, &fe)
	require.Equal(t, "DB", fe.Field)
	var ve *vault.Error
	require.ErrorAs(t, u.Err, &ve)
	c := f.a.Binding().Get().DB
	for _, text := range []string{u.Err.Error(), u.String()} {
		for _, s := range append(secrets, c.Password) {
			require.NotContains(t, text, s, "the update shows a secret")
		}
	}
	t.Logf("fault: %v", u.Err)
	return i + 1
}

// serving checks that the published pool is still p and answers queries
// for d without a failure.
func (f *faultRun) serving(t *testing.T, p any, d time.Duration) {
	t.Helper()
	ok0, failed0 := f.a.Counts()
	time.Sleep(d)
	ok1, failed1 := f.a.Counts()
	require.Same(t, p, f.a.Binding().Get().Pool, "the last working pool stays published")
	require.Greater(t, ok1, ok0, "the pool keeps serving")
	require.Equal(t, failed0, failed1, "no query failed")
}

// recovers waits for new credentials after from, and for queries to
// succeed on the new pool; it returns how many queries failed in all.
func (f *faultRun) recovers(t *testing.T, from int, old string) int64 {
	t.Helper()
	f.rec.Wait(t, from, "new credentials", func(u livebind.Update) bool { return u.Kind == livebind.Updated })
	require.NotEqual(t, old, f.a.Binding().Get().DB.Username)
	ok0, _ := f.a.Counts()
	require.Eventually(t, func() bool { ok, _ := f.a.Counts(); return ok > ok0+50 }, 10*time.Second, 50*time.Millisecond)
	st := f.a.Binding().Status().Sources[0]
	require.True(t, st.Healthy, "the source is healthy again: %+v", st)
	_, failed := f.a.Counts()
	return failed
}

// TestFaultSealed: Vault is sealed before a rotation: the rotation's read
// fails with an ErrSealed update while the last pool keeps serving; after
// unseal (before the old lease ends) new credentials and a new pool come,
// and no query fails at all. The lease is 20 s, so that the time between
// the rotation point (3-4 s before it ends) and its end holds the 0.5 s of
// serving, the unseal and the sealed backoff's first step (1 s) on a loaded
// machine: with 10 s (1.5-2 s) a CI run on 2 busy cores had the new
// credentials 254 ms after the old lease ended, and 17 queries failed.
func TestFaultSealed(t *testing.T) {
	t.Parallel()
	f, old := runFault(t, 20*time.Second, 60*time.Second, nil)
	s := f.servers
	s.bao.Seal()
	i := f.fault(t, 0, vault.ErrSealed, baotest.RootToken) // at the rotation point, 15-20% of the lease before it ends
	f.serving(t, old.Pool, 500*time.Millisecond)
	s.bao.Unseal()
	failed := f.recovers(t, i, old.DB.Username)
	require.Zero(t, failed)
}

// TestFaultRestarted: the Vault server goes away and a new one comes up on
// the same address (a dev server keeps everything in memory, so it has
// forgotten the lease and the engine, which the operator configures
// again). While it is down the last pool keeps serving; the next renewal
// finds the lease unknown: an ErrLeaseExpired update, then new credentials.
// The old user, never revoked by the new server, is dropped by the test.
func TestFaultRestarted(t *testing.T) {
	t.Parallel()
	f, old := runFault(t, 10*time.Second, 60*time.Second, nil) // renewed at 6-7 s: after the restart
	s := f.servers
	s.bao.Stop()
	f.serving(t, old.Pool, 2*time.Second)
	restartBao(t, s.bao.Addr)
	require.NoError(t, s.e.Configure(t.Context(), s.pg.Port(), pgtest.AdminPassword, "app"))
	require.NoError(t, s.e.Role(t.Context(), "app", 10*time.Second, 60*time.Second))
	i := f.fault(t, 0, vault.ErrLeaseExpired, baotest.RootToken)
	failed := f.recovers(t, i, old.DB.Username)
	require.Zero(t, failed)
	require.Equal(t, 2, s.users(t), "the new server never revokes the old user")
	s.pg.SQL(`DROP OWNED BY "` + old.DB.Username + `"; DROP ROLE "` + old.DB.Username + `"`)
}

// TestFaultRoleNotAllowed: the role is removed from the connection's
// allowed_roles; Vault answers the rotation's read with 500: an ErrStatus
// update while the last pool keeps serving; once the role is allowed again
// new credentials come before the old lease ends, and no query fails.
// A role that is not allowed at Bind fails Bind with the same error.
func TestFaultRoleNotAllowed(t *testing.T) {
	t.Parallel()
	f, old := runFault(t, 10*time.Second, 10*time.Second, nil)
	s := f.servers
	require.NoError(t, s.e.Connection(t.Context(), s.pg.Port(), pgtest.AdminPassword, "other"))
	i := f.fault(t, 0, sources.ErrHTTPStatus, baotest.RootToken)
	_, u, _ := f.rec.Wait(t, i-1, "", func(livebind.Update) bool { return true })
	require.ErrorContains(t, u.Err, "500")
	require.ErrorContains(t, u.Err, "not an allowed role")
	f.serving(t, old.Pool, 300*time.Millisecond)
	require.NoError(t, s.e.Connection(t.Context(), s.pg.Port(), pgtest.AdminPassword, "app"))
	failed := f.recovers(t, i, old.DB.Username)
	require.Zero(t, failed)

	require.NoError(t, s.e.Connection(t.Context(), s.pg.Port(), pgtest.AdminPassword, "other"))
	_, err := Start(t.Context(), s.options(t, s.client(t, baotest.RootToken)))
	require.ErrorIs(t, err, sources.ErrHTTPStatus)
	require.ErrorContains(t, err, "DB")
	require.ErrorContains(t, err, "not an allowed role")
}

// TestFaultRevokedLease: an operator revokes the lease. Vault drops the user
// and its revocation statements end its sessions, so the published pool
// cannot serve until the next renewal finds the lease gone: an
// ErrLeaseExpired update, new credentials at once, a new pool.
func TestFaultRevokedLease(t *testing.T) {
	t.Parallel()
	f, old := runFault(t, 2*time.Second, 60*time.Second, nil)
	s := f.servers
	s.bao.Must(http.MethodPut, "sys/leases/revoke-prefix/database/creds/app", nil)
	start := time.Now()
	i := f.fault(t, 0, vault.ErrLeaseExpired, baotest.RootToken)
	require.Same(t, old.Pool, f.a.Binding().Get().Pool, "the pool stays published until new credentials work")
	failed := f.recovers(t, i, old.DB.Username)
	t.Logf("revoked lease: %d queries failed; new pool %s after the revocation", failed, time.Since(start).Round(time.Millisecond))
}

// TestFaultTokenExpired: the program's token expires; Vault revokes its
// leases with it (dropping the user and ending its sessions). The next
// renewal is refused: an ErrTokenInvalid update that shows no token. Once
// the client is given a new token, new credentials and a new pool come.
func TestFaultTokenExpired(t *testing.T) {
	t.Parallel()
	var token string
	f, old := runFault(t, 2*time.Second, 60*time.Second, func(s *servers) string {
		created := s.bao.Must(http.MethodPost, "auth/token/create", map[string]any{
			"ttl": "4s", "explicit_max_ttl": "4s", "renewable": false, "policies": []string{"root"},
		})
		token = created["auth"].(map[string]any)["client_token"].(string)
		return token
	})
	i := f.fault(t, 0, vault.ErrTokenInvalid, token, baotest.RootToken)
	require.Same(t, old.Pool, f.a.Binding().Get().Pool, "the pool stays published")
	start := time.Now()
	f.a.o.Client.SetToken(baotest.RootToken)
	failed := f.recovers(t, i, old.DB.Username)
	t.Logf("expired token: %d queries failed; a new pool %s after the client got a new token", failed, time.Since(start).Round(time.Millisecond))
}

// TestFaultPostgresDown: PostgreSQL stops while the credentials rotate.
// Vault cannot create the new user: the rotation's read fails (an
// ErrStatus update) and the published pool stays; queries fail while the
// database is down. When it is back the old pool serves again and new
// credentials and a new pool come.
func TestFaultPostgresDown(t *testing.T) {
	t.Parallel()
	f, old := runFault(t, 3*time.Second, 60*time.Second, nil)
	s := f.servers
	s.pg.Stop()
	i := f.fault(t, 0, sources.ErrHTTPStatus, baotest.RootToken, pgtest.AdminPassword)
	_, u, _ := f.rec.Wait(t, i-1, "", func(livebind.Update) bool { return true })
	require.NotErrorIs(t, u.Err, vault.ErrLeaseExpired, "a renewal the engine could not do is no revoked lease")
	require.ErrorContains(t, u.Err, "read \"database/creds/app\": unexpected HTTP status 500")
	require.Same(t, old.Pool, f.a.Binding().Get().Pool, "the pool stays published")
	s.pg.Restart()
	failed := f.recovers(t, i, old.DB.Username)
	t.Logf("postgres down: %d queries failed while it was down", failed)
}

// restartBao starts a new dev server on addr after the old one stopped.
func restartBao(t *testing.T, addr string) {
	t.Helper()
	bin, err := baotest.Binary()
	require.NoError(t, err)
	u, err := url.Parse(addr)
	require.NoError(t, err)
	cmd := exec.Command(bin, "server", "-dev", "-dev-root-token-id="+baotest.RootToken, "-dev-listen-address="+u.Host)
	cmd.Env = append(os.Environ(), "BAO_DISABLE_MLOCK=true", "VAULT_DISABLE_MLOCK=true", "HOME="+t.TempDir())
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, addr+"/v1/sys/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)
}
