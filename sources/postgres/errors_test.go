package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// TestClassify: each pgx error wraps the sentinel callers match by its
// SQLSTATE, a refused role or a bad query is retried slowly, the row or
// query is named, a long message is cut, and a password the server or a
// connect error echoed is scrubbed.
func TestClassify(t *testing.T) {
	t.Parallel()
	const pw = "pg-pass-0123456789"
	long := strings.Repeat("x", 1000)
	pgErr := func(code, msg string) error { return &pgconn.PgError{Code: code, Message: msg} }
	in := func(s spec) func(error) (error, bool) {
		return func(err error) (error, bool) {
			e := classify(s, err, pw)
			return e, e.permanent()
		}
	}
	rows := []fixture.ErrorCase{
		{Name: "no select", Err: pgErr("42501", "permission denied for table settings"), Is: sources.ErrAuth, Permanent: true, Text: `postgres: row "settings/app": authentication or permission refused (SQLSTATE 42501): permission denied for table settings`},
		{Name: "bad password, echoed", Err: pgErr("28P01", "password "+pw+" refused"), Is: sources.ErrAuth, Permanent: true, Text: "password <token> refused"},
		{Name: "shutdown", Err: pgErr("57P01", "terminating connection"), Is: sources.ErrUnreachable, Text: "server unreachable (SQLSTATE 57P01)"},
		{Name: "lock timeout", Err: pgErr("55P03", "canceling statement due to lock timeout"), Is: sources.ErrUnreachable, Text: "(SQLSTATE 55P03)"},
		{Name: "deadlock", Err: pgErr("40P01", "deadlock detected"), Is: sources.ErrUnreachable, Text: "(SQLSTATE 40P01)"},
		{Name: "serialization", Err: pgErr("40001", "could not serialize access"), Is: sources.ErrUnreachable, Text: "(SQLSTATE 40001)"},
		{Name: "i/o error", Err: pgErr("58030", "could not read block"), Is: sources.ErrUnreachable, Text: "(SQLSTATE 58030)"},
		{Name: "connect, password echoed", Err: fmt.Errorf("failed to connect to `password=%s`: refused", pw), Is: sources.ErrUnreachable, Text: "password=<token>"},
		{Name: "timeout", Err: fmt.Errorf("read: %w", context.DeadlineExceeded), Is: sources.ErrUnreachable, Text: "server unreachable: no answer in time"},
		{Name: "canceled", Err: fmt.Errorf("dial: %w", context.Canceled), Is: context.Canceled, Text: "context canceled"},
		{Name: "too large", Err: fmt.Errorf("%w: 2 MiB", sources.ErrTooLarge), Is: sources.ErrTooLarge, Text: "value too large: 2 MiB"},
		{Name: "long", Err: pgErr("XX000", long), Is: ErrQuery, Permanent: true, Text: long[:sources.MaxServerText] + "..."},
		{Name: "password cut through", Err: pgErr("XX000", fixture.CutThrough(pw)), Is: ErrQuery, Permanent: true, Text: "bad query (SQLSTATE XX000): xxx"},
		{Name: "connect, password cut through", Err: errors.New(fixture.CutThrough(pw)), Is: sources.ErrUnreachable, Text: "server unreachable: xxx"},
	}
	fixture.WantClassified(t, pw, in(spec{table: "settings", key: "app"}), rows...)
	fixture.WantClassified(t, pw, in(spec{query: "SELECT 1", key: "flags"}), fixture.ErrorCase{
		Name: "no table", Err: pgErr("42P01", "relation does not exist"), Is: ErrQuery, Permanent: true, Text: `postgres: query "flags": bad query (SQLSTATE 42P01)`,
	})
}
