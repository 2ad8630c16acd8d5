package consul_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/consultest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/consul"
)

// TestBindLifecycle: put -> Updated; the same bytes again -> nothing;
// delete -> Removed (value kept); writes elsewhere while missing -> nothing;
// re-create -> Added.
func TestBindLifecycle(t *testing.T) {
	t.Parallel()
	_, client := agentWith(t, "life/v", "one")

	type config struct {
		V string `live:"consul=life/v; format=text; wait=2s; ratelimit=10ms"`
	}
	b, rec := bindtest.Bind[config](t, "consul", client)
	require.Equal(t, "one", b.Get().V)

	put(t, client, "life/v", "two")
	u := rec.Nth(t, 0)
	require.Equal(t, livebind.Updated, u.Kind, "%v", u)
	require.Equal(t, "two", u.New)
	require.Equal(t, "consul:life/v", u.Source)

	// The same bytes again: Consul skips an identical write, but a write
	// with other flags changes the ModifyIndex (and wakes the query) with
	// the same value.
	before, _, err := client.KV().Get("life/v", nil)
	require.NoError(t, err)
	put(t, client, "life/v", "two")
	_, err = client.KV().Put(&api.KVPair{Key: "life/v", Value: []byte("two"), Flags: 42}, nil)
	require.NoError(t, err)
	after, _, err := client.KV().Get("life/v", nil)
	require.NoError(t, err)
	require.Greater(t, after.ModifyIndex, before.ModifyIndex, "the flags change the index")
	require.Equal(t, before.Value, after.Value)
	rec.Quiet(t, 1, 500*time.Millisecond)

	del(t, client, "life/v")
	u = rec.Nth(t, 1)
	require.Equal(t, livebind.Removed, u.Kind, "%v", u)
	require.Equal(t, "two", b.Get().V, "Removed keeps the last value")

	// A blocking query on a missing key wakes on any KV write
	// (hashicorp/consul#9449): none of these may produce an update.
	for i := range 10 {
		put(t, client, "life/other", string(rune('a'+i)))
	}
	rec.Quiet(t, 2, 300*time.Millisecond)

	put(t, client, "life/v", "three")
	u = rec.Nth(t, 2)
	require.Equal(t, livebind.Added, u.Kind, "%v", u)
	require.Equal(t, "three", u.New)
	require.Equal(t, "three", b.Get().V)
	rec.Quiet(t, 3, 200*time.Millisecond)
}

// TestBindDecodeError: a value that does not decode is an Error update and
// the last good value stays; a good value afterwards is applied.
func TestBindDecodeError(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t)
	client := a.Client()
	put(t, client, "dec/flags.json", `{"enabled": true, "level": 3}`)

	type flags struct {
		Enabled bool `json:"enabled"`
		Level   int  `json:"level"`
	}
	type config struct {
		Flags flags `live:"consul=dec/flags.json; wait=2s; ratelimit=10ms"`
	}
	b, rec := bindtest.Bind[config](t, "consul", client)
	require.Equal(t, flags{Enabled: true, Level: 3}, b.Get().Flags)

	put(t, client, "dec/flags.json", `{"enabled": tru`)
	u := rec.Nth(t, 0)
	require.Equal(t, livebind.Error, u.Kind, "%v", u)
	require.ErrorIs(t, u.Err, livebind.ErrDecode)
	require.Equal(t, flags{Enabled: true, Level: 3}, b.Get().Flags, "last good value kept")

	put(t, client, "dec/flags.json", `{"enabled": false, "level": 4}`)
	u = rec.Until(t, "Updated", func(u livebind.Update) bool { return u.Kind == livebind.Updated })
	require.Equal(t, flags{Level: 4}, u.New)
	require.Equal(t, flags{Level: 4}, b.Get().Flags)
}

