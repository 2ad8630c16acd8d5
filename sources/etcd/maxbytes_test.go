package etcd_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/namespace"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/etcd"
)

// retainedOf records what the watch of key holds each time its state
// changes, until the test ends.
func retainedOf(t *testing.T, key string) *fixture.Log[etcd.Retained] {
	t.Helper()
	log := fixture.NewLog[etcd.Retained](bindtest.WaitFor)
	t.Cleanup(etcd.OnRetained(func(r etcd.Retained) {
		if r.Key == key {
			log.Add(r)
		}
	}))
	return log
}

// atMost fails the test if the watch ever held more than limit bytes.
func atMost(t *testing.T, kept *fixture.Log[etcd.Retained], limit int) {
	t.Helper()
	var most etcd.Retained
	for _, r := range kept.All() {
		if r.Bytes > most.Bytes {
			most = r
		}
	}
	require.LessOrEqual(t, most.Bytes, limit, "the watch held %d values, %d bytes, at revision %d", most.Values, most.Bytes, most.Rev)
}

// tooLarge checks an Error update for a value over maxbytes=: it names the
// field and the source, and wraps sources.ErrTooLarge in an *etcd.Error
// for key.
func tooLarge(t *testing.T, u livebind.Update, field, key string, prefix bool) {
	t.Helper()
	require.Equal(t, field, u.Field)
	require.Equal(t, "etcd:"+key, u.Source)
	require.ErrorIs(t, u.Err, sources.ErrTooLarge)
	var e *etcd.Error
	require.ErrorAs(t, u.Err, &e)
	require.Equal(t, key, e.Key)
	require.Equal(t, prefix, e.Prefix)
	require.ErrorContains(t, u.Err, field)
}

// TestPrefixGrowsPastMaxBytes: a prefix read whole within maxbytes=, then
// grown past it by puts that arrive as watch events. The bad input (a sum
// of values over maxbytes=) must produce an Error update wrapping
// ErrTooLarge that names the field and the source, the field must keep its
// last good map, and the watch must drop the values rather than keep
// following them: at no time does it hold more than maxbytes=, however far
// the prefix grows (before the fix it held every value, 2.3 KB here).
// Deletes that bring the prefix back under the limit are a change: the
// prefix is read again and the map it holds now is published.
func TestPrefixGrowsPastMaxBytes(t *testing.T) {
	const limit = 400
	v := strings.Repeat("x", 100)
	s, cli := started(t, "grow/a", v, "grow/b", "1")
	kept := retainedOf(t, "grow/")
	type config struct {
		V map[string]string `live:"etcd=grow/; prefix; maxbytes=400"`
	}
	b, rec := bindtest.Bind[config](t, "etcd", srcConfig(s))
	require.Len(t, b.Get().V, 2)

	// 101 bytes, then 201 and 301 (each published), then 401.
	from := 0
	for _, k := range []string{"k00", "k01"} {
		put(t, cli, "grow/"+k, v)
		from, _, _ = rec.Wait(t, from, k+" added", func(livebind.Update) bool { return b.Get().V[k] == v })
	}
	good := b.Get().V
	require.Len(t, good, 4)
	put(t, cli, "grow/k02", v)
	_, u, _ := rec.Wait(t, from, "the ErrTooLarge Error", bindtest.IsError)
	tooLarge(t, u, "V", "grow/", true)
	require.ErrorContains(t, u.Err, "401 bytes, more than maxbytes=400")
	require.Equal(t, good, b.Get().V, "the last good map is kept")

	// Twenty more puts of 100 bytes: each is a change under a prefix
	// over its limit, read again only up to the limit and dropped.
	var last int64
	for i := 3; i < 23; i++ {
		last = put(t, cli, fmt.Sprintf("grow/k%02d", i), v)
	}
	kept.Wait(t, 0, "the watch at the last put's revision", func(r etcd.Retained) bool { return r.Rev >= last })
	atMost(t, kept, limit)
	final := kept.All()[kept.Len()-1]
	require.Zero(t, final.Values, "over the limit the watch holds no value")
	require.Equal(t, good, b.Get().V, "the last good map is kept")

	// Deleted back under the limit (a, b and k00 are left: 201 bytes, a
	// map other than the last good one), the prefix is read again and
	// published.
	from = rec.Len()
	del(t, cli, "grow/k01", clientv3.WithRange("grow/k99"))
	want := map[string]string{"a": v, "b": "1", "k00": v}
	rec.Wait(t, from, "the prefix under maxbytes= again", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && len(b.Get().V) == len(want)
	})
	require.Equal(t, want, b.Get().V)
	atMost(t, kept, limit)
	final = kept.All()[kept.Len()-1]
	require.Equal(t, etcd.Retained{Key: "grow/", Rev: final.Rev, Values: 3, Bytes: 201}, final)
}

