package vault_test

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sourcetest"
	"github.com/livebind/livebind/sources/vault"
)

// TestConformance runs the sources conformance kit against the vault driver
// and the vaulttest server: KV v2 fields polled every 20ms, a token the
// server does not know for the failure check (it must not leak), a stalled
// mount for the context check and a 9 MiB secret for the size check.
func TestConformance(t *testing.T) {
	s := vaulttest.New(t)
	kv := s.Client(t, s.RootToken()).KVv2("secret")
	var n atomic.Int64
	const badToken = "hvs.conformance-bad-token-0123456789"
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "vault",
		Config: func(t *testing.T) sources.Config {
			t.Helper()
			return sources.Config{Value: fast(t, s, s.RootToken())}
		},
		Target: func(*testing.T) *sources.Target {
			return target("secret/conformance-"+strconv.FormatInt(n.Add(1), 10)+"#v", 20*time.Millisecond, nil)
		},
		Set: func(t *testing.T, tg *sources.Target, v []byte) {
			t.Helper()
			_, err := kv.Put(t.Context(), kvPath(tg), map[string]any{"v": string(v)})
			require.NoError(t, err)
		},
		Remove: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			require.NoError(t, kv.Delete(t.Context(), kvPath(tg)))
		},
		Failing: func(t *testing.T) (sources.Config, *sources.Target) {
			t.Helper()
			return sources.Config{Value: vault.Config{Client: s.Client(t, badToken), MaxBackoff: 500 * time.Millisecond, SkipTokenRenewal: true}},
				target("secret/conformance-denied", 20*time.Millisecond, nil)
		},
		ErrorAs: func(err error) bool {
			var e *vault.Error
			return errors.As(err, &e) && errors.Is(err, sources.ErrAuth)
		},
		Secrets: []string{badToken, s.RootToken()},
		Stall: func(t *testing.T) (sources.Config, *sources.Target, func()) {
			t.Helper()
			tg := target("secret/conformance-stalled#v", 20*time.Millisecond, map[string]string{"kv": "2", "mount": "secret"})
			_, err := kv.Put(t.Context(), "conformance-stalled", map[string]any{"v": "x"})
			require.NoError(t, err)
			release := s.Stall("secret/data/conformance-stalled")
			return sources.Config{Value: fast(t, s, s.RootToken())}, tg, release
		},
		Oversize: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			s.PutKV2("secret", kvPath(tg), map[string]any{"v": "small"}) // metadata: version 1 exists
			t.Cleanup(s.Respond("secret/data/"+kvPath(tg), 200, oversized))
		},
		IgnoreLeaks: []goleak.Option{ // the keep-alive connections of the harness's clients
			goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
		},
		MaxSize: 8 << 20,
		Quiet:   200 * time.Millisecond,
	})
}

// oversized is a KV v2 answer of 9 MiB, over the driver's 8 MiB limit,
// built once so that serving it allocates little.
var oversized = `{"data":{"data":{"v":"` + strings.Repeat("x", 9<<20) + `"},"metadata":{"version":1}}}`

// kvPath is the KV v2 path of a conformance target: secret/<path>#v.
func kvPath(tg *sources.Target) string {
	p, _, _ := strings.Cut(strings.TrimPrefix(tg.Location, "secret/"), "#")
	return p
}

// TestSchemeCheck: bad options are refused at Bind, without a server.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	s, _ := sources.Lookup("vault")
	require.NoError(t, s.Check(target("secret/app#v", 0, map[string]string{"kv": "2"})))
	require.Error(t, s.Check(target("secret/app", 0, map[string]string{"kv": "3"})), "kv=3 is no KV version")
	require.Error(t, s.Check(target("", 0, nil)), "an empty path")
}