// TestBindPrefix: prefix mode builds a nested JSON object; adding and
// removing keys updates it; an emptied prefix is Removed; keys back, Added.
func TestBindPrefix(t *testing.T) {
	t.Parallel()
	_, client := agentWith(t, "pre/tuning/a", "1")
	put(t, client, "pre/tuning/x/y", "deep")

	type config struct {
		Tuning map[string]any `live:"consul=pre/tuning/; prefix; wait=2s; ratelimit=10ms"`
		Deep   string         `live:"consul=pre/tuning/; prefix; key=x.y; wait=2s; ratelimit=10ms"`
	}
	b, rec := bindtest.Bind[config](t, "consul", client)
	require.Equal(t, map[string]any{"a": "1", "x": map[string]any{"y": "deep"}}, b.Get().Tuning)
	require.Equal(t, "deep", b.Get().Deep)

	put(t, client, "pre/tuning/b", "2")
	u := rec.Nth(t, 0)
	require.Equal(t, livebind.Updated, u.Kind, "%v", u)
	require.Equal(t, "Tuning", u.Field)
	require.Equal(t, map[string]any{"a": "1", "b": "2", "x": map[string]any{"y": "deep"}}, u.New)

	del(t, client, "pre/tuning/a")
	u = rec.Nth(t, 1)
	require.Equal(t, map[string]any{"b": "2", "x": map[string]any{"y": "deep"}}, u.New)

	put(t, client, "pre/tuning/x/y", "deeper")
	rec.Until(t, "Deep updated", func(u livebind.Update) bool { return u.Field == "Deep" && u.New == "deeper" })

	_, err := client.KV().DeleteTree("pre/tuning/", nil)
	require.NoError(t, err)
	rec.Until(t, "Tuning removed", func(u livebind.Update) bool { return u.Field == "Tuning" && u.Kind == livebind.Removed })
	require.Equal(t, map[string]any{"b": "2", "x": map[string]any{"y": "deeper"}}, b.Get().Tuning, "Removed keeps the value")

	put(t, client, "pre/tuning/c", "3")
	u = rec.Until(t, "Tuning added", func(u livebind.Update) bool { return u.Field == "Tuning" && u.Kind == livebind.Added })
	require.Equal(t, map[string]any{"c": "3"}, u.New)
}

// TestBindSharedQuery: two targets on one key (they differ in throttle=, so
// livebind makes two Watch calls) share one blocking query; another key has
// its own, in parallel.
func TestBindSharedQuery(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t)
	client, count := countingClient(a, "")
	put(t, client, "shared/doc.json", `{"a": "1", "b": "1"}`)
	put(t, client, "shared/other", "x")

	type config struct {
		A     string `live:"consul=shared/doc.json; key=a; wait=1s; ratelimit=10ms"`
		B     string `live:"consul=shared/doc.json; key=b; wait=1s; ratelimit=10ms; throttle=1ms"`
		Other string `live:"consul=shared/other; format=text; wait=1s; ratelimit=10ms"`
	}
	b, rec := bindtest.Bind[config](t, "consul", client)
	require.Equal(t, config{A: "1", B: "1", Other: "x"}, *b.Get())

	time.Sleep(200 * time.Millisecond) // let both watches settle into their blocking query
	count.reset()
	const window = 3 * time.Second
	time.Sleep(window)
	doc, other := count.key("shared/doc.json"), count.key("shared/other")
	t.Logf("over %s: shared key %+v, other key %+v", window, doc, other)
	require.LessOrEqual(t, doc.maxInflight, 1, "one blocking query per key at a time")
	require.LessOrEqual(t, doc.total, 5, "two watches of one key must not double its requests (wait=1s over 3s)")
	require.GreaterOrEqual(t, other.blocking, 1, "the other key is watched in parallel")

	put(t, client, "shared/doc.json", `{"a": "2", "b": "3"}`)
	rec.Until(t, "A", func(u livebind.Update) bool { return u.Field == "A" && u.New == "2" })
	rec.Until(t, "B", func(u livebind.Update) bool { return u.Field == "B" && u.New == "3" })
	require.Equal(t, config{A: "2", B: "3", Other: "x"}, *b.Get())
}

