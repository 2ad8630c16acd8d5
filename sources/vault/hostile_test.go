package vault_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/vaulttest"
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
