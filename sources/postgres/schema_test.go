package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestColumnTypeChanged: a migration changes the value column's type
// (text to jsonb) while the read connection holds the statement prepared
// for the old one: the next read must return the row, not the server's
// "cached plan must not change result type" as an ErrQuery (an Error
// update and a retry on the permanent backoff, from 5 s).
func TestColumnTypeChanged(t *testing.T) {
	s := startDB(t, "k", `"v"`)
	d := openDriver(t, appConfig(s))
	tg := target("settings/k", nil)
	require.NoError(t, d.Read(t.Context(), tg).Err)
	s.SQL("ALTER TABLE settings ALTER value TYPE jsonb USING value::jsonb")
	set(t, s, "k", `{"a": 1}`)
	r := d.Read(t.Context(), tg)
	require.NoError(t, r.Err)
	require.JSONEq(t, `{"a": 1}`, string(r.Data))
}
