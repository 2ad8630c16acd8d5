package etcd_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/etcdtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/etcd"
)

// TestBindLifecycle: a change is Updated; a deleted key is Removed (the
// value is kept); re-created it is Added.
func TestBindLifecycle(t *testing.T) {
	s, cli := started(t, "life/v", "one")
	b, rec := bindtest.BindKey[textKey](t, "etcd", srcConfig(s), "life/v")
	bindtest.Lifecycle(t, rec, func() any { return b.Get().V }, func(v string) { put(t, cli, "life/v", v) }, func() { del(t, cli, "life/v") })
}

// TestBindPrefix: prefix mode reads every key under the prefix as a nested
// object, follows additions and deletions, refuses a sum of values over
// maxbytes=, and is Removed when the last key goes.
func TestBindPrefix(t *testing.T) {
	s, cli := started(t, "pre/a", "1")
	put(t, cli, "pre/x/y", "2")
	type config struct {
		Tuning map[string]any `live:"etcd=pre/; prefix; maxbytes=64"`
	}
	b, rec := bindtest.Bind[config](t, "etcd", srcConfig(s))
	require.Equal(t, map[string]any{"a": "1", "x": map[string]any{"y": "2"}}, b.Get().Tuning)
	put(t, cli, "pre/b", "3")
	rec.Until(t, "b added", func(u livebind.Update) bool { return u.Kind == livebind.Updated && b.Get().Tuning["b"] == "3" })
	// The sum of the values under the prefix is over maxbytes=: an Error,
	// the last good map is kept; back under it, the map follows again.
	put(t, cli, "pre/big", strings.Repeat("x", 100))
	u := rec.Until(t, "oversize Error", bindtest.IsError)
	require.ErrorIs(t, u.Err, sources.ErrTooLarge)
	require.NotContains(t, b.Get().Tuning, "big")
	del(t, cli, "pre/big")
	put(t, cli, "pre/c", "4")
	rec.Until(t, "c added", func(livebind.Update) bool { return b.Get().Tuning["c"] == "4" })
	del(t, cli, "pre/", clientv3.WithPrefix())
	rec.Until(t, "Removed", func(u livebind.Update) bool { return u.Kind == livebind.Removed })
}

// TestBindBadValues: a value that does not decode, and a value over
// maxbytes=, are Error updates that keep the last good value; a good value
// afterwards is applied.
func TestBindBadValues(t *testing.T) {
	s, cli := started(t, "bad/n", "1")
	type config struct {
		N int `live:"etcd=bad/n; format=json; maxbytes=16"`
	}
	b, rec := bindtest.Bind[config](t, "etcd", srcConfig(s))

	put(t, cli, "bad/n", "{not json")
	u := rec.Until(t, "decode Error", bindtest.IsError)
	require.ErrorContains(t, u.Err, "N")
	require.Equal(t, 1, b.Get().N, "the last good value is kept")

	put(t, cli, "bad/n", strings.Repeat("9", 17))
	u = rec.Until(t, "oversize Error", func(u livebind.Update) bool {
		return bindtest.IsError(u) && strings.Contains(u.Err.Error(), "maxbytes")
	})
	require.ErrorIs(t, u.Err, sources.ErrTooLarge)
	var e *etcd.Error
	require.ErrorAs(t, u.Err, &e)
	require.Equal(t, 1, b.Get().N)

	put(t, cli, "bad/n", "2")
	rec.Until(t, "recovery", bindtest.HasNew(2))
}

// TestBindDownAtStart: with the server down, Bind fails (fail fast) with a
// typed error that names the field and key and not the password; once the
// server is up, Bind succeeds.
func TestBindDownAtStart(t *testing.T) {
	s, _ := started(t, "down/v", "v")
	s.Stop()
	type config struct {
		V string `live:"etcd=down/v; format=text; timeout=500ms"`
	}
	const pw = "down-at-start-password"
	bindtest.FailsFast[config](t, "etcd", etcd.Config{
		Endpoints: []string{s.Endpoint()}, Username: "root", Password: pw, DialTimeout: 500 * time.Millisecond,
	}, sources.ErrUnreachable, `key "down/v"`, pw)
	s.Restart()
	b, _ := bindtest.Bind[config](t, "etcd", srcConfig(s))
	require.Equal(t, "v", b.Get().V)
}

// TestBindServerRestart: a server that stops (cleanly, then by a crash)
// gives an ErrUnavailable Error update at once, the value is kept, and a
// value written after it restarts lands.
func TestBindServerRestart(t *testing.T) {
	s, cli := started(t, "restart/v", "before")
	b, rec := bindtest.BindKey[textKey](t, "etcd", srcConfig(s), "restart/v")
	bindtest.Outages(t, rec, func() any { return b.Get().V }, []func(){s.Stop, s.Kill}, s.Restart,
		func(v string) { put(t, cli, "restart/v", v) }, sources.ErrUnreachable)
}

