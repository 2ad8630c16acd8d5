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

	"github.com/livebind/livebind"
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

// bind binds a T to the agent through client and records its updates.
func bind[T any](tb testing.TB, client any, opts ...livebind.Option) (*livebind.Binding[T], *recorder) {
	tb.Helper()
	var cfg T
	opts = append([]livebind.Option{livebind.WithSourceConfig("consul", client)}, opts...)
	b, err := livebind.Bind(tb.Context(), &cfg, opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = b.Close() })
	rec := &recorder{wake: make(chan struct{}, 1)}
	_, err = b.Subscribe(rec.add, livebind.From(1)) // nothing since Bind missed
	require.NoError(tb, err)
	return b, rec
}

// recorder keeps every update of a binding.
type recorder struct {
	mu   sync.Mutex
	ups  []livebind.Update
	wake chan struct{}
}

func (r *recorder) add(u livebind.Update) {
	r.mu.Lock()
	r.ups = append(r.ups, u)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []livebind.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]livebind.Update(nil), r.ups...)
}

// next waits for the update after the first n recorded ones and returns it.
func (r *recorder) next(tb testing.TB, n int) livebind.Update {
	tb.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		if ups := r.all(); len(ups) > n {
			return ups[n]
		}
		select {
		case <-r.wake:
		case <-deadline.C:
			tb.Fatalf("no update #%d within %s; got %v", n+1, waitFor, r.all())
		}
	}
}

// until waits for an update that satisfies ok and returns it.
func (r *recorder) until(tb testing.TB, what string, ok func(livebind.Update) bool) livebind.Update {
	tb.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		for _, u := range r.all() {
			if ok(u) {
				return u
			}
		}
		select {
		case <-r.wake:
		case <-deadline.C:
			tb.Fatalf("no update %s within %s; got %v", what, waitFor, r.all())
		}
	}
}

// quiet asserts that no update beyond the first n arrives within d.
func (r *recorder) quiet(tb testing.TB, n int, d time.Duration) {
	tb.Helper()
	time.Sleep(d)
	ups := r.all()
	require.Len(tb, ups, n, "unexpected updates: %v", ups[min(n, len(ups)):])
}
