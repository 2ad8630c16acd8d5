package postgres_test

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/pgtest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/postgres"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// appPassword is the password of the app role that the tests bind as.
const appPassword = "app-secret-pw-42"

// startDB starts PostgreSQL with a settings(key text, value text) table,
// the trigger of postgres.TriggerSQL, and a role app (password
// appPassword) allowed to SELECT it, and sets each key and value pair of
// kv.
func startDB(tb testing.TB, kv ...string) *pgtest.Server {
	tb.Helper()
	s := pgtest.Start(tb)
	s.SQL(`CREATE TABLE settings (key text PRIMARY KEY, value text);
		CREATE ROLE app LOGIN PASSWORD '` + appPassword + `';
		GRANT SELECT ON settings TO app;`)
	s.SQL(postgres.TriggerSQL("settings", "", ""))
	for i := 0; i+1 < len(kv); i += 2 {
		set(tb, s, kv[i], kv[i+1])
	}
	return s
}

// textRow is one text field on the settings row named by ${KEY}.
type textRow struct {
	V string `live:"postgres=settings/${KEY}; format=text"`
}

// quote makes s an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// set upserts key's value as the superuser.
func set(tb testing.TB, s *pgtest.Server, key, value string) {
	tb.Helper()
	setExpr(tb, s, key, quote(value))
}

// setExpr upserts key's value as the result of an SQL expression.
func setExpr(tb testing.TB, s *pgtest.Server, key, expr string) {
	tb.Helper()
	s.SQL("INSERT INTO settings VALUES (" + quote(key) + ", " + expr + ") ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
}

func remove(tb testing.TB, s *pgtest.Server, key string) {
	tb.Helper()
	s.SQL("DELETE FROM settings WHERE key = " + quote(key))
}

// appConfig is the source config of the app role.
func appConfig(s *pgtest.Server) postgres.Config {
	return postgres.Config{DSN: s.DSN("app", appPassword, "postgres"), MaxBackoff: 200 * time.Millisecond}
}

func target(loc string, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "postgres", Location: loc, Params: params}
}

// openDriver opens the postgres driver on cfg and closes it at the end of
// the test.
func openDriver(t *testing.T, cfg any) sources.Driver {
	t.Helper()
	return fixture.OpenDriver(t, "postgres", cfg)
}
