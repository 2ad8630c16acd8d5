package postgres_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/sources/postgres"
)

// TestTriggerSQLBackslashChannel: the channel literal of TriggerSQL must
// mean the same whatever standard_conforming_strings says, in the session
// that installs the trigger and in the sessions whose changes fire it (the
// function is compiled in each): with a backslash in the channel and the
// setting off, a plain '...' literal ends early, so the install or the
// UPDATE fails, or notifies another channel.
func TestTriggerSQLBackslashChannel(t *testing.T) {
	s := startDB(t, "bs", "one")
	_, err := s.TrySQL("SET standard_conforming_strings = off; " + postgres.TriggerSQL("settings", "", `back\slash`))
	require.NoError(t, err)
	type config struct {
		V string `live:"postgres=settings/bs; channel=back\\slash; format=text"`
	}
	b, rec := bindtest.Bind[config](t, "postgres", appConfig(s))
	require.Equal(t, "one", b.Get().V)
	_, err = s.TrySQL("SET standard_conforming_strings = off; UPDATE settings SET value = 'two' WHERE key = 'bs'")
	require.NoError(t, err)
	rec.Until(t, "two", bindtest.HasNew("two"))
}

// TestTriggerSQLLongTableNames: two tables whose names share their first
// 47 bytes, with different key columns and channels. PostgreSQL cuts
// identifiers at 63 bytes, so livebind_notify_<table> must not become one
// function for both: the second install would replace the first table's
// function, and every write to the first table would then fail (its rows
// have no such key column).
func TestTriggerSQLLongTableNames(t *testing.T) {
	s := startDB(t)
	prefix := strings.Repeat("t", 50)
	a, b := prefix+"_alpha", prefix+"_beta"
	s.SQL(`CREATE TABLE "` + a + `" (ka text PRIMARY KEY, value text); CREATE TABLE "` + b + `" (kb text PRIMARY KEY, value text);`)
	s.SQL(postgres.TriggerSQL(a, "ka", "cha"))
	s.SQL(postgres.TriggerSQL(b, "kb", "chb"))
	_, err := s.TrySQL(`INSERT INTO "` + a + `" VALUES ('x', '1')`)
	require.NoError(t, err)
	_, err = s.TrySQL(`INSERT INTO "` + b + `" VALUES ('x', '1')`)
	require.NoError(t, err)
}

// TestTriggerSQLLongChannel: a channel longer than PostgreSQL's 63 bytes
// cannot be notified (pg_notify fails, and with it every write to the
// table) nor LISTENed (channel= refuses it): the SQL must fail when it is
// run, installing nothing, not break the table's writes.
func TestTriggerSQLLongChannel(t *testing.T) {
	s := startDB(t)
	_, err := s.TrySQL(postgres.TriggerSQL("settings", "", strings.Repeat("c", 64)))
	require.ErrorContains(t, err, "63 bytes")
	_, err = s.TrySQL("INSERT INTO settings VALUES ('w', 'v')")
	require.NoError(t, err)
}
