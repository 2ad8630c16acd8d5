package postgres_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/postgres"
)

// openDriver opens the postgres driver on cfg and closes it at the end of
// the test.
func openDriver(t *testing.T, cfg any) sources.Driver {
	t.Helper()
	sc, ok := sources.Lookup("postgres")
	require.True(t, ok)
	d, err := sc.Open(sources.Config{Logger: slog.New(slog.DiscardHandler), LookupEnv: os.LookupEnv, Value: cfg})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return d
}

// TestSecretValueNotInServerError: a query= on a secret target whose
// statement fails on the value itself (a cast of it to int) gets an error
// from PostgreSQL that quotes the value; the driver's error must not.
func TestSecretValueNotInServerError(t *testing.T) {
	const secret = "s3cr3t-value-9911"
	s := startDB(t, "tok", secret)
	d := openDriver(t, appConfig(s))
	tg := target("tok", map[string]string{"query": "SELECT value::int FROM settings WHERE key = 'tok'"})
	tg.Secret = true
	r := d.Read(t.Context(), tg)
	require.Error(t, r.Err)
	require.ErrorIs(t, r.Err, postgres.ErrQuery)
	require.NotContains(t, r.Err.Error(), secret)
	require.Contains(t, r.Err.Error(), "22P02", "the SQLSTATE is kept")
	tg.Secret = false // not secret: the server's text is kept
	require.Contains(t, d.Read(t.Context(), tg).Err.Error(), secret)
}
