package livebind

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
)

// reentrant calls hook from Validate, on the applier goroutine.
type reentrant struct {
	Port int    `live:"env=PORT; poll=5ms"`
	hook func() // untagged: copied as it is into every snapshot
}

func (c *reentrant) Validate() error {
	if c.hook != nil && c.Port == 2 {
		c.hook()
	}
	return nil
}

// untilDone waits for the delivery goroutines of b to end, so that goleak
// sees none after a test that abandoned a callback and then released it.
func untilDone[T any](t testing.TB, b *Binding[T]) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.subs.mu.Lock()
		n := len(b.subs.running)
		b.subs.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d delivery goroutines still running", n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestCloseFromCallback: Close called inside a callback used to wait for
// that callback forever. It must return once everything else stopped, and
// the callback's goroutine must end when the callback returns.
func TestCloseFromCallback(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		env := newEnv("PORT", "1")
		b, err := Bind(t.Context(), &hostile{}, WithLookupEnv(env.lookup))
		require.NoError(t, err)
		closed := make(chan error, 1)
		var once sync.Once
		onChange(b, func(Update) { once.Do(func() { closed <- b.Close() }) })
		other := record(t, b) // another subscriber, stopped by that Close
		env.set("PORT", "2")
		select {
		case err := <-closed:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Close called from a callback did not return within 5 s")
		}
		assert.True(t, b.Status().Closed)
		assert.ErrorIs(t, b.Reload(t.Context()), ErrClosed)
		assert.Equal(t, 2, b.Get().Port, "Get keeps the last snapshot")
		require.NoError(t, b.Close(), "a second Close returns the first's result")
		untilDone(t, b)
		_ = other
	})
}

// TestCloseFromCallbackDuringClose: a callback that calls Close while
// another goroutine's Close waits for that callback returns at once, so
// neither waits for the other.
func TestCloseFromCallbackDuringClose(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		env := newEnv("PORT", "1")
		b, err := Bind(t.Context(), &hostile{}, WithLookupEnv(env.lookup), WithCloseTimeout(20*time.Second))
		require.NoError(t, err)
		entered, proceed := make(chan struct{}), make(chan struct{})
		inner := make(chan error, 1)
		var once sync.Once
		onChange(b, func(Update) {
			once.Do(func() {
				close(entered)
				<-proceed
				inner <- b.Close()
			})
		})
		env.set("PORT", "2")
		<-entered
		outer := make(chan error, 1)
		go func() { outer <- b.Close() }()
		require.Eventually(t, b.closing.Load, 5*time.Second, time.Millisecond)
		close(proceed)
		start := time.Now()
		require.NoError(t, <-inner)
		require.NoError(t, <-outer)
		assert.Less(t, time.Since(start), 5*time.Second, "far below the 20 s close timeout")
		untilDone(t, b)
	})
}

// TestCloseAbandonsStuckCallback: a callback that never returns made Close
// hang. Close must return after WithCloseTimeout with an error wrapping
// ErrCloseTimeout and an Error log; the callback, once released, ends its
// goroutine.
func TestCloseAbandonsStuckCallback(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		var logs logBuffer
		env := newEnv("PORT", "1")
		b, err := Bind(t.Context(), &hostile{}, WithLookupEnv(env.lookup),
			WithCloseTimeout(300*time.Millisecond), WithLogger(logs.logger()))
		require.NoError(t, err)
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		onChange(b, func(Update) { once.Do(func() { close(entered); <-release }) })
		updates := updates(b) // nobody reads it: must not hold Close either
		env.set("PORT", "2")
		<-entered
		start := time.Now()
		err = b.Close()
		took := time.Since(start)
		require.ErrorIs(t, err, ErrCloseTimeout)
		assert.GreaterOrEqual(t, took, 250*time.Millisecond)
		assert.Less(t, took, 3*time.Second)
		assert.Contains(t, logs.String(), "Close abandoned callbacks")
		_, open := <-updates
		assert.False(t, open, "Updates is closed by Close")
		close(release)
		untilDone(t, b)
	})
}

// TestReentrantFromValidate: Reload, Rollback and Close called from
// Validate (on the applier goroutine) stalled the applier until their
// context ended, forever with context.Background(). They must fail at once
// with ErrReentrant, and the binding must keep working.
func TestReentrantFromValidate(t *testing.T) {
	for _, name := range []string{"Reload", "Rollback", "Close"} {
		t.Run(name, func(t *testing.T) {
			childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
				env := newEnv("PORT", "1")
				var b *Binding[reentrant]
				got := make(chan error, 1)
				cfg := reentrant{hook: func() {
					var err error
					switch name {
					case "Reload":
						err = b.Reload(context.Background()) //nolint:usetesting // a context that never ends is the case that used to hang
					case "Rollback":
						err = b.Rollback(context.Background(), 1) //nolint:usetesting // as above
					case "Close":
						err = b.Close()
					}
					select {
					case got <- err:
					default:
					}
				}}
				b = mustBind(t, &cfg, WithLookupEnv(env.lookup), WithHistory(4))
				env.set("PORT", "2")
				wantReentrant(t, got, "%s from Validate did not return within 5 s", name)
				require.Eventually(t, func() bool { return b.Get().Port == 2 }, 5*time.Second, time.Millisecond)
				env.set("PORT", "3")
				require.Eventually(t, func() bool { return b.Get().Port == 3 }, 5*time.Second, time.Millisecond, "the binding keeps working")
				require.NoError(t, b.Reload(t.Context()))
			})
		})
	}
}

