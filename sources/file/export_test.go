package file

// SetFallback makes drivers opened from now on use the fsnotify backend
// (on) or the close-aware one where it exists (off), for the benchmarks in
// package file_test.
func SetFallback(on bool) { forceFallback.Store(on) }