// TestKeyOverMaxBytes: a put of a value over maxbytes= to a watched key
// must produce an Error update wrapping ErrTooLarge that names the field
// and the source; the field keeps its value and the watch does not keep
// the large value. The next put, within the limit, is published from its
// event, with no new read.
func TestKeyOverMaxBytes(t *testing.T) {
	s, cli := started(t, "big/v", "small")
	kept := retainedOf(t, "big/v")
	type config struct {
		V string `live:"etcd=big/v; format=text; maxbytes=1024"`
	}
	b, rec := bindtest.Bind[config](t, "etcd", srcConfig(s))
	rev := put(t, cli, "big/v", strings.Repeat("x", 4096))
	u := rec.Until(t, "the ErrTooLarge Error", bindtest.IsError)
	tooLarge(t, u, "V", "big/v", false)
	// From the event ("4096 bytes, more than maxbytes=1024"), or from the
	// watch's first read if the put came first, refused unread.
	require.ErrorContains(t, u.Err, "more than maxbytes=1024")
	require.Equal(t, "small", b.Get().V, "the last good value is kept")
	_, r, _ := kept.Wait(t, 0, "the watch at the put's revision", func(r etcd.Retained) bool { return r.Rev >= rev })
	require.Equal(t, etcd.Retained{Key: "big/v", Rev: rev}, r, "the large value is not kept")

	before := metrics(t, s)[unary]
	put(t, cli, "big/v", "fits")
	rec.Until(t, "fits", bindtest.HasNew("fits"))
	require.Equal(t, 1.0, metrics(t, s)[unary]-before, "one request, the put: the watch read nothing again")
	atMost(t, kept, 1024)
}

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

// readAlloc reads tg with d and returns the result and the bytes the whole
// process allocated meanwhile (as the conformance kit's oversize check).
func readAlloc(t *testing.T, d sources.Driver, tg *sources.Target) (sources.Result, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := d.Read(t.Context(), tg)
	runtime.ReadMemStats(&after)
	return res, after.TotalAlloc - before.TotalAlloc
}

// TestPrefixValueRefusedUnread: a prefix holding a 1 MiB value under
// maxbytes=64KiB is the ErrTooLarge error without the value being
// received: gRPC refuses the page at its length header, and the read
// allocates less than the conformance kit's bound for a value (3·maxbytes
// + 1 MiB). Before the fix the page was received whole: 2.5 to 3.6 MB.
func TestPrefixValueRefusedUnread(t *testing.T) {
	const limit = 64 << 10
	s, cli := started(t, "pr/a", "small")
	put(t, cli, "pr/big", strings.Repeat("x", 1<<20))
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	tg := prefixTarget("pr/", bindtest.MaxBytes(limit))
	d.Read(t.Context(), target("pr/a", nil)) // the connection is up
	res, alloc := readAlloc(t, d, tg)
	t.Logf("the read allocated %d bytes", alloc)
	require.ErrorIs(t, res.Err, sources.ErrTooLarge)
	require.ErrorContains(t, res.Err, "refused unread")
	require.Nil(t, res.Data)
	require.Less(t, alloc, uint64(3*limit+1<<20))
}

