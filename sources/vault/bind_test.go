package vault_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// DBCreds is what a database role hands out, and a KV secret of the same
// shape.
type DBCreds struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// secrets is the example. The fields are tagged secret explicitly
// until the core marks every vault field secret by itself.
type secrets struct {
	DBPassword string            `live:"vault=secret/data/db#password; secret; poll=50ms"`
	DB         DBCreds           `live:"vault=secret/db; secret; poll=50ms"`
	Port       int               `live:"vault=secret/data/db#port; secret; poll=50ms"`
	Legacy     string            `live:"vault=kv1/app#token; secret; poll=50ms"`
	Dynamic    DBCreds           `live:"vault=database/creds/app; secret"`
	Whole      map[string]string `live:"vault=kv1/app; secret; poll=50ms"`
}

// leaks fails if any text holds any of the secret strings.
func leaks(t *testing.T, what string, text string, secretStrings ...string) {
	t.Helper()
	for _, s := range secretStrings {
		require.NotContains(t, text, s, "%s leaks a secret", what)
	}
}

// TestBindValuesAndSecrecy: values land in struct fields and #field
// strings; a new version is an Updated; a sealed Vault is an Error; no
// update text, formatting verb, error or log line shows a secret or the
// token.
func TestBindValuesAndSecrecy(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.SetRole("database", "app", vaulttest.Role{TTL: time.Hour, Renewable: true})
	s.PutKV2("secret", "db", map[string]any{"username": "app-user-1", "password": "pw-one-9f2c", "port": 5432})
	root := s.Client(t, s.RootToken())
	require.NoError(t, root.KVv1("kv1").Put(t.Context(), "app", map[string]any{"token": "legacy-tok-77ab"}))
	tok := s.CreateToken(vaulttest.TokenOptions{Policies: []string{"secret/*", "kv1/*", "database/*"}, TTL: time.Hour, Renewable: true})

	b, rec, logs := bind[secrets](t, vault.Config{Client: s.Client(t, tok), MaxBackoff: 500 * time.Millisecond})
	got := b.Get()
	require.Equal(t, "pw-one-9f2c", got.DBPassword)
	require.Equal(t, DBCreds{Username: "app-user-1", Password: "pw-one-9f2c"}, got.DB)
	require.Equal(t, 5432, got.Port)
	require.Equal(t, "legacy-tok-77ab", got.Legacy)
	require.Equal(t, map[string]string{"token": "legacy-tok-77ab"}, got.Whole)
	lease := s.Leases()[0]
	require.Equal(t, DBCreds{Username: lease.Username, Password: lease.Password}, got.Dynamic)

	s.PutKV2("secret", "db", map[string]any{"username": "app-user-1", "password": "pw-two-41d0", "port": 5432})
	u := rec.Until(t, "DBPassword updated", func(u livebind.Update) bool { return u.Field == "DBPassword" && u.Kind == livebind.Updated })
	require.Equal(t, "[redacted]", u.New)
	require.Equal(t, "vault:secret/data/db#password", u.Source)
	rec.Until(t, "DB updated", func(u livebind.Update) bool { return u.Field == "DB" && u.Kind == livebind.Updated })
	require.Equal(t, "pw-two-41d0", b.Get().DBPassword)
	require.Equal(t, "pw-two-41d0", b.Get().DB.Password)

	s.Seal()
	e := rec.Until(t, "Error", func(u livebind.Update) bool { return u.Kind == livebind.Error })
	require.ErrorIs(t, e.Err, vault.ErrSealed)
	s.Unseal()
	s.PutKV2("secret", "db", map[string]any{"username": "app-user-1", "password": "pw-three-c3", "port": 5432})
	rec.Until(t, "recovery", func(u livebind.Update) bool {
		return u.Field == "DBPassword" && u.Kind == livebind.Updated && u.Gen > e.Gen
	})

	secretStrings := []string{"pw-one-9f2c", "pw-two-41d0", "pw-three-c3", "app-user-1", "legacy-tok-77ab", lease.Username, lease.Password, tok, s.RootToken()}
	for _, u := range rec.All() {
		leaks(t, "String()", u.String(), secretStrings...)
		leaks(t, "%v", fmt.Sprintf("%v", u), secretStrings...)
		leaks(t, "%+v", fmt.Sprintf("%+v", u), secretStrings...)
		leaks(t, "%#v", fmt.Sprintf("%#v", u), secretStrings...)
		if u.Err != nil {
			leaks(t, "an error", u.Err.Error(), secretStrings...)
		}
	}
	require.NoError(t, b.Close())
	out := logs.String()
	require.NotEmpty(t, out)
	require.Contains(t, out, "vault:", "the driver and livebind log through the given logger")
	leaks(t, "the log", out, secretStrings...)
	t.Logf("%d updates and %d log lines checked for %d secret strings", len(rec.All()), strings.Count(out, "\n"), len(secretStrings))
	if testing.Verbose() {
		t.Log(out)
		for _, u := range rec.All() {
			t.Log(u)
		}
	}
}

