// Package bindtest holds what the tests of livebind's server-backed
// sources (etcd, postgres ...) share above the driver: binding a config
// with a source config and recording its updates, predicates on updates,
// and the server-restart check and benchmark. It imports the root package,
// so the root package's own tests cannot use it (they use fixture). It is
// test support, not part of livebind's API.
package bindtest

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
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

// BindKey is [Bind] with key as the value of ${KEY} in T's tags: one
// field type serves tests on many keys.
func BindKey[T any](tb testing.TB, scheme string, cfg any, key string, opts ...livebind.Option) (*livebind.Binding[T], *fixture.Log[livebind.Update]) {
	tb.Helper()
	return Bind[T](tb, scheme, cfg, append(opts, livebind.WithLookupEnv(fixture.NewEnv("KEY", key).Lookup))...)
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

// Churn writes the values 1 to n with write, one a millisecond (1,000
// changes a second), then checks that current reaches n within WaitFor and
// that the heap retained after the run grew by less than 1 MiB. Callers
// write values of about 1 KiB (Padded), so a watch that kept every change
// (a history, a queue never drained) would retain n KiB: 2 MB for 2,000.
func Churn(t *testing.T, n int, write func(i int), current func() int) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for i := 1; i <= n; i++ {
		<-tick.C
		write(i)
	}
	deadline := time.Now().Add(WaitFor)
	for current() != n {
		if time.Now().After(deadline) {
			t.Fatalf("bindtest: the final value %d never landed (have %d)", n, current())
		}
		time.Sleep(5 * time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap growth after %d changes: %d bytes", n, growth)
	if growth >= 1<<20 {
		t.Fatalf("bindtest: the heap grew by %d bytes over %d changes", growth, n)
	}
}

// ClosePrompt stops the server with stop, waits for the Error update, lets
// the watch start retrying, and checks that closeFn returns within a second
// (well under any read timeout).
func ClosePrompt(t *testing.T, rec *fixture.Log[livebind.Update], stop func(), closeFn func() error) {
	t.Helper()
	stop()
	rec.Until(t, "Error", IsError)
	time.Sleep(300 * time.Millisecond) // a read is now waiting for the server
	start := time.Now()
	if err := closeFn(); err != nil {
		t.Fatalf("bindtest: Close: %v", err)
	}
	took := time.Since(start)
	t.Logf("Close took %s", took)
	if took > time.Second {
		t.Fatalf("bindtest: Close took %s", took)
	}
}

// Padded is the JSON number i followed by white space, about 1 KiB in all.
func Padded(i int) string { return strconv.Itoa(i) + strings.Repeat(" ", 1024) }

// Strings binds a T with opts, closes the binding at the end of the test,
// and returns a channel of the string values its updates carry (up to
// 1,024 waiting; more are dropped). slow, when set, runs first for each
// update: a subscriber that takes its time.
func Strings[T any](tb testing.TB, slow func(), opts ...livebind.Option) (*livebind.Binding[T], <-chan string) {
	tb.Helper()
	return collect[T, string](tb, slow, 1024, false, opts...)
}

// SchemeStrings is [Strings] for a T bound with cfg as the source config
// of scheme and env (name, value pairs) as the ${VAR}s of its tags.
func SchemeStrings[T any](tb testing.TB, scheme string, cfg any, slow func(), env ...string) (*livebind.Binding[T], <-chan string) {
	tb.Helper()
	return Strings[T](tb, slow, livebind.WithSourceConfig(scheme, cfg), livebind.WithLookupEnv(fixture.NewEnv(env...).Lookup))
}

// Ints binds a T with opts, closes the binding at the end of the test, and
// returns a channel of the int values its updates carry (16,384 deep: a
// consumer that falls further behind blocks the binding's callbacks).
func Ints[T any](tb testing.TB, opts ...livebind.Option) (*livebind.Binding[T], <-chan int) {
	tb.Helper()
	return collect[T, int](tb, nil, 1<<14, true, opts...)
}

// collect binds a T with opts (closed at the end of the test) and returns
// a channel of depth values of the updates' New values of type V; when it
// is full, a new value waits (block) or is dropped.
func collect[T, V any](tb testing.TB, slow func(), depth int, block bool, opts ...livebind.Option) (*livebind.Binding[T], <-chan V) {
	tb.Helper()
	var dst T
	b, err := livebind.Bind(tb.Context(), &dst, opts...)
	if err != nil {
		tb.Fatalf("bindtest: Bind: %v", err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	got := make(chan V, depth)
	if _, err := b.Subscribe(func(u livebind.Update) {
		if slow != nil {
			slow()
		}
		v, ok := u.New.(V)
		switch {
		case !ok:
		case block:
			got <- v
		default:
			select {
			case got <- v:
			default:
			}
		}
	}); err != nil {
		tb.Fatalf("bindtest: Subscribe: %v", err)
	}
	return b, got
}

// BindFails checks that binding a T with cfg as the source config of
// scheme fails with an error wrapping want (any error when want is nil)
// and a *livebind.FieldError naming field.
func BindFails[T any](t *testing.T, scheme string, cfg any, want error, field string) {
	t.Helper()
	var dst T
	b, err := livebind.Bind(t.Context(), &dst, livebind.WithSourceConfig(scheme, cfg))
	if err == nil {
		_ = b.Close()
		t.Fatalf("bindtest: Bind succeeded; want an error wrapping %v", want)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("bindtest: Bind: %v; want an error wrapping %v", err, want)
	}
	var fe *livebind.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("bindtest: Bind: %v; want a FieldError naming %s", err, field)
	}
}
