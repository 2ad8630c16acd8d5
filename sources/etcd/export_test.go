package etcd

// SetWatchStart replaces the revision the next watches start from, for a
// test that needs a watch to start on a compacted revision. It returns a
// function that restores the default.
func SetWatchStart(f func(rev int64) int64) (restore func()) {
	watchStart.Store(&f)
	return func() { watchStart.Store(nil) }
}

// SetPages sets the page size of prefix reads and a function run after
// each page that has a next one (attempt counts the reads restarted after
// a compaction, from 1), for tests of paged reads. It returns a function
// that restores the default.
func SetPages(size int64, between func(attempt, page int, rev int64)) (restore func()) {
	testPages.Store(&pageHooks{size: size, between: between})
	return func() { testPages.Store(nil) }
}

// Retained is what a watch's state holds after a read or a batch of
// events: its revision, the number of values and the sum of their lengths.
type Retained struct {
	Key           string
	Rev           int64
	Values, Bytes int
}

// OnRetained sets a function told what a watch's state holds each time it
// changes (after a read, after a batch of events), for tests of the memory
// a watch keeps. It returns a function that restores the default.
func OnRetained(f func(Retained)) (restore func()) {
	g := func(key string, rev int64, values, bytes int) {
		f(Retained{Key: key, Rev: rev, Values: values, Bytes: bytes})
	}
	testRetained.Store(&g)
	return func() { testRetained.Store(nil) }
}
