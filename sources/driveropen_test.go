package sources_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

type fakeClient struct{ name string }

type fakeConfig struct {
	Client *fakeClient
	N      int
}

// TestOpenClient checks that the Open it builds hands open the decoded
// config (from a config, a pointer to one, a bare client or nil) and that
// a value of another type fails without calling open.
func TestOpenClient(t *testing.T) {
	t.Parallel()
	var got []fakeConfig
	open := sources.OpenClient("fake", func(c *fakeClient) fakeConfig { return fakeConfig{Client: c} },
		func(_ sources.Config, c fakeConfig) (sources.Driver, error) {
			got = append(got, c)
			return nopDriver{}, nil
		})
	cl := &fakeClient{name: "a"}
	for _, v := range []any{nil, fakeConfig{N: 2}, &fakeConfig{N: 3}, cl} {
		d, err := open(sources.Config{Value: v})
		require.NoError(t, err)
		assert.NotNil(t, d)
	}
	assert.Equal(t, []fakeConfig{{}, {N: 2}, {N: 3}, {Client: cl}}, got)

	d, err := open(sources.Config{Value: 42})
	require.Error(t, err)
	assert.Nil(t, d)
	assert.Contains(t, err.Error(), "fake: source config of type int")
	assert.Len(t, got, 4, "open is not called for a bad config")
}

// TestCheckSpec checks that the adapted Check returns the parser's error
// and nothing else.
func TestCheckSpec(t *testing.T) {
	t.Parallel()
	bad := errors.New("bad location")
	check := sources.CheckSpec(func(t *sources.Target) (int, error) {
		if t.Location == "" {
			return 0, bad
		}
		return len(t.Location), nil
	})
	assert.NoError(t, check(&sources.Target{Location: "x"}))
	assert.ErrorIs(t, check(&sources.Target{}), bad)
}
