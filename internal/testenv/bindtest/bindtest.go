// Package bindtest binds configurations in the tests of source modules
// and records what their bindings report. It is test support, not part of
// livebind's API.
package bindtest

import (
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
)

// Bind binds a T with opts, closes the binding at the end of the test, and
// records its updates from generation 1 on (nothing Bind itself missed);
// waits on the log are bounded by timeout.
func Bind[T any](tb testing.TB, timeout time.Duration, opts ...livebind.Option) (*livebind.Binding[T], *fixture.Log[livebind.Update]) {
	tb.Helper()
	var dst T
	b, err := livebind.Bind(tb.Context(), &dst, opts...)
	if err != nil {
		tb.Fatalf("Bind: %v", err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	rec := fixture.NewLog[livebind.Update](timeout)
	if _, err := b.Subscribe(rec.Add, livebind.From(1)); err != nil {
		tb.Fatalf("Subscribe: %v", err)
	}
	return b, rec
}

// Values binds a T with opts, closes the binding at the end of the test,
// and returns a channel of the string values its updates carry (up to
// 1,024 waiting; more are dropped). slow, when set, runs first for each
// update: a subscriber that takes its time.
func Values[T any](tb testing.TB, slow func(), opts ...livebind.Option) (*livebind.Binding[T], <-chan string) {
	tb.Helper()
	var dst T
	b, err := livebind.Bind(tb.Context(), &dst, opts...)
	if err != nil {
		tb.Fatalf("Bind: %v", err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	got := make(chan string, 1024)
	if _, err := b.Subscribe(func(u livebind.Update) {
		if slow != nil {
			slow()
		}
		if v, ok := u.New.(string); ok {
			select {
			case got <- v:
			default:
			}
		}
	}); err != nil {
		tb.Fatalf("Subscribe: %v", err)
	}
	return b, got
}
