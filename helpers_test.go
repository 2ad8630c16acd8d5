package livebind

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const wait = 5 * time.Second // upper bound for anything that should happen

// testEnv is fixture.Env under the short names the tests of this package
// use: pass env.lookup to WithLookupEnv, change it with set and unset.
type testEnv struct{ *fixture.Env }

func newEnv(kv ...string) *testEnv { return &testEnv{fixture.NewEnv(kv...)} }

func (e *testEnv) lookup(k string) (string, bool) { return e.Lookup(k) }
func (e *testEnv) set(k, v string)                { e.Set(k, v) }
func (e *testEnv) unset(k string)                 { e.Unset(k) }

// writeFile writes data to dir/name and returns the path.
func writeFile(tb testing.TB, dir, name, data string) string {
	tb.Helper()
	return fixture.WriteFile(tb, dir, name, data)
}

// recorder collects the updates of one Binding (see record).
type recorder struct{ *fixture.Collector[Update] }

// record subscribes to b until the test ends.
func record[T any](tb testing.TB, b *Binding[T]) *recorder {
	tb.Helper()
	r := &recorder{fixture.NewCollector[Update]()}
	tb.Cleanup(onChange(b, r.Add))
	return r
}

// onChange subscribes fn to every update of b (what OnChange did before
// Subscribe became the one door); Subscribe without options cannot fail.
func onChange[T any](b *Binding[T], fn func(Update)) (unsubscribe func()) {
	stop, err := b.Subscribe(fn)
	if err != nil {
		panic(err)
	}
	return stop
}

// stream is the channel recipe of docs/design.md built on Subscribe (what
// Stream and Updates did before): fn maps updates to values sent on an
// unbuffered channel, closed by stop or Close; a send waits only until the
// subscriber is stopped, so an unread channel never holds Close.
func stream[R, T any](b *Binding[T], fn func(Update) (R, bool), opts ...Option) (<-chan R, func(), error) {
	ch := make(chan R)
	var sub *subscriber
	sub, err := b.subscriber(opts, func(ev event) {
		r, ok := fn(ev.update())
		if !ok {
			return
		}
		select {
		case ch <- r:
		case <-sub.quit:
		}
	})
	if err != nil {
		return nil, nil, err
	}
	sub.onDone = func() { close(ch) }
	stop, err := b.subs.add(sub)
	return ch, stop, err
}

// updates is stream of every update.
func updates[T any](b *Binding[T]) <-chan Update {
	ch, _, err := stream(b, func(u Update) (Update, bool) { return u, true })
	if err != nil {
		panic(err)
	}
	return ch
}

// next waits for the next update, failing after timeout.
func (r *recorder) next(tb testing.TB, timeout time.Duration) Update {
	tb.Helper()
	return r.Next(tb, timeout)
}

// until waits for an update satisfying pred and returns it together with
// every update seen before it.
func (r *recorder) until(tb testing.TB, timeout time.Duration, pred func(Update) bool) (Update, []Update) {
	tb.Helper()
	return r.Until(tb, timeout, pred)
}

// quiet asserts that no update arrives for d.
func (r *recorder) quiet(tb testing.TB, d time.Duration) {
	tb.Helper()
	r.Quiet(tb, d)
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithCancel(t.Context())
}

// gen is the current generation.
func gen[T any](b *Binding[T]) uint64 {
	_, g := b.Snapshot()
	return g
}

// waitFor waits for a value on ch, failing after wait.
func waitFor[V any](tb testing.TB, ch <-chan V) V {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		tb.Fatal("timed out")
		panic("unreachable")
	}
}

// mustBind binds *dst with opts, fails the test if Bind fails, and closes
// the Binding when the test ends.
func mustBind[T any](tb testing.TB, dst *T, opts ...Option) *Binding[T] {
	tb.Helper()
	b, err := Bind(tb.Context(), dst, opts...)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = b.Close() })
	return b
}

// want waits for the next update and checks its kind.
func (r *recorder) want(tb testing.TB, kind Kind) Update {
	tb.Helper()
	u := r.next(tb, wait)
	assert.Equal(tb, kind, u.Kind, "%v", u)
	return u
}

// bindError binds *dst with the environment env, checks that Bind fails
// with an error wrapping sentinel, and returns the error for further
// checks. A Bind that succeeds is closed.
func bindError[T any](tb testing.TB, dst *T, env *testEnv, sentinel error) error {
	tb.Helper()
	b, err := Bind(tb.Context(), dst, WithLookupEnv(env.lookup))
	if err == nil {
		_ = b.Close()
	}
	require.ErrorIs(tb, err, sentinel)
	return err
}

// fieldError checks that err holds a *FieldError (errors.As) naming field,
// and returns a copy of it for further checks.
func fieldError(tb testing.TB, err error, field string, msgAndArgs ...any) FieldError {
	tb.Helper()
	var fe *FieldError
	require.ErrorAs(tb, err, &fe, msgAndArgs...)
	assert.Equal(tb, field, fe.Field, msgAndArgs...)
	return *fe
}

// wantBindErr checks, as bindError, that Bind fails with sentinel, and that
// the error's text holds each of texts.
func wantBindErr[T any](tb testing.TB, dst *T, env *testEnv, sentinel error, texts ...string) {
	tb.Helper()
	err := bindError(tb, dst, env, sentinel)
	for _, text := range texts {
		assert.Contains(tb, err.Error(), text)
	}
}

// bindDir binds *dst with ${DIR} set to dir (see mustBind).
func bindDir[T any](tb testing.TB, dst *T, dir string) *Binding[T] {
	tb.Helper()
	return mustBind(tb, dst, WithLookupEnv(newEnv("DIR", dir).lookup))
}

// dirWith returns a new temporary directory holding name with data.
func dirWith(tb testing.TB, name, data string) string {
	tb.Helper()
	dir := tb.TempDir()
	writeFile(tb, dir, name, data)
	return dir
}
