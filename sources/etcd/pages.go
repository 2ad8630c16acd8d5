package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	// PageSize is the number of keys one request of a prefix read returns
	// at most. A larger prefix is read in pages, all at the revision of
	// the first page, so that no response is larger than PageSize keys and
	// the document is one consistent state of the prefix.
	PageSize = 500
	// maxPrefixAttempts bounds the paged reads of a prefix that restart
	// because their revision was compacted between two pages.
	maxPrefixAttempts = 3
)

// pageHooks let a test change the page size and act between two pages.
type pageHooks struct {
	size int64
	// between, when set, runs after each page that has a next one:
	// attempt counts the reads restarted after a compaction, from 1.
	between func(attempt, page int, rev int64)
}

var testPages atomic.Pointer[pageHooks]

// getPrefix reads every key under k's prefix in pages of [PageSize] keys
// at one revision (the first page's, passed as WithRev to the next ones).
// A page refused because that revision was compacted meanwhile starts the
// read over, at most maxPrefixAttempts times. A sum of values over
// maxbytes= stops the read at once: the state returned then holds no
// values (its result is the ErrTooLarge error). Each page is read with
// boundedGet, so a page whose values would take the sum over maxbytes= is
// refused by gRPC before it is received.
func getPrefix(ctx context.Context, kv ranger, k watchKey) (*state, error) {
	var err error
	for attempt := 1; attempt <= maxPrefixAttempts; attempt++ {
		var s *state
		s, err = readPages(ctx, kv, k, attempt)
		if !errors.Is(err, rpctypes.ErrCompacted) {
			return s, err
		}
	}
	return nil, fmt.Errorf("the revision was compacted during each of %d paged reads: %w", maxPrefixAttempts, err)
}

// readPages is one paged read of k's prefix; see getPrefix.
func readPages(ctx context.Context, kv ranger, k watchKey, attempt int) (*state, error) {
	size, between := int64(PageSize), func(int, int, int64) {}
	if h := testPages.Load(); h != nil {
		size = h.size
		if h.between != nil {
			between = h.between
		}
	}
	from, end := prefixRange(k.key)
	s := newState(k)
	var rev int64
	for page := 1; ; page++ {
		resp, at, err := boundedGet(ctx, kv, from, k.maxBytes-s.size, pageSlack, rev,
			clientv3.WithRange(end), clientv3.WithLimit(size))
		if rev == 0 {
			rev = at
			s.rev = rev
		}
		refused, err := s.add(resp, err)
		switch {
		case err != nil:
			return nil, err
		case refused, s.limit(true), !resp.More, len(resp.Kvs) == 0:
			return s, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00" // the next key after the last one
		between(attempt, page, rev)
	}
}

// prefixRange is the range [from, end) of the keys under prefix, as
// clientv3.WithPrefix makes it: the whole keyspace for an empty prefix.
func prefixRange(prefix string) (from, end string) {
	if prefix == "" {
		return "\x00", "\x00"
	}
	return prefix, clientv3.GetPrefixRangeEnd(prefix)
}