// TestPrefixLongKeysNotRefused: a page whose keys are longer than the
// first request allows (200 keys of 400 bytes, 1-byte values, under
// maxbytes=1000) is read again keys-only and then whole: the document is
// that of one Get, not an ErrTooLarge error.
func TestPrefixLongKeysNotRefused(t *testing.T) {
	s, cli := started(t)
	pad := strings.Repeat("k", 400)
	var ops []clientv3.Op
	for i := range 200 {
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("lk/%03d%s", i, pad), "1"))
		if len(ops) == 100 {
			txn(t, cli, ops...)
			ops = nil
		}
	}
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	res := d.Read(t.Context(), prefixTarget("lk/", bindtest.MaxBytes(1000)))
	require.NoError(t, res.Err)
	want, _ := oneGet(t, cli, "lk/")
	require.Equal(t, string(want), string(res.Data))
}

// TestWatchEventRefusedUnread: a put of 1 MiB to a watched key under
// maxbytes=64KiB is refused by gRPC at the watch response's length header
// (over the stream's limit, 2·maxbytes + 64 KiB), not received: the
// watch reads again and reports the ErrTooLarge of a read refused unread
// (before the fix: "1048576 bytes, more than maxbytes=65536", from the
// event received whole). The other key watched on the same stream reads
// again too, and reports no error: its next put arrives.
func TestWatchEventRefusedUnread(t *testing.T) {
	s, cli := started(t, "we/big", "small", "we/other", "one")
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	big := fixture.WatchCursor(t, d, target("we/big", bindtest.MaxBytes(64<<10)), sources.Result{}, bindtest.WaitFor)
	other := fixture.WatchCursor(t, d, target("we/other", bindtest.MaxBytes(64<<10)), sources.Result{}, bindtest.WaitFor)
	big.Expect(t, "small", fixture.IsData("small"))
	other.Expect(t, "one", fixture.IsData("one"))
	put(t, cli, "we/big", strings.Repeat("x", 1<<20))
	r := big.Expect(t, "ErrTooLarge", func(r sources.Result) bool { return r.Err != nil })
	require.ErrorIs(t, r.Err, sources.ErrTooLarge)
	require.ErrorContains(t, r.Err, "refused unread")
	put(t, cli, "we/other", "two")
	other.Expect(t, "two", fixture.IsData("two"))
	for _, r := range other.All() {
		require.NoError(t, r.Err)
	}
	put(t, cli, "we/big", "fits")
	big.Expect(t, "fits", fixture.IsData("fits"))
}

// TestGivenClientLimits: a client handed to the driver is read with the
// driver's receive limits when its KV and Watcher are its own (a value
// over maxbytes= is refused unread), and used as it is when they are
// wrapped, here by the namespace package, whose prefix must still apply.
func TestGivenClientLimits(t *testing.T) {
	s, _ := started(t, "gc/big", strings.Repeat("x", 1<<20), "ns/gc/v", "namespaced")
	plain := newClient(t, s, "", "")
	d := fixture.OpenDriver(t, "etcd", etcd.Config{Client: plain})
	res := d.Read(t.Context(), target("gc/big", bindtest.MaxBytes(64<<10)))
	require.ErrorIs(t, res.Err, sources.ErrTooLarge)
	require.ErrorContains(t, res.Err, "refused unread")

	wrapped := newClient(t, s, "", "")
	wrapped.KV = namespace.NewKV(wrapped.KV, "ns/")
	wrapped.Watcher = namespace.NewWatcher(wrapped.Watcher, "ns/")
	d = fixture.OpenDriver(t, "etcd", etcd.Config{Client: wrapped})
	res = d.Read(t.Context(), target("gc/v", nil))
	require.NoError(t, res.Err)
	require.Equal(t, "namespaced", string(res.Data))
	log := fixture.WatchCursor(t, d, target("gc/v", nil), sources.Result{}, bindtest.WaitFor)
	log.Expect(t, "namespaced", fixture.IsData("namespaced"))
}

