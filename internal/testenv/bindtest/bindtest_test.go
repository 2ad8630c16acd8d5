package bindtest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestBindRecordsUpdates: Bind records the updates after Bind, Values
// sees the new value, and the predicates tell the kinds apart.
func TestBindRecordsUpdates(t *testing.T) {
	env := fixture.NewEnv("BINDTEST_V", "1")
	type config struct {
		V int `live:"env=BINDTEST_V; poll=10ms"`
	}
	b, rec := bindtest.Bind[config](t, "env", nil, livebind.WithLookupEnv(env.Lookup))
	values := bindtest.Values(t, b)
	env.Set("BINDTEST_V", "2")
	u := rec.Until(t, "2", bindtest.HasNew(2))
	if bindtest.IsError(u) || bindtest.HasNew(3)(u) {
		t.Fatalf("predicates wrong for %v", u)
	}
	if v := <-values; v != 2 {
		t.Fatalf("Values got %v, want 2", v)
	}
	env.Set("BINDTEST_V", "x")
	rec.Until(t, "an Error", bindtest.IsError)
	if b.Get().V != 2 {
		t.Fatalf("value %d, want 2 kept", b.Get().V)
	}
}
