package vault_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/vaulttest"
)

// TestDriverKV1OptionFollowsLease: lease handling follows the answer, not
// the mount type or kv=: dynamic credentials read with kv=1 (which reads
// the path as KV v1, with no detection) and poll=50ms are followed by
// their lease, not polled: a second in which ~20 polls would each mint new
// credentials emits nothing, and a Read hands out the same lease.
func TestDriverKV1OptionFollowsLease(t *testing.T) {
	t.Parallel()
	s := vaulttest.New(t)
	s.SetRole("database", "app", vaulttest.Role{TTL: 3 * time.Second, MaxTTL: 9 * time.Second, Renewable: true})
	d := openDriver(t, fast(t, s, s.RootToken()))
	tg := target("database/creds/app#username", 50*time.Millisecond, map[string]string{"kv": "1"})
	last, res := readWatch(t, d, tg)
	require.NotEmpty(t, last.Version, "the lease id")
	res.Quiet(t, 0, time.Second)
	again := d.Read(t.Context(), tg)
	require.NoError(t, again.Err)
	require.Equal(t, last.Version, again.Version, "the same credentials, not new ones")
	require.Equal(t, last.Data, again.Data)
}