// TestBindDeleteUndelete: deleting the latest version sends Removed and
// keeps the value; an undelete sends Added.
func TestBindDeleteUndelete(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "flags", map[string]any{"mode": "blue"})
	root := s.Client(t, s.RootToken())
	type config struct {
		Mode string `live:"vault=secret/flags#mode; secret; poll=30ms"`
	}
	b, rec, _ := bind[config](t, root)
	require.NoError(t, root.KVv2("secret").Delete(t.Context(), "flags"))
	u := rec.Until(t, "Removed", func(u livebind.Update) bool { return u.Kind == livebind.Removed })
	require.Equal(t, "Mode", u.Field)
	require.Equal(t, "blue", b.Get().Mode, "Removed keeps the value")
	require.NoError(t, root.KVv2("secret").Undelete(t.Context(), "flags", []int{1}))
	rec.Until(t, "Added", func(u livebind.Update) bool { return u.Kind == livebind.Added })
	s.PutKV2("secret", "flags", map[string]any{"mode": "green"})
	rec.Until(t, "Updated", func(u livebind.Update) bool { return u.Kind == livebind.Updated })
	require.Equal(t, "green", b.Get().Mode)
}

// pooled swaps a (pretend) connection pool whenever its credentials change.
type pooled struct {
	Creds DBCreds `live:"vault=database/creds/app; secret; update=SetCreds"`
	Pool  string  `live:"-"`
}

// SetCreds is the update function: it builds a new pool for the new
// credentials.
func (c *pooled) SetCreds(next DBCreds) error {
	c.Creds = next
	c.Pool = "pool(" + next.Username + ")"
	return nil
}

// TestBindRotationSwapsPool: the update function sees new credentials well
// before the old lease expires (the goal: at least 10% of the
// lease), and a Reload does not mint new credentials.
func TestBindRotationSwapsPool(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	s := vaulttest.New(t)
	s.SetRole("database", "app", vaulttest.Role{TTL: ttl, MaxTTL: 2 * ttl, Renewable: true})
	b, rec, _ := bind[pooled](t, vault.Config{Client: s.Client(t, s.RootToken()), MaxBackoff: 500 * time.Millisecond})
	first := s.Leases()[0]
	require.Equal(t, "pool("+first.Username+")", b.Get().Pool)

	require.NoError(t, b.Reload(t.Context()))
	require.Len(t, s.Leases(), 1, "Reload hands out the current credentials")

	_, _, at := rec.Wait(t, 0, "rotation", func(u livebind.Update) bool { return u.Kind == livebind.Updated && u.Field == "Creds" })
	old, _ := s.Lease(first.ID)
	lead := old.Expires.Sub(at)
	t.Logf("update function ran %s (%.0f%% of the %s lease) before the old credentials expired",
		lead.Round(time.Millisecond), 100*float64(lead)/float64(ttl), ttl)
	require.GreaterOrEqual(t, lead, ttl/10)
	leases := s.Leases()
	require.Len(t, leases, 2)
	require.Equal(t, "pool("+leases[1].Username+")", b.Get().Pool)
}

