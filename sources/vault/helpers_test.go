package vault_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// waitFor bounds every wait for a result or an update.
const waitFor = 10 * time.Second

// openDriver opens the vault scheme's driver with cfg as its source config.
func openDriver(t *testing.T, cfg any) sources.Driver {
	t.Helper()
	s, ok := sources.Lookup("vault")
	require.True(t, ok)
	d, err := s.Open(sources.Config{Logger: slog.New(slog.DiscardHandler), LookupEnv: os.LookupEnv, Value: cfg})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return d
}

// fast is a driver config for tests: short backoffs.
func fast(t *testing.T, s *vaulttest.Server, token string) vault.Config {
	t.Helper()
	return vault.Config{Client: s.Client(t, token), MaxBackoff: 500 * time.Millisecond}
}

func target(loc string, poll time.Duration, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "vault", Location: loc, Poll: poll, Params: params, Secret: true}
}

// results collects what one Watch emits, with the time of each.
type results struct {
	mu   sync.Mutex
	rs   []sources.Result
	at   []time.Time
	wake chan struct{}
}

func newResults() *results { return &results{wake: make(chan struct{}, 1)} }

func (r *results) emit(res sources.Result) {
	r.mu.Lock()
	r.rs = append(r.rs, res)
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *results) all() []sources.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sources.Result(nil), r.rs...)
}

// wait returns the index of the first result from n on that satisfies ok.
func (r *results) wait(t *testing.T, n int, what string, ok func(sources.Result) bool) (int, sources.Result, time.Time) {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i := n; i < len(r.rs); i++ {
			if ok(r.rs[i]) {
				res, at := r.rs[i], r.at[i]
				r.mu.Unlock()
				return i, res, at
			}
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-deadline.C:
			t.Fatalf("no result %s within %s; got %v", what, waitFor, r.all())
		}
	}
}

// quiet asserts that no result beyond the first n arrives within d.
func (r *results) quiet(t *testing.T, n int, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	rs := r.all()
	require.Len(t, rs, n, "unexpected results: %v", rs[min(n, len(rs)):])
}

func hasData(want string) func(sources.Result) bool {
	return func(r sources.Result) bool { return r.Err == nil && !r.Missing && string(r.Data) == want }
}

func isMissing(r sources.Result) bool { return r.Missing }

func isErr(r sources.Result) bool { return r.Err != nil }

// recorder keeps every update of a binding.
type recorder struct {
	mu   sync.Mutex
	ups  []livebind.Update
	at   []time.Time
	wake chan struct{}
}

func (r *recorder) add(u livebind.Update) {
	r.mu.Lock()
	r.ups = append(r.ups, u)
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []livebind.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]livebind.Update(nil), r.ups...)
}

// until waits for an update that satisfies ok and returns it with its
// arrival time.
func (r *recorder) until(t *testing.T, what string, ok func(livebind.Update) bool) (livebind.Update, time.Time) {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i, u := range r.ups {
			if ok(u) {
				at := r.at[i]
				r.mu.Unlock()
				return u, at
			}
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-deadline.C:
			t.Fatalf("no update %s within %s; got %v", what, waitFor, r.all())
		}
	}
}

// bind binds a T through the vault source configured by cfg and records its
// updates; logs go to a JSON handler into the returned buffer.
func bind[T any](t *testing.T, cfg any) (*livebind.Binding[T], *recorder, *syncBuffer) {
	t.Helper()
	var dst T
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := livebind.Bind(t.Context(), &dst, livebind.WithSourceConfig("vault", cfg), livebind.WithLogger(logger))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	rec := &recorder{wake: make(chan struct{}, 1)}
	_, err = b.Subscribe(rec.add, livebind.From(1)) // nothing since Bind missed
	require.NoError(t, err)
	return b, rec, logs
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
