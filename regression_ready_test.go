package livebind

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type readyCond struct {
	Mode string `live:"env=MODE; poll=5ms"`
	Port int    `live:"env=PORT; poll=5ms; required; when=Mode == \"on\""`
}

func TestRegressionReadyStuckAfterConditionOff(t *testing.T) {
	env := newEnv("MODE", "on", "PORT", "80")
	var cfg readyCond
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	env.set("PORT", "eighty")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Port" && u.Kind == Error })
	env.set("MODE", "off")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Port" && u.Kind == Removed })
	time.Sleep(50 * time.Millisecond)
	for _, s := range b.Status().Sources {
		t.Logf("%s active=%v healthy=%v err=%q", s.Source, s.Active, s.Healthy, s.LastError)
	}
	require.NoError(t, b.Reload(t.Context()))
	assert.NoError(t, b.Ready(10*time.Millisecond), "PORT is not watched any more")
}
