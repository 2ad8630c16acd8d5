package livebind

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// C turns on in Bind's first round (B is still zero), off in the second
// (B loaded as "stop"). Later B changes so C's condition holds.
type flipAtBind struct {
	A string `live:"env=A; poll=5ms"`
	B string `live:"env=B; poll=5ms; when=A == \"x\""`
	C string `live:"env=C; poll=5ms; when=B != \"stop\""`
}

func TestRegressionConditionOffAtBindNeverComesBack(t *testing.T) {
	env := newEnv("A", "x", "B", "stop", "C", "hello")
	var cfg flipAtBind
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "", b.Get().C)
	env.set("B", "go")
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && b.Get().C == "" {
		time.Sleep(10 * time.Millisecond)
	}
	for _, s := range b.Status().Sources {
		t.Logf("%s active=%v present=%v obs=%d", s.Source, s.Active, s.Present, s.Observations)
	}
	assert.Equal(t, "go", b.Get().B)
	assert.Equal(t, "hello", b.Get().C, "C's condition holds and its source has a value")
}

type preset struct {
	Mode string `live:"env=MODE"`
	Dev  string `live:"env=DEV; when=Mode == \"dev\""`
}

func TestRegressionInactiveAtBindKeepsDstValue(t *testing.T) {
	env := newEnv("MODE", "prod", "DEV", "devvalue")
	cfg := preset{Dev: "from-dst"}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "", b.Get().Dev, "docs: while false the field is zero")
}