// TestBindOptions: dc= and stale work against the agent's datacenter; bad
// option values and an unknown datacenter fail Bind with clear messages.
func TestBindOptions(t *testing.T) {
	t.Parallel()
	_, client := agentWith(t, "opt/k", "v")

	type good struct {
		DC    string `live:"consul=opt/k; format=text; dc=dc1"`
		Stale string `live:"consul=opt/k; format=text; stale; wait=10m"`
	}
	b, _ := bindtest.Bind[good](t, "consul", client)
	require.Equal(t, good{DC: "v", Stale: "v"}, *b.Get())

	type badWait struct {
		V string `live:"consul=opt/k; format=text; wait=11m"`
	}
	err := bindErr[badWait](t, client)
	require.ErrorContains(t, err, `consul: key "opt/k": wait=11m exceeds Consul's maximum of 10m0s`)

	type badRate struct {
		V string `live:"consul=opt/k; format=text; ratelimit=fast"`
	}
	err = bindErr[badRate](t, client)
	require.ErrorContains(t, err, `ratelimit="fast" is not a duration`)

	type badDC struct {
		V string `live:"consul=opt/k; format=text; dc=nowhere"`
	}
	err = bindErr[badDC](t, client)
	require.ErrorIs(t, err, sources.ErrHTTPStatus)
	require.ErrorContains(t, err, `consul: key "opt/k" in dc "nowhere": unexpected HTTP status 500`)

	type unknown struct {
		V string `live:"consul=opt/k; poll=1s"`
	}
	err = bindErr[unknown](t, client)
	require.ErrorIs(t, err, livebind.ErrTag, "consul does not poll")

	type plain struct {
		V string `live:"consul=opt/k; format=text"`
	}
	err = bindErr[plain](t, "localhost:8500")
	require.ErrorContains(t, err, "consul: source config of type string")
}

// TestBindRateLimitZero: ratelimit=0 in a tag is a Bind error naming the
// option, found without an agent (the address is a closed port): it used
// to turn the rate limit off without a word, so that a tag meant to keep
// the default hammered the agent under churn. Off is Config.RateLimit < 0.
func TestBindRateLimitZero(t *testing.T) {
	t.Parallel()
	cfg := api.DefaultConfig()
	cfg.Address = "127.0.0.1:1"
	client, err := api.NewClient(cfg)
	require.NoError(t, err)
	type zero struct {
		V string `live:"consul=rl/k; format=text; ratelimit=0s"`
	}
	err = bindErr[zero](t, client)
	require.ErrorIs(t, err, livebind.ErrTag)
	require.ErrorContains(t, err, `consul: key "rl/k": ratelimit=0s is zero`)
	require.ErrorContains(t, err, "Config.RateLimit")
	require.NotErrorIs(t, err, sources.ErrUnreachable, "refused at Bind, before any request")
}

// bindErr binds a T with the given consul source config and returns the
// error Bind must fail with.
func bindErr[T any](t *testing.T, client any) error {
	t.Helper()
	var dst T
	b, err := livebind.Bind(t.Context(), &dst, livebind.WithSourceConfig("consul", client))
	if b != nil {
		_ = b.Close()
	}
	require.Error(t, err)
	return err
}

// TestBindMissingAtStart: a key that does not exist yet leaves the field at
// its default (Status: "absent (optional)" for an optional field); creating
// it is Added (Status: "present").
func TestBindMissingAtStart(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t)
	client := a.Client()
	type config struct {
		V string `live:"consul=late/v; format=text; default=dflt; optional; wait=2s; ratelimit=10ms"`
	}
	b, rec := bindtest.Bind[config](t, "consul", client)
	require.Equal(t, "dflt", b.Get().V)
	require.Equal(t, "absent (optional)", b.Status().Fields[0].State)
	put(t, client, "late/v", "here")
	u := rec.Nth(t, 0)
	require.Equal(t, livebind.Added, u.Kind, "%v", u)
	require.Equal(t, "here", b.Get().V)
	require.Equal(t, "present", b.Status().Fields[0].State)

	var required struct {
		V string `live:"consul=late/none; required"`
	}
	_, err := livebind.Bind(t.Context(), &required, livebind.WithSourceConfig("consul", client))
	require.ErrorIs(t, err, livebind.ErrRequired)
}