// TestBindConnectionCut: the connection is cut mid-watch and refused for a
// while, during which the key changes: an ErrUnavailable Error update (the
// value is kept), then the change made while disconnected lands (the watch re-reads, it does not trust a
// resumed stream).
func TestBindConnectionCut(t *testing.T) {
	s, cli := started(t, "cut/v", "before")
	p := fixture.NewProxy(t, s.Addr(0))
	b, rec := bindtest.BindKey[textKey](t, "etcd", etcd.Config{Endpoints: []string{p.Addr}, MaxBackoff: 200 * time.Millisecond}, "cut/v")
	bindtest.ConnectionCut(t, rec, p, func() any { return b.Get().V }, func(v string) { put(t, cli, "cut/v", v) }, sources.ErrUnreachable)
}

// TestBindCompaction: a watch that starts on a revision that was compacted
// is canceled with ErrCompacted; the driver reads again and watches from
// the new revision, so changes made in the gap and after it land.
func TestBindCompaction(t *testing.T) {
	s, cli := started(t, "compact/v", "one")
	first := put(t, cli, "compact/filler", "x")
	var log fixture.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Every watch starts at revision 1, which is compacted below.
	restore := etcd.SetWatchStart(func(int64) int64 { return 1 })
	defer restore()
	for i := range 5 {
		put(t, cli, "compact/filler", strconv.Itoa(i))
	}
	last := put(t, cli, "compact/v", "two")
	_, err := cli.Compact(t.Context(), last)
	require.NoError(t, err)
	require.Greater(t, last, first)

	b, _ := bindtest.BindKey[textKey](t, "etcd", srcConfig(s), "compact/v", livebind.WithLogger(logger))
	require.Equal(t, "two", b.Get().V)
	require.Eventually(t, func() bool { return strings.Contains(log.String(), "compacted") }, bindtest.WaitFor, 10*time.Millisecond,
		"the watch never saw ErrCompacted")
	restore()
	// The next read's watch starts normally and follows later writes.
	put(t, cli, "compact/v", "three")
	require.Eventually(t, func() bool { return b.Get().V == "three" }, bindtest.WaitFor, 5*time.Millisecond)
}

// TestBindChurn: 1,000 changes a second to one key for two seconds: the
// final value lands, and the heap does not grow with the number of
// changes (events are applied to one state and coalesced).
func TestBindChurn(t *testing.T) {
	s, cli := started(t, "churn/v", "0")
	type config struct {
		V int `live:"etcd=churn/v; format=json"`
	}
	b, _ := bindtest.Bind[config](t, "etcd", srcConfig(s))
	bindtest.Churn(t, 2000, func(i int) {
		_, err := cli.Put(t.Context(), "churn/v", bindtest.Padded(i))
		require.NoError(t, err)
	}, func() int { return b.Get().V })
}

// TestBindAuth: etcd auth on. A user may read "auth/" only: its field
// binds and follows changes; a wrong password and a key outside its
// permission fail Bind with ErrPermissionDenied, without the password.
func TestBindAuth(t *testing.T) {
	s := etcdtest.Start(t)
	root := newClient(t, s, "", "")
	ctx := t.Context()
	put(t, root, "auth/v", "one")
	put(t, root, "other/v", "secret")
	for _, step := range []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.RoleAdd(ctx, "reader"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "reader", "auth/", clientv3.GetPrefixRangeEnd("auth/"), clientv3.PermissionType(clientv3.PermRead))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "app", "app-password-123"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "app", "reader"); return err },
		func() error { _, err := root.AuthEnable(ctx); return err },
	} {
		require.NoError(t, step())
	}
	admin := newClient(t, s, "root", "rootpw")

	type config struct {
		V string `live:"etcd=auth/v; format=text"`
	}
	cfg := etcd.Config{Endpoints: []string{s.Endpoint()}, Username: "app", Password: "app-password-123"}
	b, rec := bindtest.Bind[config](t, "etcd", cfg)
	require.Equal(t, "one", b.Get().V)
	put(t, admin, "auth/v", "two")
	rec.Until(t, "two", bindtest.HasNew("two"))
	require.NotContains(t, cfg.String(), "app-password-123")

	var c1 config
	bad := cfg
	bad.Password = "wrong-password-456"
	_, err := livebind.Bind(ctx, &c1, livebind.WithSourceConfig("etcd", bad))
	require.ErrorIs(t, err, sources.ErrAuth)
	require.NotContains(t, err.Error(), "wrong-password-456")

	var c2 struct {
		V string `live:"etcd=other/v; format=text"`
	}
	_, err = livebind.Bind(ctx, &c2, livebind.WithSourceConfig("etcd", cfg))
	require.ErrorIs(t, err, sources.ErrAuth)
	require.NotContains(t, err.Error(), "app-password-123")
	require.False(t, bytes.Contains([]byte(err.Error()), []byte("secret")))
}