// TestRefusedAfterLargeReads: after reads of large values within
// maxbytes= (1400 KiB each, which grow gRPC's flow-control windows when
// they follow its bandwidth estimate), reads of a 1400 KiB value under
// maxbytes=64KiB, refused unread, still allocate little: gRPC takes in at
// most what the stream's fixed window (128 KiB) lets etcd send ahead of
// each of the two refused requests of such a read. Measured over 8 runs
// of 12 reads: 198 to 271 KB on average, at most 456 KB. Before the
// windows were fixed, the windows having grown: 521 to 979 KB on average
// (the test failed 8 runs of 8), at most 1.44 to 2.40 MB, over the
// conformance kit's bound of 3·64 KiB + 1 MiB = 1,245,184 bytes.
func TestRefusedAfterLargeReads(t *testing.T) {
	const limit, reads = 64 << 10, 12
	s, cli := started(t)
	put(t, cli, "la/big", strings.Repeat("x", 1400<<10))
	put(t, cli, "la/legit", strings.Repeat("y", 1400<<10))
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	legit := target("la/legit", bindtest.MaxBytes(1500<<10))
	for range 20 {
		require.NoError(t, d.Read(t.Context(), legit).Err)
	}
	var most, sum uint64
	for range reads {
		res, alloc := readAlloc(t, d, target("la/big", bindtest.MaxBytes(limit)))
		require.ErrorContains(t, res.Err, "refused unread")
		most = max(most, alloc)
		sum += alloc
		require.NoError(t, d.Read(t.Context(), legit).Err)
	}
	t.Logf("the refused reads allocated %d bytes on average, at most %d", sum/reads, most)
	require.Less(t, sum/reads, uint64(448<<10), "on average")
	require.Less(t, most, uint64(3*limit+1<<20), "at most")
}

// TestMaxBytesEdge: the bound is exact for what a field receives. Under
// maxbytes=1024, a value of exactly 1024 bytes loads; one of 1025 bytes
// (received whole: its gRPC answer is within the slack of its receive
// limit), one about 320 bytes over (the edge of that slack) and a much
// bigger one (refused unread) are each the *etcd.Error wrapping
// ErrTooLarge naming the key, from a Read and from a watch event alike.
// Only the memory bound has slack (docs/etcd.md, Receive limits), not the
// answer.
func TestMaxBytesEdge(t *testing.T) {
	const limit = 1024
	s, cli := started(t, "edge/v", "small")
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	tg := target("edge/v", bindtest.MaxBytes(limit))
	log := fixture.WatchCursor(t, d, tg, sources.Result{}, bindtest.WaitFor)
	log.Expect(t, "small", fixture.IsData("small"))
	tooLargeResult := func(what string, r sources.Result) {
		t.Helper()
		require.ErrorIs(t, r.Err, sources.ErrTooLarge, what)
		var e *etcd.Error
		require.ErrorAs(t, r.Err, &e, what)
		require.Equal(t, "edge/v", e.Key, what)
		require.ErrorContains(t, r.Err, "more than maxbytes=1024", what)
		require.Nil(t, r.Data, what)
	}
	for i, n := range []int{limit, limit + 1, limit + 200, limit + 320, limit + 400, 16 * limit} {
		v := strings.Repeat("x", n-1) + string(rune('a'+i)) // each value differs from the last
		put(t, cli, "edge/v", v)
		what := fmt.Sprintf("a value of %d bytes", n)
		ev := log.Expect(t, what+" from its event", func(sources.Result) bool { return true })
		r := d.Read(t.Context(), tg)
		if n <= limit {
			require.NoError(t, ev.Err, what)
			require.Equal(t, v, string(ev.Data), what)
			require.NoError(t, r.Err, what)
			require.Equal(t, v, string(r.Data), what)
		} else {
			tooLargeResult(what+" from its event", ev)
			tooLargeResult(what+" from a read", r)
		}
		put(t, cli, "edge/v", "small")
		log.Expect(t, "small", fixture.IsData("small"))
	}
}
