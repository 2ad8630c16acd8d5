package livebind

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

type zzDriver struct{}

func (zzDriver) Read(context.Context, *sources.Target) sources.Result {
	return sources.Result{Data: []byte("v")}
}

func (zzDriver) Watch(*sources.Target, sources.Result, func(sources.Result)) (func(), error) {
	return nil, errors.New("watch limit reached")
}
func (zzDriver) Close() error { return nil }

func init() {
	sources.Register(sources.Scheme{Name: "failingwatch", Open: func(sources.Config) (sources.Driver, error) { return zzDriver{}, nil }})
}

func TestRegressionWatchFailsToStartIsForgotten(t *testing.T) {
	env := newEnv("MODE", "off")
	var cfg struct {
		Mode string `live:"env=MODE; poll=5ms"`
		X    string `live:"failingwatch=x; required; when=Mode == \"on\""`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	env.set("MODE", "on")
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Field == "X" })
	t.Logf("update: %v", u)
	time.Sleep(20 * time.Millisecond)
	st := b.Status()
	t.Logf("%+v", st.Sources[1])
	assert.False(t, st.Sources[1].Healthy, "the source is not watched")
	assert.Error(t, b.Ready(0))
	assert.Error(t, b.Reload(t.Context()), "Reload: nil means every source is healthy")
}
