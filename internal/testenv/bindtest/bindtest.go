// Package bindtest holds what the tests of livebind's server-backed
// sources (etcd, postgres ...) share above the driver: binding a config
// with a source config and recording its updates, predicates on updates,
// and the server-restart check and benchmark. It imports the root package,
// so the root package's own tests cannot use it (they use fixture). It is
// test support, not part of livebind's API.
package bindtest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
)

// WaitFor bounds every wait for an update.
const WaitFor = 10 * time.Second

// Bind binds a T with cfg as the source config of scheme (and opts), closes
// it when the test ends, and records every update from generation 1 on.
func Bind[T any](tb testing.TB, scheme string, cfg any, opts ...livebind.Option) (*livebind.Binding[T], *fixture.Log[livebind.Update]) {
	tb.Helper()
	var v T
	opts = append([]livebind.Option{livebind.WithSourceConfig(scheme, cfg)}, opts...)
	b, err := livebind.Bind(tb.Context(), &v, opts...)
	if err != nil {
		tb.Fatalf("bindtest: Bind: %v", err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	rec := fixture.NewLog[livebind.Update](WaitFor)
	if _, err := b.Subscribe(rec.Add, livebind.From(1)); err != nil {
		tb.Fatalf("bindtest: Subscribe: %v", err)
	}
	return b, rec
}

// Values returns a channel that receives the New value of every Updated
// or Added update of b.
func Values[T any](tb testing.TB, b *livebind.Binding[T]) <-chan any {
	tb.Helper()
	got := make(chan any, 1024)
	if _, err := b.Subscribe(func(u livebind.Update) {
		if u.Kind == livebind.Updated || u.Kind == livebind.Added {
			got <- u.New
		}
	}); err != nil {
		tb.Fatalf("bindtest: Subscribe: %v", err)
	}
	return got
}

// IsError reports an Error update.
func IsError(u livebind.Update) bool { return u.Kind == livebind.Error }

// HasNew returns a predicate for an Updated or Added update to v.
func HasNew(v any) func(livebind.Update) bool {
	return func(u livebind.Update) bool {
		return (u.Kind == livebind.Updated || u.Kind == livebind.Added) && u.New == v
	}
}

// Outages checks a server-backed field through each of stops (a clean
// stop, a crash ...): the stop gives an Error update wrapping wantErr while
// the field keeps its value (current returns it), and after restart a
// value written with write lands.
func Outages(t *testing.T, rec *fixture.Log[livebind.Update], current func() any, stops []func(), restart func(), write func(string), wantErr error) {
	t.Helper()
	for i, stop := range stops {
		kept := current()
		from := rec.Len()
		stop()
		_, u, _ := rec.Wait(t, from, "Error", IsError)
		if !errors.Is(u.Err, wantErr) {
			t.Fatalf("outage %d: error %v, want one wrapping %v", i, u.Err, wantErr)
		}
		if got := current(); got != kept {
			t.Fatalf("outage %d: value %v, want the last good %v kept", i, got, kept)
		}
		restart()
		want := "after-" + strconv.Itoa(i)
		write(want)
		rec.Until(t, want, HasNew(want))
	}
}

// Recovery restarts the server b.N times and reports recovery-ms: the mean
// time from the server being ready again to a value written at that moment
// reaching seen.
func Recovery(b *testing.B, seen <-chan any, restart func(), write func(string)) {
	b.Helper()
	var total time.Duration
	for i := range b.N {
		restart()
		want := "after-" + strconv.Itoa(i)
		start := time.Now()
		write(want)
		timeout := time.After(time.Minute)
	wait:
		for {
			select {
			case v := <-seen:
				if v == want {
					break wait
				}
			case <-timeout:
				b.Fatalf("bindtest: %q never arrived after restart %d", want, i)
			}
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "recovery-ms")
}
