package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/postgres"
)

// terminate ends every backend of livebind's connections.
const terminate = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" + postgres.ApplicationName + "'"

// TestBindLifecycle: an UPDATE is Updated (through the trigger's NOTIFY),
// a DELETE is Removed (the value is kept), an INSERT is Added.
func TestBindLifecycle(t *testing.T) {
	s := startDB(t, "app.flags", "one")
	b, rec := bindtest.BindKey[textRow](t, "postgres", appConfig(s), "app.flags")
	bindtest.Lifecycle(t, rec, func() any { return b.Get().V }, func(v string) { set(t, s, "app.flags", v) }, func() { remove(t, s, "app.flags") })
}

// TestBindColumnsAndQuery: keycol=/valcol= on a schema-qualified jsonb
// table, a bytea value, and query= woken by a NOTIFY of its key.
func TestBindColumnsAndQuery(t *testing.T) {
	s := startDB(t)
	s.SQL(`CREATE SCHEMA cfg; CREATE TABLE cfg."Docs" (name text PRIMARY KEY, doc jsonb, raw bytea);
		GRANT USAGE ON SCHEMA cfg TO app; GRANT SELECT ON cfg."Docs" TO app;
		INSERT INTO cfg."Docs" VALUES ('limits', '{"max": 5}', '\x6869007468657265'::bytea);`)
	s.SQL(postgres.TriggerSQL("cfg.Docs", "name", "cfgchan"))
	type limits struct {
		Max int `json:"max"`
	}
	type config struct {
		L   limits `live:"postgres=cfg.Docs/limits; keycol=name; valcol=doc; channel=cfgchan"`
		Raw []byte `live:"postgres=cfg.Docs/limits; keycol=name; valcol=raw; channel=cfgchan; format=text"`
		N   int    `live:"postgres=count; query=SELECT count(*) FROM settings; format=json"`
	}
	b, rec := bindtest.Bind[config](t, "postgres", appConfig(s))
	require.Equal(t, 5, b.Get().L.Max)
	require.Equal(t, []byte("hi\x00there"), b.Get().Raw)
	require.Equal(t, 0, b.Get().N)
	s.SQL(`UPDATE cfg."Docs" SET doc = '{"max": 7}' WHERE name = 'limits'`)
	rec.Until(t, "jsonb update", func(livebind.Update) bool { return b.Get().L.Max == 7 })
	set(t, s, "x", "1")
	s.SQL("NOTIFY livebind_settings, 'count'")
	rec.Until(t, "query re-run", func(livebind.Update) bool { return b.Get().N == 1 })
}

// TestBindBadValues: a value that does not decode, and one over maxbytes=,
// are Error updates that keep the last good value; a good one is applied.
func TestBindBadValues(t *testing.T) {
	s := startDB(t, "n", "1")
	type config struct {
		N int `live:"postgres=settings/n; format=json; maxbytes=16"`
	}
	b, rec := bindtest.Bind[config](t, "postgres", appConfig(s))
	set(t, s, "n", "{not json")
	rec.Until(t, "decode Error", bindtest.IsError)
	require.Equal(t, 1, b.Get().N)
	set(t, s, "n", strings.Repeat("9", 17))
	u := rec.Until(t, "oversize Error", func(u livebind.Update) bool {
		return bindtest.IsError(u) && strings.Contains(u.Err.Error(), "maxbytes")
	})
	require.ErrorIs(t, u.Err, sources.ErrTooLarge)
	require.Equal(t, 1, b.Get().N)
	set(t, s, "n", "2")
	rec.Until(t, "recovery", bindtest.HasNew(2))
}

// TestBindPermissionAndLogin: a role without SELECT, and a wrong password,
// fail Bind with ErrPermissionDenied; neither password is in the error.
func TestBindPermissionAndLogin(t *testing.T) {
	s := startDB(t)
	s.SQL("CREATE ROLE nosel LOGIN PASSWORD 'nosel-pw-77'")
	type config struct {
		V string `live:"postgres=settings/x; format=text"`
	}
	var c config
	_, err := livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("postgres", s.DSN("nosel", "nosel-pw-77", "postgres")))
	require.ErrorIs(t, err, sources.ErrAuth)
	require.ErrorContains(t, err, `row "settings/x"`)
	require.NotContains(t, err.Error(), "nosel-pw-77")
	_, err = livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("postgres", s.DSN("app", "wrong-pw-88", "postgres")))
	require.ErrorIs(t, err, sources.ErrAuth)
	require.NotContains(t, err.Error(), "wrong-pw-88")
}

