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
