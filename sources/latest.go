package sources

import "sync"

// Latest holds the last [Result] of each key of a push source whose server
// keeps no value (a pub/sub channel, a core NATS subject), so that a Read
// can answer with the last message received. The zero value is ready to
// use; it is safe for concurrent use.
type Latest[K comparable] struct {
	mu sync.Mutex
	m  map[K]Result
}

// Get returns the last Result stored for k, or Missing when none was.
func (l *Latest[K]) Get(k K) Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.m[k]; ok {
		return r
	}
	return Result{Missing: true}
}

// Set stores r as k's last Result.
func (l *Latest[K]) Set(k K, r Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[K]Result{}
	}
	l.m[k] = r
}