// TestBindReconnectRereads: every livebind connection is terminated and
// the row is changed in the same transaction, so its NOTIFY reaches no
// listener; the driver LISTENs again and re-reads every bound row, so the
// change lands. Run three times.
func TestBindReconnectRereads(t *testing.T) {
	s := startDB(t, "a", "0")
	set(t, s, "b", "0")
	type config struct {
		A string `live:"postgres=settings/a; format=text"`
		B string `live:"postgres=settings/b; format=text"`
	}
	b, rec := bindtest.Bind[config](t, "postgres", appConfig(s))
	for i := 1; i <= 3; i++ {
		v := strconv.Itoa(i)
		s.SQL(terminate + "; UPDATE settings SET value = '" + v + "' WHERE key IN ('a', 'b')")
		rec.Until(t, "a="+v, func(livebind.Update) bool { return b.Get().A == v && b.Get().B == v })
	}
}

// TestBindServerRestart: the server stops (fast shutdown, then a crash):
// an ErrUnavailable Error update, the value is kept; after the restart a
// change lands.
func TestBindServerRestart(t *testing.T) {
	s := startDB(t, "r", "before")
	b, rec := bindtest.BindKey[textRow](t, "postgres", appConfig(s), "r")
	bindtest.Outages(t, rec, func() any { return b.Get().V }, []func(){s.Stop, s.Kill}, s.Restart,
		func(v string) { set(t, s, "r", v) }, sources.ErrUnreachable)
}

// TestBindConnectRotates: Config.Connect is called for every connection:
// after the role's password changes and every connection is terminated,
// the next Connect's new password is used and changes land again.
func TestBindConnectRotates(t *testing.T) {
	s := startDB(t, "rot", "one")
	pw := make(chan string, 1)
	pw <- appPassword
	current := appPassword
	connect := func(context.Context) (*pgx.ConnConfig, error) {
		select {
		case current = <-pw:
		default:
		}
		return pgx.ParseConfig(s.DSN("app", current, "postgres"))
	}
	b, rec := bindtest.BindKey[textRow](t, "postgres", postgres.Config{Connect: connect, MaxBackoff: 200 * time.Millisecond}, "rot")
	require.Equal(t, "one", b.Get().V)
	s.SQL("ALTER ROLE app PASSWORD 'rotated-pw-2'")
	pw <- "rotated-pw-2"
	s.SQL(terminate + "; UPDATE settings SET value = 'two' WHERE key = 'rot'")
	rec.Until(t, "two", bindtest.HasNew("two"))
}

// TestBindConnectAfterPermissionDenied: the role of the read connection
// loses its SELECT while connected (as a user of revoked Vault credentials
// does when the revocation statements drop it without ending its
// sessions): the read is refused (an ErrPermissionDenied Error update, the
// value kept), and the retry connects afresh through Connect, now as a
// role that may read, so the change lands. Before the fix the refused
// connection was kept and every retry was refused again.
func TestBindConnectAfterPermissionDenied(t *testing.T) {
	s := startDB(t)
	set(t, s, "perm", "one")
	s.SQL("CREATE ROLE app2 LOGIN PASSWORD 'app2-pw-7'; GRANT SELECT ON settings TO app2")
	var dsn atomic.Value // Connect is called from the driver's goroutines
	dsn.Store(s.DSN("app", appPassword, "postgres"))
	connect := func(context.Context) (*pgx.ConnConfig, error) { return pgx.ParseConfig(dsn.Load().(string)) }
	type config struct {
		V string `live:"postgres=settings/perm; format=text"`
	}
	b, rec := bindtest.Bind[config](t, "postgres", postgres.Config{Connect: connect, MaxBackoff: 200 * time.Millisecond})
	s.SQL("REVOKE SELECT ON settings FROM app")
	dsn.Store(s.DSN("app2", "app2-pw-7", "postgres"))
	set(t, s, "perm", "two")
	u := rec.Until(t, "Error", bindtest.IsError)
	require.ErrorIs(t, u.Err, sources.ErrAuth)
	require.Equal(t, "one", b.Get().V)
	rec.Until(t, "two", bindtest.HasNew("two"))
}