// TestBindFailures: a 403 at Bind fails Bind with a message that names the
// path and not the token; bad options and configs are Bind errors.
func TestBindFailures(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "db", map[string]any{"password": "p"})
	tok := s.CreateToken(vaulttest.TokenOptions{Policies: []string{"secret/data/other"}, TTL: time.Hour})
	type denied struct {
		P string `live:"vault=secret/db#password; kv=2; mount=secret"`
	}
	var d denied
	_, err := livebind.Bind(t.Context(), &d, livebind.WithSourceConfig("vault", s.Client(t, tok)))
	require.ErrorIs(t, err, sources.ErrAuth)
	require.ErrorContains(t, err, `vault: read "secret/data/db": authentication or permission refused (403)`)
	require.NotContains(t, err.Error(), tok)

	s.RevokeToken(tok)
	_, err = livebind.Bind(t.Context(), &d, livebind.WithSourceConfig("vault", s.Client(t, tok)))
	require.ErrorIs(t, err, vault.ErrTokenInvalid)
	require.NotContains(t, err.Error(), tok)

	root := s.Client(t, s.RootToken())
	for _, tc := range []struct {
		name string
		bind func() error
		want string
	}{
		{"bad kv", func() error {
			var c struct {
				P string `live:"vault=secret/db#password; kv=3"`
			}
			_, err := livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("vault", root))
			return err
		}, `kv="3": want kv=1 or kv=2`},
		{"unknown option", func() error {
			var c struct {
				P string `live:"vault=secret/db#password; wait=1s"`
			}
			_, err := livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("vault", root))
			return err
		}, "wait"},
		{"unknown config", func() error {
			var c struct {
				P string `live:"vault=secret/db#password"`
			}
			_, err := livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("vault", "http://127.0.0.1:8200"))
			return err
		}, "vault: source config of type string"},
		{"missing required", func() error {
			var c struct {
				P string `live:"vault=secret/none#password; required"`
			}
			_, err := livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("vault", root))
			if !errors.Is(err, livebind.ErrRequired) {
				return fmt.Errorf("not ErrRequired: %w", err)
			}
			return err
		}, "secret/none"},
	} {
		err := tc.bind()
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}

// TestBindSecretWithoutTag: the core marks every vault field secret, with
// or without the secret flag.
func TestBindSecretWithoutTag(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.PutKV2("secret", "plain", map[string]any{"v": "untagged-1"})
	type config struct {
		V string `live:"vault=secret/plain#v; poll=30ms"`
	}
	b, rec, logs := bind[config](t, s.Client(t, s.RootToken()))
	require.Equal(t, "untagged-1", b.Get().V)
	s.PutKV2("secret", "plain", map[string]any{"v": "untagged-2"})
	u := rec.Until(t, "Updated", func(u livebind.Update) bool { return u.Kind == livebind.Updated })
	require.True(t, u.Secret)
	require.Equal(t, "[redacted]", u.New)
	leaks(t, "the update", fmt.Sprintf("%+v", u), "untagged-1", "untagged-2")
	require.NoError(t, b.Close())
	leaks(t, "the log", logs.String(), "untagged-1", "untagged-2")
}

// TestBindChecksOptionsFirst: a bad scheme option is a tag error at Bind,
// found by the scheme's Check before any client is made or server asked.
func TestBindChecksOptionsFirst(t *testing.T) {
	t.Parallel()
	var c struct {
		P string `live:"vault=secret/db#password; kv=3"`
	}
	_, err := livebind.Bind(t.Context(), &c)
	require.ErrorIs(t, err, livebind.ErrTag)
	var fe *livebind.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "P", fe.Field)
	require.ErrorContains(t, err, `kv="3"`)
}
