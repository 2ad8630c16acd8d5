package livebind

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// TestStatusShowsLeases: Status shows the expiry and next renewal that a
// LeaseReporter driver gives for each of its targets (a zero renewal for a
// lease that is not renewed), and zero times for targets without a lease
// and for other sources.
func TestStatusShowsLeases(t *testing.T) {
	t.Parallel()
	var cfg struct {
		L fixture.Leased
		C string `live:"env=LEASE_C; default=x"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(newEnv().lookup))
	st := b.Status().Sources
	require.Len(t, st, 4)
	assert.Equal(t, fixture.LeaseExpires, st[0].LeaseExpires)
	assert.Equal(t, fixture.LeaseRenewal, st[0].LeaseRenewal)
	assert.Equal(t, fixture.LeaseExpires, st[1].LeaseExpires)
	assert.True(t, st[1].LeaseRenewal.IsZero(), "a lease that is not renewed")
	for _, s := range st[2:] {
		assert.True(t, s.LeaseExpires.IsZero() && s.LeaseRenewal.IsZero(), "%s has no lease", s.Source)
	}
}