// TestReloadFromCallback: a callback runs on its own goroutine, not the
// applier's, so Reload and Rollback work there.
func TestReloadFromCallback(t *testing.T) {
	t.Parallel()
	env := newEnv("PORT", "1")
	b, err := Bind(t.Context(), &hostile{}, WithLookupEnv(env.lookup), WithHistory(4))
	require.NoError(t, err)
	defer b.Close()
	got := make(chan error, 2)
	var once sync.Once
	onChange(b, func(u Update) {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			got <- b.Reload(ctx)
			got <- b.Rollback(ctx, 1)
		})
	})
	env.set("PORT", "2")
	for range 2 {
		select {
		case err := <-got:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Reload or Rollback from a callback did not return")
		}
	}
	assert.Equal(t, 1, b.Get().Port, "rolled back to generation 1")
}

// BenchmarkCloseStuckCallback measures how long Close takes while a
// callback is stuck (it waits WithCloseTimeout, here 100 ms, then abandons
// it) and when Close is called from inside a callback. Run with
// -benchtime=5x; the figure is ms/close.
func BenchmarkCloseStuckCallback(b *testing.B) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		inside  bool
	}{
		{name: "stuck/timeout=100ms", timeout: 100 * time.Millisecond},
		{name: "stuck/timeout=1s", timeout: time.Second},
		{name: "from-callback", timeout: DefaultCloseTimeout, inside: true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			n := 0
			for b.Loop() {
				env := newEnv("PORT", "1")
				bd, err := Bind(b.Context(), &hostile{}, WithLookupEnv(env.lookup), WithCloseTimeout(tc.timeout))
				if err != nil {
					b.Fatal(err)
				}
				entered, release := make(chan struct{}), make(chan struct{})
				took := make(chan time.Duration, 1)
				var once sync.Once
				onChange(bd, func(Update) {
					once.Do(func() {
						close(entered)
						if tc.inside {
							start := time.Now()
							_ = bd.Close()
							took <- time.Since(start)
							return
						}
						<-release
					})
				})
				env.set("PORT", "2")
				<-entered
				if tc.inside {
					total += <-took
				} else {
					start := time.Now()
					if err := bd.Close(); !errors.Is(err, ErrCloseTimeout) {
						b.Fatal(fmt.Errorf("want ErrCloseTimeout, got %w", err))
					}
					total += time.Since(start)
					close(release)
				}
				untilDone(b, bd)
				n++
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/close")
		})
	}
}

// reentrantUpdate calls hook from an update= method, on the applier.
type reentrantUpdate struct {
	Port    int `live:"env=PORT; poll=5ms"`
	Derived int `live:"env=DERIVED; poll=5ms; depends_on=Port; update=Derive"`
	hook    func()
}

// Derive adds Port to the source value, calling hook on the way.
func (c *reentrantUpdate) Derive(v int) error {
	if c.hook != nil && c.Port == 2 {
		c.hook()
	}
	c.Derived = v + c.Port
	return nil
}

// TestReentrantFromUpdateMethod: as TestReentrantFromValidate, from an
// update= method.
func TestReentrantFromUpdateMethod(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		env := newEnv("PORT", "1", "DERIVED", "10")
		var b *Binding[reentrantUpdate]
		got := make(chan error, 1)
		cfg := reentrantUpdate{hook: func() {
			select {
			case got <- b.Reload(context.Background()): //nolint:usetesting // a context that never ends is the case that used to hang
			default:
			}
		}}
		b = mustBind(t, &cfg, WithLookupEnv(env.lookup))
		env.set("PORT", "2")
		wantReentrant(t, got, "Reload from an update= method did not return within 5 s")
		require.Eventually(t, func() bool { return b.Get().Derived == 12 }, 5*time.Second, time.Millisecond)
	})
}

// wantReentrant waits for the error a re-entrant call put on got, which
// must wrap ErrReentrant; the call must return within 5 s, or the test fails
// with the message and args.
func wantReentrant(t *testing.T, got <-chan error, msg string, args ...any) {
	t.Helper()
	select {
	case err := <-got:
		require.ErrorIs(t, err, ErrReentrant)
	case <-time.After(5 * time.Second):
		t.Fatalf(msg, args...)
	}
}