// TestBindAgentRestart: the agent dies (Error updates, value kept) and comes
// back empty with its index starting over; the watch converges to what is
// written after the restart.
func TestBindAgentRestart(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t)
	client := a.Client()
	for i := range 20 { // push the index well above where a fresh agent starts
		put(t, client, "restart/filler", string(rune('a'+i)))
	}
	put(t, client, "restart/v", "before")

	type config struct {
		V string `live:"consul=restart/v; format=text; wait=2s; ratelimit=10ms"`
	}
	b, rec := bindtest.Bind[config](t, "consul", consul.Config{Client: client, MaxBackoff: time.Second})
	require.Equal(t, "before", b.Get().V)

	a.Stop()
	u := rec.Until(t, "Error", func(u livebind.Update) bool { return u.Kind == livebind.Error })
	require.ErrorIs(t, u.Err, sources.ErrUnreachable)
	require.ErrorContains(t, u.Err, `consul: key "restart/v"`)
	require.Equal(t, "before", b.Get().V, "the last good value is kept during the outage")

	a.Restart()
	put(t, client, "restart/v", "after")
	rec.Until(t, "the value written after the restart", func(u livebind.Update) bool {
		return (u.Kind == livebind.Added || u.Kind == livebind.Updated) && u.New == "after"
	})
	require.Equal(t, "after", b.Get().V)
	put(t, client, "restart/v", "after2")
	rec.Until(t, "a later value", func(u livebind.Update) bool { return u.New == "after2" })
}

// TestBindSnapshotRestore: restoring an older snapshot sends the key's index
// backwards on a live connection; the watch follows the restored value and
// keeps following later writes.
func TestBindSnapshotRestore(t *testing.T) {
	t.Parallel()
	_, client := agentWith(t, "snap/v", "old")
	snap, _, err := client.Snapshot().Save(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = snap.Close() })
	for i := range 10 {
		put(t, client, "snap/v", "new"+string(rune('0'+i)))
	}

	type config struct {
		V string `live:"consul=snap/v; format=text; wait=1m; ratelimit=10ms"`
	}
	b, rec := bindtest.Bind[config](t, "consul", client)
	require.Equal(t, "new9", b.Get().V)
	time.Sleep(200 * time.Millisecond) // the watch is blocking now

	// Consul answers the blocking query from the old state (same index)
	// and restores an index lower than the one the watch holds.
	start := time.Now()
	require.NoError(t, client.Snapshot().Restore(nil, snap))
	rec.Until(t, "the restored value", func(u livebind.Update) bool { return u.New == "old" })
	t.Logf("restored value seen after %s", time.Since(start))
	require.Less(t, time.Since(start), 5*time.Second, "not after the whole wait=1m")
	put(t, client, "snap/v", "later")
	rec.Until(t, "a write after the restore", func(u livebind.Update) bool { return u.New == "later" })
	require.Equal(t, "later", b.Get().V)
}

