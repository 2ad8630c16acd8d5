package livebind

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

var leaseExpires, leaseRenewal = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2030, 1, 2, 3, 4, 1, 0, time.UTC)

func init() {
	fixture.RegisterLeases("leasetest", map[string]fixture.Lease{"leased": {Expires: leaseExpires, Renewal: leaseRenewal}})
}

// TestStatusShowsLeases: Status shows the expiry and next renewal that a
// LeaseReporter driver gives for each of its targets, and zero times for
// targets without a lease and for other sources.
func TestStatusShowsLeases(t *testing.T) {
	t.Parallel()
	var cfg struct {
		A string `live:"leasetest=leased"`
		B string `live:"leasetest=plain"`
		C string `live:"env=LEASE_C; default=x"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv().lookup))
	require.NoError(t, err)
	defer b.Close()
	st := b.Status().Sources
	require.Len(t, st, 3)
	assert.Equal(t, leaseExpires, st[0].LeaseExpires)
	assert.Equal(t, leaseRenewal, st[0].LeaseRenewal)
	for _, s := range st[1:] {
		assert.True(t, s.LeaseExpires.IsZero() && s.LeaseRenewal.IsZero(), "%s has no lease", s.Source)
	}
}
