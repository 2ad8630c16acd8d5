package sources_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/sources"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type nopDriver struct{}

func (nopDriver) Read(context.Context, *sources.Target) sources.Result {
	return sources.Result{Missing: true}
}

func (nopDriver) Watch(*sources.Target, sources.Result, func(sources.Result)) (func(), error) {
	return func() {}, nil
}

func (nopDriver) Close() error { return nil }

func TestRegister(t *testing.T) {
	open := func(sources.Config) (sources.Driver, error) { return nopDriver{}, nil }
	sources.Register(sources.Scheme{Name: "test-register", Options: []string{"x"}, Open: open})
	s, ok := sources.Lookup("test-register")
	require.True(t, ok)
	assert.Equal(t, []string{"x"}, s.Options)
	assert.True(t, slices.Contains(sources.Names(), "test-register"))
	assert.True(t, slices.IsSorted(sources.Names()))
	_, ok = sources.Lookup("nope")
	assert.False(t, ok)

	assert.PanicsWithValue(t, `sources: scheme "test-register" registered twice`, func() {
		sources.Register(sources.Scheme{Name: "test-register", Open: open})
	})
	assert.Panics(t, func() { sources.Register(sources.Scheme{Name: "no-open"}) })
	assert.Panics(t, func() { sources.Register(sources.Scheme{Open: open}) })
}

func TestTarget(t *testing.T) {
	t.Parallel()
	tg := &sources.Target{Scheme: "file", Location: "/a", Params: map[string]string{"k": "v"}}
	assert.Equal(t, "file:/a", tg.String())
	v, ok := tg.Param("k")
	assert.True(t, ok)
	assert.Equal(t, "v", v)
	_, ok = tg.Param("nope")
	assert.False(t, ok)
}
