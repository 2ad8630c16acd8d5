package etcd_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/etcd"
)

// prefixTarget is a prefix target of loc with the options of params.
func prefixTarget(loc string, params map[string]string) *sources.Target {
	p := map[string]string{"prefix": "true"}
	for k, v := range params {
		p[k] = v
	}
	return target(loc, p)
}

// oneGet is what one Get of the prefix returns, as the driver's document,
// and the revision it was read at.
func oneGet(t *testing.T, cli *clientv3.Client, prefix string) ([]byte, string) {
	t.Helper()
	resp, err := cli.Get(t.Context(), prefix, clientv3.WithPrefix())
	require.NoError(t, err)
	entries := make([]sources.KV, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		entries = append(entries, sources.KV{Key: string(kv.Key), Value: kv.Value})
	}
	doc, ok := sources.PrefixJSON(prefix, entries)
	require.True(t, ok)
	return doc, strconv.FormatInt(resp.Header.Revision, 10)
}

// countPages sets the page size and counts the pages after which the
// read went on; run, when set, runs there too.
func countPages(t *testing.T, size int64, run func(attempt, page int, rev int64)) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	restore := etcd.SetPages(size, func(attempt, page int, rev int64) {
		n.Add(1)
		if run != nil {
			run(attempt, page, rev)
		}
	})
	t.Cleanup(restore)
	return &n
}

// TestPrefixPages: a prefix of 2,500 keys (and the whole keyspace) is
// read in pages, with the real page size and a small one, and the
// document and its version are those of one Get of the prefix.
func TestPrefixPages(t *testing.T) {
	s, cli := started(t)
	fill(t, cli, "paged/", 2500)
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	for _, tc := range []struct {
		size   int64
		prefix string
		more   int64 // pages followed by another
	}{
		{etcd.PageSize, "paged/", 4},
		{100, "paged/", 24},
		{etcd.PageSize, "", 4},
		{2500, "paged/", 0},
	} {
		t.Run(strconv.FormatInt(tc.size, 10)+"/"+tc.prefix, func(t *testing.T) {
			pages := countPages(t, tc.size, nil)
			res := d.Read(t.Context(), prefixTarget(tc.prefix, nil))
			require.NoError(t, res.Err)
			doc, rev := oneGet(t, cli, tc.prefix)
			require.JSONEq(t, string(doc), string(res.Data))
			require.Equal(t, rev, res.Version)
			require.Equal(t, tc.more, pages.Load())
		})
	}
}

// watchResults watches tg with d from nothing seen, so that the first
// result (the watch's own read) is emitted too, and returns the results.
func watchResults(t *testing.T, d sources.Driver, tg *sources.Target) <-chan sources.Result {
	t.Helper()
	results := make(chan sources.Result, 16)
	stop, err := d.Watch(tg, sources.Result{}, func(r sources.Result) { results <- r })
	require.NoError(t, err)
	t.Cleanup(stop)
	return results
}

// nextDoc is the next result of results, decoded; it must be a document.
func nextDoc(t *testing.T, results <-chan sources.Result) (map[string]any, int64) {
	t.Helper()
	r, ok := fixture.Receive(results, bindtest.WaitFor)
	require.True(t, ok, "no result")
	require.NoError(t, r.Err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(r.Data, &doc))
	rev, err := strconv.ParseInt(r.Version, 10, 64)
	require.NoError(t, err)
	return doc, rev
}

// TestPrefixWriteBetweenPages: writes made between two pages of a
// watch's read (a change to a key of a later page, to a key of an earlier
// page, a new key) are not in the document it reports, which is the prefix
// at the first page's revision; they then arrive through the watch, which
// starts from that revision + 1.
func TestPrefixWriteBetweenPages(t *testing.T) {
	s, cli := started(t, "wb/a", "old", "wb/zz", "old")
	fill(t, cli, "wb/", 30)
	var once sync.Once
	var firstRev int64
	writeErr := make(chan error, 1)
	pages := countPages(t, 10, func(_, _ int, rev int64) {
		once.Do(func() {
			firstRev = rev
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			_, err := cli.Txn(ctx).Then(
				clientv3.OpPut("wb/a", "new"), clientv3.OpPut("wb/zz", "new"), clientv3.OpPut("wb/zzz", "added"),
			).Commit()
			writeErr <- err
		})
	})
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	results := watchResults(t, d, prefixTarget("wb/", nil))
	got, rev := nextDoc(t, results)
	require.NoError(t, <-writeErr, "the hook's write")
	require.Equal(t, int64(3), pages.Load(), "32 keys in pages of 10")
	require.Equal(t, firstRev, rev, "the document is at the first page's revision")
	require.Len(t, got, 32, "the 30 keys, a and zz as of the first page")
	require.Equal(t, "old", got["a"])
	require.Equal(t, "old", got["zz"])
	require.NotContains(t, got, "zzz")
	// The next result is the watch's event (one transaction, one revision).
	got, rev = nextDoc(t, results)
	require.Equal(t, firstRev+1, rev)
	require.Len(t, got, 33)
	require.Equal(t, "new", got["a"])
	require.Equal(t, "new", got["zz"])
	require.Equal(t, "added", got["zzz"])
	require.Equal(t, int64(3), pages.Load(), "no second read: the writes came through the watch")
}

