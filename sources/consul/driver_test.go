package consul_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/consultest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/consul"
)

// openDriver opens the consul scheme's driver with cfg as its source config.
func openDriver(t *testing.T, cfg any) sources.Driver {
	t.Helper()
	s, ok := sources.Lookup("consul")
	require.True(t, ok)
	require.Equal(t, []string{"dc", "stale", "wait", "prefix", "ratelimit"}, s.Options)
	require.False(t, s.Poll || s.Timeout || s.NativeDebounce)
	return fixture.OpenDriver(t, "consul", cfg)
}

// agentAt points the api client's environment at addr, with token as the
// ACL token and no token file or basic auth.
func agentAt(t *testing.T, addr, token string) {
	t.Helper()
	t.Setenv("CONSUL_HTTP_ADDR", addr)
	t.Setenv("CONSUL_HTTP_TOKEN", token)
	t.Setenv("CONSUL_HTTP_TOKEN_FILE", "")
	t.Setenv("CONSUL_HTTP_AUTH", "")
}

func target(loc string, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "consul", Location: loc, Params: params}
}

// agentDriver starts an agent and opens a driver on a client of it whose KV
// requests are counted.
func agentDriver(t *testing.T) (*api.Client, *counter, sources.Driver) {
	t.Helper()
	client, count := countingClient(consultest.Start(t), "")
	return client, count, openDriver(t, client)
}

// newResults returns a log of what one Watch emits.
func newResults() *fixture.Log[sources.Result] { return fixture.NewLog[sources.Result](waitFor) }

// TestDriverRead: Read is one non-blocking GET; prefix mode declares JSON;
// Version is the X-Consul-Index.
func TestDriverRead(t *testing.T) {
	t.Parallel()
	client, count, d := agentDriver(t)
	put(t, client, "read/app/a", "1")
	put(t, client, "read/app/x/y", `{"deep": true}`)
	put(t, client, "read/app/x/", "")

	r := d.Read(t.Context(), target("read/app/a", nil))
	require.NoError(t, r.Err)
	require.Equal(t, "1", string(r.Data))
	require.Empty(t, r.Format)
	idx, err := strconv.ParseUint(r.Version, 10, 64)
	require.NoError(t, err)
	require.Positive(t, idx)

	r = d.Read(t.Context(), target("read/app/", map[string]string{"prefix": "true"}))
	require.NoError(t, r.Err)
	require.Equal(t, "application/json", r.Format)
	require.JSONEq(t, `{"a": "1", "x": {"y": "{\"deep\": true}"}}`, string(r.Data))

	put(t, client, "read/odd key?x=1#y%20", "odd")
	r = d.Read(t.Context(), target("read/odd key?x=1#y%20", nil))
	require.NoError(t, r.Err)
	require.Equal(t, "odd", string(r.Data), "keys are escaped as a path")

	r = d.Read(t.Context(), target("read/none", nil))
	require.True(t, r.Missing)
	require.Nil(t, r.Data)
	require.NotEmpty(t, r.Version, "a 404 carries X-Consul-Index")

	r = d.Read(t.Context(), target("read/nothing/", map[string]string{"prefix": "true"}))
	require.True(t, r.Missing, "an empty prefix is missing")

	r = d.Read(t.Context(), target("read/app/a", map[string]string{"wait": "1h"}))
	require.ErrorContains(t, r.Err, "wait=1h exceeds")

	_, blocking, _ := count.counts()
	require.Zero(t, blocking, "Read never blocks")

	_, err = d.Watch(target("read/app/a", map[string]string{"wait": "nope"}), r, func(sources.Result) {})
	require.ErrorContains(t, err, `consul: key "read/app/a": wait="nope" is not a duration`)
}

// TestDriverSharedWatch: Watch calls on one query share one blocking loop and
// fan out; a later Watch compares its own Read with a fresh answer (a change
// between its Read and its Watch is reported); stop ends deliveries at once.
func TestDriverSharedWatch(t *testing.T) {
	t.Parallel()
	client, count, d := agentDriver(t)
	put(t, client, "sw/k", "v1")

	params := map[string]string{"wait": "1s", "ratelimit": "10ms"}
	first := d.Read(t.Context(), target("sw/k", params))
	r1 := newResults()
	stop1 := fixture.Watch(t, d, target("sw/k", params), first, r1.Add)

	// The second watcher read v1, then the key changed before its Watch.
	second := d.Read(t.Context(), target("sw/k", params))
	require.Equal(t, "v1", string(second.Data))
	time.Sleep(100 * time.Millisecond) // the first query is blocking now
	put(t, client, "sw/k", "v2")
	r2 := newResults()
	params2 := map[string]string{"wait": "1s", "ratelimit": "1s"} // another rate limit, same query
	stop2 := fixture.Watch(t, d, target("sw/k", params2), second, r2.Add)
	require.Equal(t, "v2", string(r1.Nth(t, 0).Data))
	require.Equal(t, "v2", string(r2.Nth(t, 0).Data))

	count.reset()
	time.Sleep(2500 * time.Millisecond)
	k := count.key("sw/k")
	t.Logf("two watches, 2.5s idle, wait=1s: %+v", k)
	require.Equal(t, 1, k.maxInflight, "one blocking query in flight for both watches")
	require.LessOrEqual(t, k.total, 4)

	put(t, client, "sw/k", "v3")
	require.Equal(t, "v3", string(r1.Nth(t, 1).Data))
	require.Equal(t, "v3", string(r2.Nth(t, 1).Data))

	stop2()
	n2 := r2.Len()
	put(t, client, "sw/k", "v4")
	require.Equal(t, "v4", string(r1.Nth(t, 2).Data))
	require.Equal(t, n2, r2.Len(), "no emit after stop")

	stop1()
	stop1() // idempotent
	n1 := r1.Len()
	put(t, client, "sw/k", "v5")
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, n1, r1.Len(), "no emit after stop")
}