// TestBindACL: a token that may not read the key fails Bind; a token whose
// permission is revoked at run time gives an Error update, no request storm,
// and recovers once the permission is back. The token never shows in errors.
func TestBindACL(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.WithACL())
	root := a.Client()
	put(t, root, "acl/v", "one")

	noRead := a.TokenWithRules("")
	denied, _ := countingClient(a, noRead)
	type config struct {
		V string `live:"consul=acl/v; format=text; wait=2s; ratelimit=10ms"`
	}
	var cfg config
	_, err := livebind.Bind(t.Context(), &cfg, livebind.WithSourceConfig("consul", denied))
	require.ErrorIs(t, err, sources.ErrAuth)
	require.NotContains(t, err.Error(), noRead)
	require.NotContains(t, err.Error(), a.RootToken())

	// A token whose permission is taken away and given back at run time.
	policy, _, err := root.ACL().PolicyCreate(&api.ACLPolicy{Name: "reader", Rules: `key_prefix "acl/" { policy = "read" }`}, nil)
	require.NoError(t, err)
	tok, _, err := root.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: policy.ID}}}, nil)
	require.NoError(t, err)
	client, count := countingClient(a, tok.SecretID)
	b, rec := bindtest.Bind[config](t, "consul", consul.Config{Client: client, MaxBackoff: 2 * time.Second})
	require.Equal(t, "one", b.Get().V)

	// Unlink the policy from the token (policies themselves are cached by
	// the servers for a while; the token's links are read on each request),
	// and wait until a fresh request is denied.
	tok.Policies = nil
	_, _, err = root.ACL().TokenUpdate(tok, nil)
	require.NoError(t, err)
	probe := a.ClientWith(func(cfg *api.Config) { cfg.Token = tok.SecretID })
	require.Eventually(t, func() bool {
		_, _, err := probe.KV().Get("acl/v", nil)
		var se api.StatusError
		return errors.As(err, &se) && se.Code == 403
	}, waitFor, 50*time.Millisecond, "the token is never denied")
	// Wake the blocking query. Consul authorized it when it began, so it may
	// still answer "two"; the next request is denied.
	put(t, root, "acl/v", "two")
	u := rec.Until(t, "Error", func(u livebind.Update) bool { return u.Kind == livebind.Error })
	require.ErrorIs(t, u.Err, sources.ErrAuth)
	require.NotContains(t, u.Err.Error(), tok.SecretID)
	require.NotContains(t, u.String(), tok.SecretID)
	kept := b.Get().V
	require.Contains(t, []string{"one", "two"}, kept)
	put(t, root, "acl/v", "three") // written while the watch cannot read it

	count.reset()
	time.Sleep(2 * time.Second)
	total, _, _ := count.counts()
	t.Logf("requests in 2s while denied (MaxBackoff 2s): %d", total)
	require.LessOrEqual(t, total, 3, "403 must not be hot-retried")

	tok.Policies = []*api.ACLTokenPolicyLink{{ID: policy.ID}}
	_, _, err = root.ACL().TokenUpdate(tok, nil)
	require.NoError(t, err)
	rec.Until(t, "recovery", func(u livebind.Update) bool { return u.Kind == livebind.Updated && u.New == "three" })
	require.Equal(t, "three", b.Get().V)
}

// TestBindCloseDuringBlockingQuery: Close cancels the request in flight at
// once and leaves no goroutine behind. The client comes from the CONSUL_*
// environment, so the driver owns (and closes) its connections.
func TestBindCloseDuringBlockingQuery(t *testing.T) {
	a := consultest.Start(t)
	put(t, a.Client(), "close/v", "v")
	agentAt(t, a.Addr(), "")

	type config struct {
		V string `live:"consul=close/v; format=text; wait=5m"`
		P string `live:"consul=close/; prefix; key=v; wait=5m"`
	}
	// Parallel tests start only after this sequential one, so everything
	// that runs now, besides the agent and the harness's client, is ours.
	ignore := goleak.IgnoreCurrent()
	var cfg config
	b, err := livebind.Bind(t.Context(), &cfg)
	require.NoError(t, err)
	require.Equal(t, config{V: "v", P: "v"}, *b.Get())
	time.Sleep(300 * time.Millisecond) // both blocking queries are in flight now

	start := time.Now()
	require.NoError(t, b.Close())
	took := time.Since(start)
	t.Logf("Close took %s", took)
	require.Less(t, took, time.Second)
	goleak.VerifyNone(t, ignore)
}
