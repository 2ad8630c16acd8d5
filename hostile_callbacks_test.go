package livebind

import (
	"errors"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
)

// hostile is bound by the tests of user code that misbehaves.
type hostile struct {
	Port   int            `live:"env=PORT; poll=5ms"`
	Tags   []string       `live:"env=TAGS; poll=5ms"`
	Limits map[string]int `live:"env=LIMITS; format=json; poll=5ms"`
}

// hostileSecret adds a secret, so panic values must be hidden.
type hostileSecret struct {
	Port  int    `live:"env=PORT; poll=5ms"`
	Token string `live:"env=TOKEN; secret; poll=5ms"`
}

// logBuffer is a goroutine-safe slog destination.
type logBuffer struct{ fixture.Buffer }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// untilCount waits until n() reaches want, failing after d.
func untilCount(t *testing.T, d time.Duration, want uint64, n func() uint64) {
	t.Helper()
	deadline := time.Now().Add(d)
	for n() < want {
		if time.Now().After(deadline) {
			t.Fatalf("count %d, want %d within %v", n(), want, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestCallbackPanicRecovered: a callback that panics on every update, of
// each kind of subscriber, must not kill the process (it did: the panic
// ended it). The panic is counted in Status, logged at Error level with the
// stack, reported as an Error update wrapping ErrCallbackPanic to the other
// subscribers, and deliveries go on, to the panicking subscriber too.
func TestCallbackPanicRecovered(t *testing.T) {
	register := map[string]func(b *Binding[hostile], calls *atomic.Uint64) func(){
		"OnChange": func(b *Binding[hostile], calls *atomic.Uint64) func() {
			return onChange(b, func(Update) { calls.Add(1); panic("boom OnChange") })
		},
		"Subscribe": func(b *Binding[hostile], calls *atomic.Uint64) func() {
			stop, err := b.Subscribe(func(Update) { calls.Add(1); panic("boom Subscribe") }, Fields("Port"))
			if err != nil {
				panic(err)
			}
			return stop
		},
		"WatchField": func(b *Binding[hostile], calls *atomic.Uint64) func() {
			stop, err := WatchField(b, "Port", func(FieldChange[int]) { calls.Add(1); panic("boom WatchField") })
			if err != nil {
				panic(err)
			}
			return stop
		},
		"Stream": func(b *Binding[hostile], calls *atomic.Uint64) func() {
			_, stop, err := stream(b, func(Update) (int, bool) { calls.Add(1); panic("boom Stream") })
			if err != nil {
				panic(err)
			}
			return stop
		},
	}
	for _, name := range []string{"OnChange", "Subscribe", "WatchField", "Stream"} {
		t.Run(name, func(t *testing.T) {
			res := childtest.Run(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
				var logs logBuffer
				env := newEnv("PORT", "1")
				b, err := Bind(t.Context(), &hostile{}, WithLookupEnv(env.lookup), WithLogger(logs.logger()))
				require.NoError(t, err)
				defer b.Close()
				var calls atomic.Uint64
				stop := register[name](b, &calls)
				defer stop()
				rec := record(t, b)

				env.set("PORT", "2")
				_, _ = rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind == Updated && u.New == 2 })
				perr, _ := rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind == Error })
				require.ErrorIs(t, perr.Err, ErrCallbackPanic)
				var cpe *deliveryError
				require.ErrorAs(t, perr.Err, &cpe)
				assert.Equal(t, "Port", cpe.Field)
				assert.Equal(t, "boom "+name, cpe.Panic)
				assert.Equal(t, "Port", perr.Field)

				env.set("PORT", "3") // deliveries go on, to everyone
				_, _ = rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind == Updated && u.New == 3 })
				untilCount(t, 5*time.Second, 2, calls.Load)
				untilCount(t, 5*time.Second, 2, func() uint64 { return b.Status().CallbackPanics })
				assert.Equal(t, 3, b.Get().Port)

				out := logs.String()
				assert.Contains(t, out, `"level":"ERROR"`)
				assert.Contains(t, out, "a callback panicked")
				assert.Contains(t, out, "boom "+name)
				assert.Contains(t, out, "hostile_callbacks_test.go", "the log holds the panic's stack")
			})
			if !res.OK() {
				t.Fatalf("a panicking %s callback must not kill the process: %v", name, res)
			}
		})
	}
}