// TestDriverIdleRequests: an idle key costs at most one request per wait:
// with wait=W over a window, at most ceil(window/W)+2 requests.
func TestDriverIdleRequests(t *testing.T) {
	t.Parallel()
	client, count, d := agentDriver(t)
	put(t, client, "idle/k", "v")

	const wait = 500 * time.Millisecond
	const window = 4 * time.Second
	tg := target("idle/k", map[string]string{"wait": wait.String(), "ratelimit": "1ms"})
	res := newResults()
	last := d.Read(t.Context(), tg)
	count.reset()
	stop := fixture.Watch(t, d, tg, last, res.Add)
	time.Sleep(window)
	stop()
	k := count.key("idle/k")
	limit := int(math.Ceil(float64(window)/float64(wait))) + 2
	// Steady state: blocking requests per wait period, scaled to an hour of
	// the default wait (at most 3600s/5m = 12).
	perWait := float64(k.blocking) / (float64(window) / float64(wait))
	perHour := perWait * float64(time.Hour) / float64(consul.DefaultWait)
	t.Logf("idle key, wait=%s over %s: %d requests (%d blocking, 1 non-blocking start), limit %d; "+
		"%.2f blocking requests per wait, so about %.1f requests/hour with wait=%s",
		wait, window, k.total, k.blocking, limit, perWait, perHour, consul.DefaultWait)
	require.LessOrEqual(t, k.total, limit)
	require.GreaterOrEqual(t, k.blocking, 3, "the query blocks and is renewed each wait")
	require.Zero(t, res.Len(), "an idle key emits nothing")
}

// TestDriverPermissionDeniedBackoff: with the default backoff, a 403 is
// retried no sooner than 5s: a handful of requests, not a storm.
func TestDriverPermissionDeniedBackoff(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.WithACL())
	put(t, a.Client(), "deny/k", "v")
	token := a.TokenWithRules(`key_prefix "other/" { policy = "read" }`)
	client, count := countingClient(a, token)
	d := openDriver(t, client)

	tg := target("deny/k", map[string]string{"wait": "1s", "ratelimit": "1ms"})
	res := newResults()
	count.reset()
	fixture.Watch(t, d, tg, sources.Result{Data: []byte("v")}, res.Add)
	r := res.Nth(t, 0)
	require.ErrorIs(t, r.Err, sources.ErrAuth)
	require.NotContains(t, r.Err.Error(), token)
	time.Sleep(2 * time.Second)
	total, _, _ := count.counts()
	t.Logf("requests in ~2s after a 403 (default backoff): %d", total)
	require.LessOrEqual(t, total, 2)
	require.Equal(t, 1, res.Len(), "the same error is reported once")
}

// TestDriverKeyNotRewritten: the agent's HTTP mux answers a path with "."
// or ".." segments or an empty segment with a 301 to the cleaned path, and
// the client follows it: "app/../secret" would read "secret". Such keys are
// refused at Bind, and so is a second leading "/" (the client strips one
// more), so that no key reads another one.
func TestDriverKeyNotRewritten(t *testing.T) {
	t.Parallel()
	client, _, d := agentDriver(t)
	put(t, client, "secret", "s3cret")
	put(t, client, "app/secret", "s3cret")
	for _, loc := range []string{"app/../secret", "app//secret", "./secret", "app/./secret", "app/secret/.", "//secret", "app/secret/.."} {
		r := d.Read(t.Context(), target(loc, nil))
		require.NotEqual(t, "s3cret", string(r.Data), "key %q read another key", loc)
		require.ErrorContains(t, r.Err, "segment", "key %q", loc)
		_, err := d.Watch(target(loc, nil), r, func(sources.Result) {})
		require.Error(t, err, "key %q", loc)
	}
	for _, loc := range []string{"app/.../x", "app/.hidden", "app/x."} { // no dot segment: read as they are
		put(t, client, loc, "ok")
		r := d.Read(t.Context(), target(loc, nil))
		require.NoError(t, r.Err)
		require.Equal(t, "ok", string(r.Data), "key %q", loc)
	}
}
