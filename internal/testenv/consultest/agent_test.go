package consultest_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/consultest"
)

func TestMain(m *testing.M) {
	if _, err := consultest.EnsureBinary(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
	}
	goleak.VerifyTestMain(m)
}

func TestEnsureBinaryCached(t *testing.T) {
	t.Parallel()
	p, err := consultest.EnsureBinary()
	require.NoError(t, err)
	if os.Getenv(consultest.BinaryEnv) == "" {
		dir, err := consultest.CacheDir()
		require.NoError(t, err)
		require.Equal(t, filepath.Join(dir, "consul"), p)
		require.Contains(t, p, filepath.Join("livebind-tools", "consul-"+consultest.Version))
	}
	again, err := consultest.EnsureBinary()
	require.NoError(t, err)
	require.Equal(t, p, again)
}

// TestAgent: start, put, get, stop, restart (data gone, index back).
func TestAgent(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t)
	c := a.Client()
	for i := range 5 {
		_, err := c.KV().Put(&api.KVPair{Key: "h/k", Value: []byte(strconv.Itoa(i))}, nil)
		require.NoError(t, err)
	}
	p, meta, err := c.KV().Get("h/k", nil)
	require.NoError(t, err)
	require.NotNil(t, p)
	require.Equal(t, "4", string(p.Value))
	before := meta.LastIndex

	p, meta, err = c.KV().Get("h/none", nil)
	require.NoError(t, err)
	require.Nil(t, p, "404 is (nil, meta, nil)")
	require.Positive(t, meta.LastIndex, "404 carries X-Consul-Index")

	a.Stop()
	_, _, err = c.KV().Get("h/k", nil)
	require.Error(t, err, "stopped agent")
	a.Stop() // idempotent

	a.Restart()
	p, meta, err = c.KV().Get("h/k", nil)
	require.NoError(t, err)
	require.Nil(t, p, "a dev agent loses its data on restart")
	require.Less(t, meta.LastIndex, before, "the index starts over")
}

// TestAgentACL: the root token works, a token without rules is denied.
func TestAgentACL(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.WithACL())
	require.NotEmpty(t, a.RootToken())
	_, err := a.Client().KV().Put(&api.KVPair{Key: "acl/k", Value: []byte("v")}, nil)
	require.NoError(t, err)

	tok := a.TokenWithRules("")
	denied := a.ClientWith(func(cfg *api.Config) { cfg.Token = tok })
	_, _, err = denied.KV().Get("acl/k", nil)
	var se api.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 403, se.Code)

	reader := a.ClientWith(func(cfg *api.Config) {
		cfg.Token = a.TokenWithRules(`key_prefix "acl/" { policy = "read" }`)
	})
	p, _, err := reader.KV().Get("acl/k", nil)
	require.NoError(t, err)
	require.Equal(t, "v", string(p.Value))
}
