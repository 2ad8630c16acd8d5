package baotest

import (
	"testing"

	"github.com/livebind/livebind/internal/testenv/dbcreds"
	"github.com/livebind/livebind/internal/testenv/pgtest"
)

// StartDatabase starts PostgreSQL, runs setup on it (SQL; none if empty),
// and starts a dev server whose database engine is configured for it as
// ../shared/testservers/postgres-openbao.md verified, allowing roles: the
// real case of rotating database credentials. It returns both servers and
// the engine, with the root token. Both stop at the end of the test; where
// either server is not available the test skips.
func StartDatabase(tb testing.TB, setup string, roles ...string) (*pgtest.Server, *Server, dbcreds.Engine) {
	tb.Helper()
	pg := pgtest.Start(tb)
	if setup != "" {
		pg.SQL(setup)
	}
	s := Start(tb)
	e := dbcreds.Engine{Addr: s.Addr, Token: RootToken}
	if err := e.Configure(tb.Context(), pg.Port(), pgtest.AdminPassword, roles...); err != nil {
		tb.Fatalf("baotest: configure the database engine: %v", err)
	}
	return pg, s, e
}