// TestBindChurn: 1,000 changes a second to one row for two seconds: the
// final value lands and the heap does not grow with the changes.
func TestBindChurn(t *testing.T) {
	s := startDB(t, "c", "0")
	type config struct {
		V int `live:"postgres=settings/c; format=json"`
	}
	b, _ := bindtest.Bind[config](t, "postgres", appConfig(s))
	conn, err := pgx.Connect(t.Context(), s.AdminDSN())
	require.NoError(t, err)
	defer conn.Close(t.Context())
	bindtest.Churn(t, 2000, func(i int) {
		_, err := conn.Exec(t.Context(), "UPDATE settings SET value = $1 WHERE key = 'c'", bindtest.Padded(i))
		require.NoError(t, err)
	}, func() int { return b.Get().V })
}

// TestBindConnectionCut: both connections are cut mid-watch and refused
// for a while, during which the row changes: an ErrUnavailable Error
// update (the value is kept), then the change made while disconnected
// lands once connections are accepted again.
func TestBindConnectionCut(t *testing.T) {
	s := startDB(t, "cut", "before")
	p := fixture.NewProxy(t, "127.0.0.1:"+strconv.Itoa(s.Port()))
	type config struct {
		V string `live:"postgres=settings/cut; format=text"`
	}
	cfg := postgres.Config{DSN: "postgres://app:" + appPassword + "@" + p.Addr + "/postgres?sslmode=disable", MaxBackoff: 200 * time.Millisecond}
	b, rec := bindtest.Bind[config](t, "postgres", cfg)
	bindtest.ConnectionCut(t, rec, p, func() any { return b.Get().V }, func(v string) { set(t, s, "cut", v) }, sources.ErrUnreachable)
}

// TestBindDownAtStart: with the server down, Bind fails (fail fast) with
// an ErrUnavailable error naming the field and row, without the password;
// once the server is up, Bind succeeds.
func TestBindDownAtStart(t *testing.T) {
	s := startDB(t, "down", "v")
	s.Stop()
	type config struct {
		V string `live:"postgres=settings/down; format=text; timeout=1s"`
	}
	bindtest.FailsFast[config](t, "postgres", appConfig(s), sources.ErrUnreachable, `row "settings/down"`, appPassword)
	s.Restart()
	b, _ := bindtest.Bind[config](t, "postgres", appConfig(s))
	require.Equal(t, "v", b.Get().V)
}

// TestTriggerSQLOddNames: the trigger of TriggerSQL installs and notifies
// for a table, key column and channel whose names hold quotes, a dollar
// quote tag and spaces; the driver LISTENs on that channel and follows the
// row.
func TestTriggerSQLOddNames(t *testing.T) {
	s := startDB(t)
	s.SQL(`CREATE TABLE "odd""tab'le" ("k$livebind$" text PRIMARY KEY, value text);
		GRANT SELECT ON "odd""tab'le" TO app;
		INSERT INTO "odd""tab'le" VALUES ('x', 'one');`)
	s.SQL(postgres.TriggerSQL(`odd"tab'le`, "k$livebind$", "it's a channel"))
	type config struct {
		V string `live:"postgres=odd\"tab'le/x; keycol=k$livebind$; channel=it's a channel; format=text"`
	}
	b, rec := bindtest.Bind[config](t, "postgres", appConfig(s))
	require.Equal(t, "one", b.Get().V)
	s.SQL(`UPDATE "odd""tab'le" SET value = 'two' WHERE "k$livebind$" = 'x'`)
	rec.Until(t, "two", bindtest.HasNew("two"))
}

// TestBindTwoConnections: a Binding of ten fields on ten rows holds two
// connections (one for reads, one for LISTEN), whatever the number of
// fields.
func TestBindTwoConnections(t *testing.T) {
	s := startDB(t)
	for i := range 10 {
		set(t, s, "k"+strconv.Itoa(i), "v")
	}
	bindtest.Bind[idleConfig](t, "postgres", appConfig(s))
	count := "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + postgres.ApplicationName + "'"
	require.Eventually(t, func() bool { return s.SQL(count) == "2" }, bindtest.WaitFor, 20*time.Millisecond, "two connections")
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, "2", s.SQL(count))
}

