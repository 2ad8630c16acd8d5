package consul_test

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/consultest"
	_ "github.com/livebind/livebind/sources/consul"
)

func TestMain(m *testing.M) {
	// Build (or find) the Consul binary before any test's clock starts; a
	// failure is printed here and fails every test that needs an agent.
	if _, err := consultest.EnsureBinary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	goleak.VerifyTestMain(m)
}

// waitFor bounds every wait for an update.
const waitFor = 10 * time.Second

// counter is an http.RoundTripper that counts the requests to /v1/kv/.
type counter struct {
	rt http.RoundTripper

	mu          sync.Mutex
	total       int // KV requests started
	blocking    int // of which carried index > 0
	inflight    int
	maxInflight int
	byKey       map[string]*keyCount
}

// keyCount counts the requests of one key.
type keyCount struct {
	total, blocking, inflight, maxInflight int
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	kv := strings.HasPrefix(req.URL.Path, "/v1/kv/")
	if kv {
		idx, _ := strconv.ParseUint(req.URL.Query().Get("index"), 10, 64)
		key := strings.TrimPrefix(req.URL.Path, "/v1/kv/")
		c.mu.Lock()
		if c.byKey == nil {
			c.byKey = map[string]*keyCount{}
		}
		k := c.byKey[key]
		if k == nil {
			k = &keyCount{}
			c.byKey[key] = k
		}
		c.total++
		k.total++
		if idx > 0 {
			c.blocking++
			k.blocking++
		}
		c.inflight++
		k.inflight++
		c.maxInflight = max(c.maxInflight, c.inflight)
		k.maxInflight = max(k.maxInflight, k.inflight)
		c.mu.Unlock()
		defer func() { // a blocking query's answer only starts when it stops blocking
			c.mu.Lock()
			c.inflight--
			k.inflight--
			c.mu.Unlock()
		}()
	}
	return c.rt.RoundTrip(req)
}

func (c *counter) counts() (total, blocking, maxInflight int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, c.blocking, c.maxInflight
}

// key returns the counts of one key (a copy).
func (c *counter) key(key string) keyCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := c.byKey[key]; k != nil {
		return *k
	}
	return keyCount{}
}

// reset zeroes the counts; requests in flight stay counted as in flight.
func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total, c.blocking, c.maxInflight = 0, 0, c.inflight
	for _, k := range c.byKey {
		k.total, k.blocking, k.maxInflight = 0, 0, k.inflight
	}
}

// countingClient returns a client of a whose KV requests are counted. token
// overrides the agent's root token when not empty.
func countingClient(a *consultest.Agent, token string) (*api.Client, *counter) {
	c := &counter{}
	client := a.ClientWith(func(cfg *api.Config) {
		if token != "" {
			cfg.Token = token
		}
		c.rt = cfg.Transport
		cfg.HttpClient = &http.Client{Transport: c}
	})
	return client, c
}

func put(tb testing.TB, c *api.Client, key, value string) {
	tb.Helper()
	_, err := c.KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil)
	require.NoError(tb, err)
}

func del(tb testing.TB, c *api.Client, key string) {
	tb.Helper()
	_, err := c.KV().Delete(key, nil)
	require.NoError(tb, err)
}

// agentWith starts an agent and puts the key, value pairs kv.
func agentWith(tb testing.TB, kv ...string) (*consultest.Agent, *api.Client) {
	tb.Helper()
	a := consultest.Start(tb)
	client := a.Client()
	for i := 0; i+1 < len(kv); i += 2 {
		put(tb, client, kv[i], kv[i+1])
	}
	return a, client
}
