package livebind

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type mapLayered struct {
	Base    map[string]string `live:"file=${DIR}/base.json"`
	Derived map[string]string `live:"file=${DIR}/derived.json; depends_on=Base; update=Merge"`
}

// Merge fills keys missing from Derived with Base's values: the natural way
// to write it.
func (c *mapLayered) Merge(next map[string]string) error {
	for k, v := range c.Base {
		if _, ok := next[k]; !ok {
			next[k] = v
		}
	}
	c.Derived = next
	return nil
}

func TestRegressionUpdateSourceValueAliased(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "base.json", `{"region":"eu"}`)
	writeFile(t, dir, "derived.json", `{"name":"api"}`)
	var cfg mapLayered
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DIR", dir).lookup))
	require.NoError(t, err)
	defer b.Close()
	gen1 := b.Get()
	assert.Equal(t, map[string]string{"name": "api", "region": "eu"}, gen1.Derived)
	rec := record(t, b)
	stopReaders := make(chan struct{})
	go func() { // a reader of the published snapshot
		for {
			select {
			case <-stopReaders:
				return
			default:
				_ = len(gen1.Derived["region"])
				for range gen1.Derived {
				}
			}
		}
	}()
	writeFile(t, dir, "base.json", `{"region":"us","tier":"gold"}`)
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Base" })
	time.Sleep(100 * time.Millisecond)
	close(stopReaders)
	t.Logf("gen %d Derived=%v gen1.Derived=%v", b.Generation(), b.Get().Derived, gen1.Derived)
	assert.Equal(t, map[string]string{"name": "api", "region": "us", "tier": "gold"}, b.Get().Derived, "Derived must follow Base")
	assert.Equal(t, map[string]string{"name": "api", "region": "eu"}, gen1.Derived, "generation 1 must not change")
	time.Sleep(10 * time.Millisecond)
}
