package etcd

// SetWatchStart replaces the revision the next watches start from, for a
// test that needs a watch to start on a compacted revision. It returns a
// function that restores the default.
func SetWatchStart(f func(rev int64) int64) (restore func()) {
	watchStart.Store(&f)
	return func() { watchStart.Store(nil) }
}
