package postgres_test

import (
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
