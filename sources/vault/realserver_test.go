package vault_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/baotest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// The Vault source against a real server: OpenBao, the MPL-2.0 fork of
// Vault with the same /v1 API (issue 12). These tests skip where no bao
// binary can be found (a user's clone); .ci/run makes them run.

// realClient is a vault/api client for s with token.
func realClient(t testing.TB, s *baotest.Server, token string) vault.Config {
	t.Helper()
	return clientAt(t, s.Addr, token)
}

// clientAt is a vault/api client for the server at addr with token.
func clientAt(t testing.TB, addr, token string) vault.Config {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	require.NoError(t, err)
	c.SetToken(token)
	return vault.Config{Client: c, MaxBackoff: 300 * time.Millisecond}
}

type realKV struct {
	Password string            `live:"vault=secret/data/app#password; poll=50ms"`
	Whole    map[string]string `live:"vault=secret/app; poll=50ms"`
}

// TestRealKV2Versions: a new version is Updated; a soft delete of the
// latest version is Removed and keeps the value; an undelete is Added; a
// destroyed latest version is Removed again; no update shows the secret.
func TestRealKV2Versions(t *testing.T) {
	t.Parallel()
	s := baotest.Start(t)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "real-pw-1", "user": "app"}})
	b, rec, logs := bind[realKV](t, realClient(t, s, baotest.RootToken))
	require.Equal(t, "real-pw-1", b.Get().Password)
	require.Equal(t, map[string]string{"password": "real-pw-1", "user": "app"}, b.Get().Whole)

	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "real-pw-2", "user": "app"}})
	rec.Until(t, "Updated to version 2", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && u.Field == "Password"
	})
	require.Equal(t, "real-pw-2", b.Get().Password)

	s.Must(http.MethodDelete, "secret/data/app", nil)
	rec.Until(t, "Removed after a soft delete", func(u livebind.Update) bool {
		return u.Kind == livebind.Removed && u.Field == "Password"
	})
	require.Equal(t, "real-pw-2", b.Get().Password, "Removed keeps the value")

	s.Must(http.MethodPost, "secret/undelete/app", map[string]any{"versions": []int{2}})
	rec.Until(t, "Added after an undelete", func(u livebind.Update) bool {
		return u.Kind == livebind.Added && u.Field == "Password"
	})

	s.Must(http.MethodPost, "secret/destroy/app", map[string]any{"versions": []int{2}})
	removed := 0
	rec.Until(t, "Removed after a destroy", func(u livebind.Update) bool {
		if u.Kind == livebind.Removed && u.Field == "Password" {
			removed++
		}
		return removed == 2
	})
	require.Equal(t, "real-pw-2", b.Get().Password)
	for _, u := range rec.All() {
		leaks(t, "update "+u.String(), u.String(), "real-pw-1", "real-pw-2")
	}
	leaks(t, "logs", logs.String(), "real-pw-1", "real-pw-2")
}

type realKV1 struct {
	Token string `live:"vault=kv1/app#token; poll=50ms"`
}

// TestRealKV1: a KV v1 mount is detected from the server's mounts and
// polled; a change is Updated.
func TestRealKV1(t *testing.T) {
	t.Parallel()
	s := baotest.Start(t)
	s.Must(http.MethodPost, "sys/mounts/kv1", map[string]any{"type": "kv"})
	s.Must(http.MethodPost, "kv1/app", map[string]any{"token": "v1-tok-a"})
	b, rec, _ := bind[realKV1](t, realClient(t, s, baotest.RootToken))
	require.Equal(t, "v1-tok-a", b.Get().Token)
	s.Must(http.MethodPost, "kv1/app", map[string]any{"token": "v1-tok-b"})
	rec.Until(t, "Updated", func(u livebind.Update) bool { return u.Kind == livebind.Updated })
	require.Equal(t, "v1-tok-b", b.Get().Token)
}

// TestRealPolicy403: a token whose policy does not cover the path fails
// Bind with ErrPermissionDenied, naming the path, never the token.
func TestRealPolicy403(t *testing.T) {
	t.Parallel()
	s := baotest.Start(t)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "p"}})
	tok := policyToken(t, s, "other", `path "secret/data/other" { capabilities = ["read"] }`)
	var c realKV
	_, err := livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("vault", realClient(t, s, tok)))
	require.ErrorIs(t, err, sources.ErrAuth)
	require.ErrorContains(t, err, "secret/data/app")
	require.NotContains(t, err.Error(), tok)
}

// TestRealSealUnseal: sealing the server gives an Error update wrapping
// ErrSealed and keeps the value; after unsealing, a new version arrives.
func TestRealSealUnseal(t *testing.T) {
	t.Parallel()
	s := baotest.Start(t)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "before-seal"}})
	b, rec, _ := bind[realKV](t, realClient(t, s, baotest.RootToken))
	s.Seal()
	u := rec.Until(t, "Error while sealed", func(u livebind.Update) bool { return u.Kind == livebind.Error })
	require.ErrorIs(t, u.Err, vault.ErrSealed)
	require.Equal(t, "before-seal", b.Get().Password, "the last good value stays")
	s.Unseal()
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"password": "after-seal"}})
	rec.Until(t, "Updated after unseal", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && u.Field == "Password"
	})
	require.Equal(t, "after-seal", b.Get().Password)
	require.False(t, strings.Contains(u.String(), "before-seal"))
}
