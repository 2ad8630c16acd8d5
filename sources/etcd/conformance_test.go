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
// The oversize check writes 16·conformanceMax = 1 MiB (under etcd's
// default --max-request-bytes of 1.5 MiB). etcd sends a value whole, in one
// gRPC message; the driver reads with a receive limit derived from
// maxbytes= (limits.go), so gRPC refuses the answer at its 5-byte length
// header and the Read allocates only what the transport took in before
// the stream was reset (at most a 128 KiB window, for each of the two
// refused requests). Measured with -race, 20 runs: 166 to 562 KB against
// the kit's bound of 3·64 KiB + 1 MiB = 1,245,184 bytes. Without the
// limit the Read allocated 2.5 to 3.7 MB (the value received, copied into
// a buffer of gRPC's pool and unmarshaled) and the check failed.
func TestConformance(t *testing.T) {
	s, cli := started(t)
	const password = "etcd-conformance-secret-pw"
	set := func(t *testing.T, tg *sources.Target, v []byte) { t.Helper(); put(t, cli, tg.Location, string(v)) }
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "etcd",
		Config: bindtest.ConfigValue(srcConfig(s)),
		Target: bindtest.Targets("etcd", "conformance/", bindtest.MaxBytes(conformanceMax)),
		Set:    set,
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
		Oversize: bindtest.Oversized(set, conformanceMax),
		MaxSize:  conformanceMax,
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
