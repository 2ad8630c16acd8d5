package livebindhttp_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/livebindhttp"
)

var leaseExpires, leaseRenewal = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2030, 1, 2, 3, 4, 1, 0, time.UTC)

func init() {
	fixture.RegisterLeases("pagelease", map[string]fixture.Lease{
		"renewed": {Expires: leaseExpires, Renewal: leaseRenewal},
		"final":   {Expires: leaseExpires},
	})
}

// TestLeaseShown: the debug page and status.json show each source's lease
// expiry and next renewal ("no renewal" when the lease is not extended
// again), and nothing for a source without a lease.
func TestLeaseShown(t *testing.T) {
	t.Parallel()
	var cfg struct {
		A string `live:"pagelease=renewed"`
		B string `live:"pagelease=final"`
		C string `live:"pagelease=none"`
	}
	b, err := livebind.Bind(t.Context(), &cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	srv := httptest.NewServer(livebindhttp.Handler(b))
	t.Cleanup(srv.Close)

	_, page := fixture.Get(t, srv.Client(), srv.URL+"/")
	assert.Contains(t, page, "<th>lease</th>")
	for loc, want := range map[string]string{
		"renewed": `<td class="lease">expires 2030-01-02 03:04:05.000 UTC; renewal 2030-01-02 03:04:01.000 UTC</td>`,
		"final":   `<td class="lease">expires 2030-01-02 03:04:05.000 UTC; no renewal</td>`,
		"none":    `<td class="lease"></td>`,
	} {
		row := page[strings.Index(page, `data-source="pagelease:`+loc+`"`):]
		row = row[:strings.Index(row, "</tr>")]
		assert.Contains(t, row, want, loc)
	}

	_, body := fixture.Get(t, srv.Client(), srv.URL+"/status.json")
	var st struct {
		Sources []map[string]any `json:"sources"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	require.Len(t, st.Sources, 3)
	assert.Equal(t, "2030-01-02T03:04:05Z", st.Sources[0]["lease_expires"])
	assert.Equal(t, "2030-01-02T03:04:01Z", st.Sources[0]["lease_renewal"])
	assert.Equal(t, "2030-01-02T03:04:05Z", st.Sources[1]["lease_expires"])
	assert.NotContains(t, st.Sources[1], "lease_renewal")
	assert.NotContains(t, st.Sources[2], "lease_expires")
}
