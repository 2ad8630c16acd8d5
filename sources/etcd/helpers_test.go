package etcd_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/livebind/livebind/internal/testenv/etcdtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/etcd"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newClient returns a client of s (as user:password when user is not
// empty), closed when the test ends.
func newClient(tb testing.TB, s *etcdtest.Server, user, password string) *clientv3.Client {
	tb.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{s.Endpoint()}, Username: user, Password: password,
		DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
	})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = cli.Close() })
	return cli
}

// textKey is one text field on the key named by ${KEY}.
type textKey struct {
	V string `live:"etcd=${KEY}; format=text"`
}

// started starts an etcd server, returns it with a root client of it, and
// puts each key and value pair of kv.
func started(tb testing.TB, kv ...string) (*etcdtest.Server, *clientv3.Client) {
	tb.Helper()
	s := etcdtest.Start(tb)
	cli := newClient(tb, s, "", "")
	for i := 0; i+1 < len(kv); i += 2 {
		put(tb, cli, kv[i], kv[i+1])
	}
	return s, cli
}

func put(tb testing.TB, c *clientv3.Client, key, value string) int64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	resp, err := c.Put(ctx, key, value)
	require.NoError(tb, err)
	return resp.Header.Revision
}

// fill puts n keys prefix+"k<i>" = {"n":<i>}, in transactions of at most
// 128 puts (etcd's default --max-txn-ops).
func fill(tb testing.TB, c *clientv3.Client, prefix string, n int) {
	tb.Helper()
	for start := 0; start < n; start += 128 {
		var ops []clientv3.Op
		for i := start; i < min(n, start+128); i++ {
			ops = append(ops, clientv3.OpPut(prefix+"k"+strconv.Itoa(i), `{"n":`+strconv.Itoa(i)+`}`))
		}
		ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
		_, err := c.Txn(ctx).Then(ops...).Commit()
		cancel()
		require.NoError(tb, err)
	}
}

func del(tb testing.TB, c *clientv3.Client, key string, opts ...clientv3.OpOption) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	_, err := c.Delete(ctx, key, opts...)
	require.NoError(tb, err)
}

// srcConfig is the source config of a driver that builds its own client of s.
func srcConfig(s *etcdtest.Server) etcd.Config {
	return etcd.Config{Endpoints: []string{s.Endpoint()}, MaxBackoff: 200 * time.Millisecond}
}

func target(loc string, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "etcd", Location: loc, Params: params}
}