// TestCloseDuringOutage: with the server down and the watch retrying,
// Close returns at once (well under the 5 s read timeout).
func TestCloseDuringOutage(t *testing.T) {
	s := startDB(t, "close", "v")
	b, rec := bindtest.BindKey[textRow](t, "postgres", appConfig(s), "close")
	bindtest.ClosePrompt(t, rec, s.Stop, b.Close)
}

// TestConfigHidesPassword: a Config printed in any way, or logged, does
// not show its DSN's password.
func TestConfigHidesPassword(t *testing.T) {
	t.Parallel()
	c := postgres.Config{DSN: "postgres://app:hunter2-pw@db/postgres"}
	var log fixture.Buffer
	slog.New(slog.NewTextHandler(&log, nil)).Info("config", "cfg", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c), log.String()} {
		require.NotContains(t, s, "hunter2-pw")
	}
}

// TestConnectFailureHidesLastPassword: Config.Connect fails with an error
// that quotes the password it handed out before (as a secret store's
// client may when a lease ends). The Error update must name the failure
// without that password, on the read connection and on the LISTEN one.
func TestConnectFailureHidesLastPassword(t *testing.T) {
	s := startDB(t, "leak", "one")
	var failing atomic.Bool
	connect := func(context.Context) (*pgx.ConnConfig, error) {
		if failing.Load() {
			return nil, fmt.Errorf("lease of password %s has ended", appPassword)
		}
		return pgx.ParseConfig(s.DSN("app", appPassword, "postgres"))
	}
	logs := &fixture.Buffer{}
	b, rec := bindtest.BindKey[textRow](t, "postgres", postgres.Config{Connect: connect, MaxBackoff: 200 * time.Millisecond}, "leak",
		livebind.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.Equal(t, "one", b.Get().V)
	failing.Store(true)
	s.SQL(terminate + "; UPDATE settings SET value = 'two' WHERE key = 'leak'")
	u := rec.Until(t, "Connect's failure", func(u livebind.Update) bool {
		return u.Kind == livebind.Error && strings.Contains(u.Err.Error(), "has ended")
	})
	require.NotContains(t, u.Err.Error(), appPassword)
	require.NotContains(t, fmt.Sprintf("%v %+v", u, u), appPassword)
	require.Equal(t, "one", b.Get().V)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "LISTEN connection failed") }, 10*time.Second, 20*time.Millisecond)
	require.NotContains(t, logs.String(), appPassword)
}

// TestRefusedLoginNotHotRetried: with a password the server refuses, a
// watch must not log in again every second (failed logins fill the
// server's log and trip lockouts such as fail2ban): the read and the
// LISTEN connection both wait on the permanent backoff, from 5 s.
func TestRefusedLoginNotHotRetried(t *testing.T) {
	s := startDB(t, "k", "v")
	p := fixture.NewProxy(t, "127.0.0.1:"+strconv.Itoa(s.Port()))
	d := openDriver(t, postgres.Config{DSN: "postgres://app:wrong-pw-5@" + p.Addr + "/postgres?sslmode=disable"})
	stop := fixture.Watch(t, d, target("settings/k", nil), sources.Result{}, func(sources.Result) {})
	defer stop()
	time.Sleep(4 * time.Second)
	require.LessOrEqual(t, p.Accepted(), 4, "login attempts in 4 s")
}

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

// TestSilentListenConnection: the backend of the LISTEN connection stops
// answering while its TCP connection stays up (SIGSTOP: a hung backend, or
// a peer behind a partition whose kernel still ACKs), and the row changes.
// The notification never comes; the driver must notice the silent
// connection within its health interval, LISTEN on a new one and read the
// row again, so the change lands.
func TestSilentListenConnection(t *testing.T) {
	s := startDB(t, "hung", "one")
	cfg := appConfig(s)
	cfg.HealthInterval = 500 * time.Millisecond
	b, rec := bindtest.BindKey[textRow](t, "postgres", cfg, "hung")
	require.Equal(t, "one", b.Get().V)
	var pid int
	require.Eventually(t, func() bool {
		out := s.SQL("SELECT pid FROM pg_stat_activity WHERE application_name = '" + postgres.ApplicationName + "' AND query LIKE 'LISTEN%'")
		var err error
		pid, err = strconv.Atoi(out)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the LISTEN backend")
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	defer func() { _ = syscall.Kill(pid, syscall.SIGCONT) }()
	set(t, s, "hung", "two")
	rec.Until(t, "two", bindtest.HasNew("two"))
}
