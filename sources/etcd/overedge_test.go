package etcd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// txn commits ops in one transaction: one revision, one batch of events.
func txn(t *testing.T, cli *clientv3.Client, ops ...clientv3.Op) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := cli.Txn(ctx).Then(ops...).Commit()
	require.NoError(t, err)
	return resp.Header.Revision
}

// TestPrefixOverAndBackInOneBatch: one transaction takes a prefix over
// maxbytes= and back under (a put of 100 bytes and a delete of 100 bytes,
// one batch of events): the watch must report the document it leaves,
// from the events. Then, over for good, a compaction of the revision the
// watch follows from, then deletes back under: the document once more.
func TestPrefixOverAndBackInOneBatch(t *testing.T) {
	v := strings.Repeat("x", 100)
	s, cli := started(t, "ob/a", v, "ob/b", "1")
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	tg := prefixTarget("ob/", bindtest.MaxBytes(150))
	log := fixture.WatchCursor(t, d, tg, sources.Result{}, bindtest.WaitFor)
	isDoc := func(want []byte) func(sources.Result) bool {
		return func(r sources.Result) bool { return r.Err == nil && string(r.Data) == string(want) }
	}
	first, _ := oneGet(t, cli, "ob/")
	log.Expect(t, "the first document", isDoc(first))

	txn(t, cli, clientv3.OpPut("ob/c", v), clientv3.OpDelete("ob/a"))
	want, _ := oneGet(t, cli, "ob/")
	log.Expect(t, "the document after the batch", isDoc(want))

	rev := put(t, cli, "ob/d", v) // 201 bytes: over
	log.Expect(t, "ErrTooLarge", func(r sources.Result) bool { return r.Err != nil && strings.Contains(r.Err.Error(), "maxbytes") })
	put(t, cli, "ob/e", "2") // a change while over: read again
	_, err := cli.Compact(t.Context(), put(t, cli, "ob/f", "3"))
	require.NoError(t, err)
	require.Greater(t, rev, int64(0))
	txn(t, cli, clientv3.OpDelete("ob/c"), clientv3.OpPut("ob/g", "4"))
	want, _ = oneGet(t, cli, "ob/")
	log.Expect(t, "the document back under maxbytes=", isDoc(want))
	for _, r := range log.All() {
		if r.Err != nil {
			require.ErrorIs(t, r.Err, sources.ErrTooLarge)
		}
	}
}

// TestKeyOverThenDeleted: a key over maxbytes= (from the read, then from
// an event), then deleted, must be Missing; its next put is its value,
// and each later put lands once, in order.
func TestKeyOverThenDeleted(t *testing.T) {
	big := strings.Repeat("x", 300)
	s, cli := started(t, "kd/v", big)
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	tg := target("kd/v", bindtest.MaxBytes(100))
	log := fixture.WatchCursor(t, d, tg, sources.Result{}, bindtest.WaitFor)
	log.Expect(t, "ErrTooLarge from the read", func(r sources.Result) bool { return r.Err != nil })
	del(t, cli, "kd/v")
	log.Expect(t, "Missing", fixture.IsMissing)
	put(t, cli, "kd/v", big)
	log.Expect(t, "ErrTooLarge from the event", func(r sources.Result) bool { return r.Err != nil })
	del(t, cli, "kd/v")
	log.Expect(t, "Missing again", fixture.IsMissing)
	put(t, cli, "kd/v", "one")
	log.Expect(t, "one", fixture.IsData("one"))
	put(t, cli, "kd/v", big)
	put(t, cli, "kd/v", "two")
	log.Expect(t, "two", fixture.IsData("two"))
	for _, r := range log.All() {
		if r.Err != nil {
			require.ErrorIs(t, r.Err, sources.ErrTooLarge)
		}
	}
}
