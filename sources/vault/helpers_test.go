package vault_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// waitFor bounds every wait for a result or an update.
const waitFor = 10 * time.Second

// openDriver opens the vault scheme's driver with cfg as its source config
// (for tests and benchmarks); its Close must succeed at the end.
func openDriver(tb testing.TB, cfg any) sources.Driver {
	tb.Helper()
	return fixture.OpenDriver(tb, "vault", cfg)
}

// fast is a driver config for tests: short backoffs.
func fast(t *testing.T, s *vaulttest.Server, token string) vault.Config {
	t.Helper()
	return vault.Config{Client: s.Client(t, token), MaxBackoff: 500 * time.Millisecond}
}

func target(loc string, poll time.Duration, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "vault", Location: loc, Poll: poll, Params: params, Secret: true}
}

// newResults returns a log of what one Watch emits, with the time of each.
func newResults() *fixture.Log[sources.Result] { return fixture.NewLog[sources.Result](waitFor) }

func hasData(want string) func(sources.Result) bool {
	return func(r sources.Result) bool { return r.Err == nil && !r.Missing && string(r.Data) == want }
}

func isMissing(r sources.Result) bool { return r.Missing }

func isErr(r sources.Result) bool { return r.Err != nil }

// bind binds a T through the vault source configured by cfg and records its
// updates; logs go to a JSON handler into the returned buffer.
func bind[T any](t testing.TB, cfg any) (*livebind.Binding[T], *fixture.Log[livebind.Update], *fixture.Buffer) {
	t.Helper()
	var dst T
	logs := &fixture.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := livebind.Bind(t.Context(), &dst, livebind.WithSourceConfig("vault", cfg), livebind.WithLogger(logger))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	rec := fixture.NewLog[livebind.Update](waitFor)
	_, err = b.Subscribe(rec.Add, livebind.From(1)) // nothing since Bind missed
	require.NoError(t, err)
	return b, rec, logs
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// noErrorUpdates fails the test if any update recorded so far is an Error,
// saying during what.
func noErrorUpdates(t testing.TB, rec *fixture.Log[livebind.Update], during string) {
	t.Helper()
	for _, u := range rec.All() {
		require.NotEqual(t, livebind.Error, u.Kind, "no error %s: %v", during, u)
	}
}