// TestBindLongOutage: after the server was down for six seconds (long
// enough for gRPC's default reconnect backoff to have grown past 5 s), a
// value written right after it restarts lands within two seconds of the
// write.
func TestBindLongOutage(t *testing.T) {
	s, cli := started(t, "long/v", "before")
	b, rec := bindtest.BindKey[textKey](t, "etcd", srcConfig(s), "long/v")
	s.Stop()
	rec.Until(t, "Error", bindtest.IsError)
	time.Sleep(6 * time.Second)
	s.Restart()
	put(t, cli, "long/v", "after") // the test's client reconnects at its own pace
	start := time.Now()
	rec.Until(t, "after", bindtest.HasNew("after"))
	t.Logf("the value written after the restart arrived %s after the write", time.Since(start))
	require.Less(t, time.Since(start), 2*time.Second)
	require.Equal(t, "after", b.Get().V)
}

// TestBindSharesOneStream: ten fields on ten keys use one gRPC watch
// stream with ten watchers on the server (etcd's /metrics), and no
// request while idle.
func TestBindSharesOneStream(t *testing.T) {
	s, cli := started(t)
	for i := range 10 {
		put(t, cli, "idle/k"+strconv.Itoa(i), "v")
	}
	base := metrics(t, s)
	bindtest.Bind[idleConfig](t, "etcd", srcConfig(s))
	require.Eventually(t, func() bool {
		return metrics(t, s)["etcd_debugging_mvcc_watcher_total"]-base["etcd_debugging_mvcc_watcher_total"] == 10
	}, bindtest.WaitFor, 20*time.Millisecond, "ten watchers")
	m := metrics(t, s)
	require.Equal(t, 1.0, m["etcd_debugging_mvcc_watch_stream_total"]-base["etcd_debugging_mvcc_watch_stream_total"], "one watch stream")
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, m[unary], metrics(t, s)[unary], "no request while idle")
}

// TestCloseDuringOutage: with the server down and the watch retrying,
// Close returns at once (well under the 5 s read timeout).
func TestCloseDuringOutage(t *testing.T) {
	s, _ := started(t, "close/v", "v")
	b, rec := bindtest.BindKey[textKey](t, "etcd", srcConfig(s), "close/v")
	bindtest.ClosePrompt(t, rec, s.Stop, b.Close)
}

// TestConfigHidesPassword: a Config printed in any way, or logged, does
// not show its password.
func TestConfigHidesPassword(t *testing.T) {
	t.Parallel()
	c := etcd.Config{Endpoints: []string{"https://etcd:2379"}, Username: "app", Password: "hunter2-pw"}
	var log fixture.Buffer
	slog.New(slog.NewTextHandler(&log, nil)).Info("config", "cfg", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c), log.String()} {
		require.NotContains(t, s, "hunter2-pw")
		require.Contains(t, s, "app")
	}
	require.NotContains(t, fixture.Printed(c), "hunter2-pw", "inside a struct, in a slog group, as JSON")
}

// TestBindLeaderLoss: a three-member cluster loses its leader when two
// members stop. The watch (which requires a leader) and the reads on the
// remaining member fail: an ErrUnavailable Error update, the value is
// kept. Once the members are back, a value written then lands.
func TestBindLeaderLoss(t *testing.T) {
	members := etcdtest.StartCluster(t, 3)
	eps := make([]string, len(members))
	for i, m := range members {
		eps[i] = m.Endpoint()
	}
	cli := newClient(t, members[0], "", "")
	put(t, cli, "leader/v", "before")
	type config struct {
		V string `live:"etcd=leader/v; format=text; timeout=1s"`
	}
	// The Binding talks to the first member only, which stays up.
	b, rec := bindtest.Bind[config](t, "etcd", etcd.Config{Endpoints: eps[:1], MaxBackoff: 200 * time.Millisecond})
	require.Equal(t, "before", b.Get().V)
	members[1].Stop()
	members[2].Stop()
	u := rec.Until(t, "Error", bindtest.IsError)
	require.ErrorIs(t, u.Err, sources.ErrUnreachable)
	t.Logf("leader loss reported as: %v", u.Err)
	require.Equal(t, "before", b.Get().V)
	members[1].Restart()
	members[2].Restart()
	put(t, cli, "leader/v", "after")
	rec.Until(t, "after", bindtest.HasNew("after"))
}
