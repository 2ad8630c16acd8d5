package main

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/baotest"
	"github.com/livebind/livebind/internal/testenv/dbcreds"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// servers are a PostgreSQL server with a table items, and an OpenBao dev
// server whose database engine issues users for it (role app).
type servers struct {
	pg  *pgtest.Server
	bao *baotest.Server
	e   dbcreds.Engine
}

// startServers starts both and configures role app with the given TTLs;
// allowed lists the roles the connection allows (default: app).
func startServers(t testing.TB, ttl, maxTTL time.Duration, allowed ...string) *servers {
	t.Helper()
	if len(allowed) == 0 {
		allowed = []string{"app"}
	}
	s := &servers{}
	s.pg, s.bao, s.e = baotest.StartDatabase(t, "create table items(id int primary key, name text); insert into items values (1, 'a')", allowed...)
	require.NoError(t, s.e.Role(t.Context(), "app", ttl, maxTTL))
	return s
}

// client is a vault/api client for the server with token, without the
// client's own retries (the source retries).
func (s *servers) client(t testing.TB, token string) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = s.bao.Addr
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	require.NoError(t, err)
	c.SetToken(token)
	return c
}

// options are the runs' defaults: 4 workers, a query every 2 ms each.
func (s *servers) options(t testing.TB, client *api.Client) Options {
	t.Helper()
	return Options{
		Client: client, MaxBackoff: 300 * time.Millisecond,
		Pools:   &Pools{Host: "127.0.0.1", Port: s.pg.Port(), Database: "postgres", MaxConns: 4, Grace: 100 * time.Millisecond},
		Workers: 4, Pace: 2 * time.Millisecond, Out: &logWriter{tb: t},
		// The lease timeline (renewals, rotations and their lead, each
		// generation), shown when a test fails.
		Logger: slog.New(slog.NewTextHandler(&logWriter{tb: t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// start starts the program; it is stopped when the test ends unless the
// test stops it first.
func (s *servers) start(t testing.TB, o Options) *App {
	t.Helper()
	a, err := Start(t.Context(), o)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = a.Stop() })
	return a
}

// count runs a count(*) as the superuser.
func (s *servers) count(t testing.TB, sql string) int {
	t.Helper()
	n, err := strconv.Atoi(s.pg.SQL(sql))
	require.NoError(t, err)
	return n
}

// users counts PostgreSQL roles made by the engine; sessions counts their
// connections.
func (s *servers) users(t testing.TB) int {
	t.Helper()
	return s.count(t, "select count(*) from pg_roles where rolname like '"+dbcreds.Prefix+"%'")
}

func (s *servers) sessions(t testing.TB) int {
	t.Helper()
	return s.count(t, "select count(*) from pg_stat_activity where usename like '"+dbcreds.Prefix+"%'")
}

// login tries to connect as user with password.
func (s *servers) login(ctx context.Context, user, password string) error {
	cfg, err := pgx.ParseConfig("postgres://127.0.0.1:" + strconv.Itoa(s.pg.Port()) + "/postgres?sslmode=disable")
	if err != nil {
		return err
	}
	cfg.User, cfg.Password = user, password
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// logWriter logs what the program prints and keeps it.
type logWriter struct {
	tb  testing.TB
	buf fixture.Buffer
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.tb.Logf("%s", strings.TrimRight(string(p), "\n"))
	return w.buf.Write(p)
}