// TestCallbackPanicValueHiddenWithSecrets: with a secret field the panic
// value (which can quote the secret) appears neither in the log nor in the
// Error update, and the stack's argument words are removed.
func TestCallbackPanicValueHiddenWithSecrets(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		var logs logBuffer
		env := newEnv("PORT", "1", "TOKEN", "sk-first")
		b, err := Bind(t.Context(), &hostileSecret{}, WithLookupEnv(env.lookup), WithLogger(logs.logger()))
		require.NoError(t, err)
		defer b.Close()
		stop, err := WatchField(b, "Token", func(c FieldChange[string]) { panic("leaked " + c.New) })
		require.NoError(t, err)
		defer stop()
		rec := record(t, b)
		env.set("TOKEN", "sk-rotated-secret")
		u, _ := rec.until(t, 5*time.Second, func(u Update) bool { return u.Kind == Error })
		require.ErrorIs(t, u.Err, ErrCallbackPanic)
		assert.NotContains(t, u.Err.Error(), "sk-rotated-secret")
		assert.NotContains(t, u.String(), "sk-rotated-secret")
		untilCount(t, 5*time.Second, 1, func() uint64 { return b.Status().CallbackPanics })
		out := logs.String()
		assert.Contains(t, out, "a callback panicked")
		assert.NotContains(t, out, "sk-rotated-secret")
		assert.NotRegexp(t, regexp.MustCompile(`\(0x[0-9a-f]`), out, "argument words stripped from the stack")
	})
}

// TestCallbackPanicReportsDoNotLoop: two subscribers that panic on every
// update, reports included, must not feed each other forever: each panic on
// a real update is reported to the other subscriber once, and a panic while
// handling such a report is only logged and counted. One update therefore
// costs exactly four panics.
func TestCallbackPanicReportsDoNotLoop(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		env := newEnv("PORT", "1")
		b, err := Bind(t.Context(), &hostile{}, WithLookupEnv(env.lookup))
		require.NoError(t, err)
		defer b.Close()
		var reports atomic.Uint64
		for range 2 {
			stop := onChange(b, func(u Update) {
				if errors.Is(u.Err, ErrCallbackPanic) {
					reports.Add(1)
				}
				panic("always")
			})
			defer stop()
		}
		env.set("PORT", "2")
		untilCount(t, 5*time.Second, 4, func() uint64 { return b.Status().CallbackPanics })
		time.Sleep(200 * time.Millisecond)
		assert.Equal(t, uint64(4), b.Status().CallbackPanics)
		assert.Equal(t, uint64(2), reports.Load())
	})
}

// TestCallbackPanicStackRedaction checks the argument-stripping pattern on
// a real traceback shape.
func TestCallbackPanicStackRedaction(t *testing.T) {
	in := "goroutine 7 [running]:\nmain.f({0x4b3f1a, 0x5}, 0x3)\n\t/x/main.go:12 +0x5e\nmain.(*T).g(...)\n\t/x/main.go:20\nruntime/debug.Stack()\n"
	got := stackArgs.ReplaceAllString(in, "(...)")
	assert.NotContains(t, got, "0x4b3f1a")
	assert.NotContains(t, got, "0x3)")
	assert.True(t, strings.Contains(got, "main.(*T).g(...)") && strings.Contains(got, "main.f(...)"), got)
	assert.Contains(t, got, "/x/main.go:12 +0x5e")
}

// TestCallbackGoexitRecovered: a callback that calls runtime.Goexit (a
// require in a test's callback does, through t.FailNow) ended its
// subscriber's delivery goroutine: it silently received nothing more, and
// nobody was told. It is now reported like a panic (an Error update
// wrapping ErrCallbackPanic to the others, counted in Status), and
// deliveries to it go on.
func TestCallbackGoexitRecovered(t *testing.T) {
	t.Parallel()
	env := newEnv("PORT", "1")
	var log logBuffer
	b := mustBind(t, &hostile{}, WithLookupEnv(env.lookup), WithLogger(log.logger()))
	var calls atomic.Uint64
	_, err := b.Subscribe(func(Update) {
		calls.Add(1)
		runtime.Goexit()
	}, Fields("Port"))
	require.NoError(t, err)
	rec := record(t, b)

	env.set("PORT", "2")
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Kind == Error })
	require.ErrorIs(t, u.Err, ErrCallbackPanic)
	assert.Equal(t, "Port", u.Field)
	assert.Contains(t, u.Err.Error(), "runtime.Goexit")
	assert.Equal(t, uint64(1), b.Status().CallbackPanics)

	env.set("PORT", "3")
	untilCount(t, wait, 2, calls.Load)
	assert.Equal(t, 3, b.Get().Port)
	assert.Contains(t, log.String(), "runtime.Goexit")
}
