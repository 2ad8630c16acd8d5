package etcd_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/etcd"
	"github.com/livebind/livebind/sources/sourcetest"
)

// conformanceMax is the maxbytes= of the conformance targets.
const conformanceMax = 64 << 10

// TestConformance runs the sources conformance kit against the etcd driver
// and a real etcd 3.4 member. The failure check logs in as a user with a
// password to a closed port (the password must not appear in the error);
// the stall check uses a TCP listener that accepts and never answers.
//
// The oversize check has no hook: etcd sends a value whole (there is no
// streaming read and no size query), so an oversized value is refused
// after it arrived. Measured, a Read of a value just over a 512 KiB limit
// allocated 1.3 to 2.9 MB (gRPC takes its receive buffer from a pool of
// 1 MiB buffers that a garbage collection may empty), against the kit's
// bound of 3·MaxSize + 1 MiB = 2.6 MB: a check that would fail at random.
// The typed ErrTooLarge error is checked by TestBindBadValues and
// TestBindPrefix; etcd's --max-request-bytes (1.5 MiB by default) caps
// what a Read can receive.
func TestConformance(t *testing.T) {
	s, cli := started(t)
	const password = "etcd-conformance-secret-pw"
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "etcd",
		Config: bindtest.ConfigValue(srcConfig(s)),
		Target: bindtest.Targets("etcd", "conformance/", bindtest.MaxBytes(conformanceMax)),
		Set:    func(t *testing.T, tg *sources.Target, v []byte) { t.Helper(); put(t, cli, tg.Location, string(v)) },
		Remove: func(t *testing.T, tg *sources.Target) { t.Helper(); del(t, cli, tg.Location) },
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			return sources.Config{Value: etcd.Config{
				Endpoints: []string{"127.0.0.1:1"}, Username: "app", Password: password,
				DialTimeout: 300 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
			}}, target("conformance/unreachable", nil)
		},
		ErrorAs: bindtest.TypedError[*etcd.Error](sources.ErrUnreachable),
		Secrets: []string{password},
		Stall: bindtest.SilentStall(target("conformance/stalled", nil), func(_ *testing.T, addr string) any {
			return etcd.Config{Endpoints: []string{addr}}
		}),
	})
}

// TestSchemeCheck: bad options are refused at Bind, without a server.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	s, _ := sources.Lookup("etcd")
	require.NoError(t, s.Check(target("app/x", map[string]string{"maxbytes": "10"})))
	require.NoError(t, s.Check(target("", map[string]string{"prefix": "true"})), "the whole keyspace")
	require.ErrorContains(t, s.Check(target("app/x", map[string]string{"maxbytes": "0"})), "maxbytes")
	require.ErrorContains(t, s.Check(target("app/x", map[string]string{"prefix": "yes please"})), "prefix is a flag")
	require.ErrorContains(t, s.Check(target("", nil)), "empty key")
}
