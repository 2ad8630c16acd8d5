package livebind

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEnv is a thread-safe environment for WithLookupEnv.
type testEnv struct {
	mu sync.Mutex
	m  map[string]string
}

func newEnv(kv ...string) *testEnv {
	e := &testEnv{m: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		e.m[kv[i]] = kv[i+1]
	}
	return e
}

func (e *testEnv) lookup(k string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.m[k]
	return v, ok
}

func (e *testEnv) set(k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[k] = v
}

func (e *testEnv) unset(k string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, k)
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// recorder collects updates from OnChange.
type recorder struct {
	ch chan Update
}

func record[T any](t testing.TB, b *Binding[T]) *recorder {
	t.Helper()
	r := &recorder{ch: make(chan Update, 1024)}
	unsub := b.OnChange(func(u Update) { r.ch <- u })
	t.Cleanup(unsub)
	return r
}

// next waits for the next update, failing after timeout.
func (r *recorder) next(t testing.TB, timeout time.Duration) Update {
	t.Helper()
	select {
	case u := <-r.ch:
		return u
	case <-time.After(timeout):
		t.Fatalf("no update within %v", timeout)
		return Update{}
	}
}

// until waits for an update satisfying pred and returns it together with
// every update seen before it.
func (r *recorder) until(t testing.TB, timeout time.Duration, pred func(Update) bool) (Update, []Update) {
	t.Helper()
	deadline := time.After(timeout)
	var seen []Update
	for {
		select {
		case u := <-r.ch:
			if pred(u) {
				return u, seen
			}
			seen = append(seen, u)
		case <-deadline:
			t.Fatalf("no matching update within %v; saw %v", timeout, seen)
			return Update{}, nil
		}
	}
}

// quiet asserts that no update arrives for d.
func (r *recorder) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case u := <-r.ch:
		t.Fatalf("unexpected update %v", u)
	case <-time.After(d):
	}
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithCancel(t.Context())
}