// TestPrefixMaxBytesStopsEarly: a prefix whose sum goes over maxbytes= in
// its second page is not read further: a typed error wrapping
// ErrTooLarge. Watched, it is that error; once keys are deleted and the
// rest fits, the watch reads it again and reports the whole document.
func TestPrefixMaxBytesStopsEarly(t *testing.T) {
	s, cli := started(t)
	fill(t, cli, "tl/", 2500)
	pages := countPages(t, 100, nil)
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	tg := prefixTarget("tl/", bindtest.MaxBytes(1500)) // ~1,000 bytes a page
	res := d.Read(t.Context(), tg)
	require.ErrorIs(t, res.Err, sources.ErrTooLarge)
	var e *etcd.Error
	require.ErrorAs(t, res.Err, &e)
	require.Equal(t, "tl/", e.Key)
	require.True(t, e.Prefix)
	require.ErrorContains(t, res.Err, "maxbytes=1500")
	require.Equal(t, int64(1), pages.Load(), "the read stops in the second page")

	results := watchResults(t, d, tg)
	r, ok := fixture.Receive(results, bindtest.WaitFor)
	require.True(t, ok, "no first result")
	require.ErrorIs(t, r.Err, sources.ErrTooLarge)
	// Keys sort as text: the two pages read were k0, k1, k10, k100,
	// k1000 ... Left are k0 and k9, k90..k99, k900..k999 (987 bytes), most
	// of which the stopped read never saw.
	del(t, cli, "tl/k1", clientv3.WithRange("tl/k9"))
	want, _ := oneGet(t, cli, "tl/")
	require.Eventually(t, func() bool {
		select {
		case r := <-results:
			return r.Err == nil && string(r.Data) == string(want)
		default:
			return false
		}
	}, bindtest.WaitFor, 5*time.Millisecond, "the prefix under maxbytes= again")
}

// TestPrefixCompactedBetweenPages: a revision compacted between two pages
// restarts the read from a fresh first page, which holds the write made
// before the compaction; compacted during every attempt, the read fails
// with a typed ErrUnavailable error after a bounded number of attempts.
func TestPrefixCompactedBetweenPages(t *testing.T) {
	s, cli := started(t)
	fill(t, cli, "cp/", 50)
	compact := func(rev int64) error {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		resp, err := cli.Put(ctx, "cp/k0", "rewritten at "+strconv.FormatInt(rev, 10))
		if err != nil {
			return err
		}
		_, err = cli.Compact(ctx, resp.Header.Revision)
		return err
	}
	var attempts []int
	var hookErr error
	countPages(t, 10, func(attempt, page int, rev int64) {
		if page == 2 && attempt == 1 {
			attempts = append(attempts, attempt)
			hookErr = errors.Join(hookErr, compact(rev))
		}
	})
	d := fixture.OpenDriver(t, "etcd", srcConfig(s))
	res := d.Read(t.Context(), prefixTarget("cp/", nil))
	require.NoError(t, hookErr)
	require.NoError(t, res.Err)
	require.Equal(t, []int{1}, attempts)
	want, rev := oneGet(t, cli, "cp/")
	require.JSONEq(t, string(want), string(res.Data), "the restarted read holds the write")
	require.Equal(t, rev, res.Version)

	// Compacted between two pages of every attempt.
	var tries atomic.Int64
	countPages(t, 10, func(attempt, page int, rev int64) {
		if page == 1 {
			tries.Store(int64(attempt))
			hookErr = errors.Join(hookErr, compact(rev))
		}
	})
	res = d.Read(t.Context(), prefixTarget("cp/", nil))
	require.NoError(t, hookErr)
	require.ErrorIs(t, res.Err, sources.ErrUnreachable)
	var e *etcd.Error
	require.ErrorAs(t, res.Err, &e)
	require.ErrorContains(t, res.Err, "compacted")
	require.Equal(t, int64(3), tries.Load(), "three attempts, then the error")
}
