package postgres_test

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/postgres"
	"github.com/livebind/livebind/sources/sourcetest"
)

// conformanceMax is the maxbytes= of the conformance targets.
const conformanceMax = 256 << 10

// TestConformance runs the sources conformance kit against the postgres
// driver and a real PostgreSQL 15, as a role with SELECT only. The failure
// check logs in with a password to a closed port (the password must not
// appear in the error); the stall check uses a TCP listener that accepts
// and never answers.
func TestConformance(t *testing.T) {
	s := startDB(t)
	var n atomic.Int64
	const password = "pg-conformance-secret-pw"
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "postgres",
		Config: func(*testing.T) sources.Config { return sources.Config{Value: appConfig(s)} },
		Target: func(*testing.T) *sources.Target {
			return target("settings/conformance."+strconv.FormatInt(n.Add(1), 10), map[string]string{"maxbytes": strconv.Itoa(conformanceMax)})
		},
		Set:    func(t *testing.T, tg *sources.Target, v []byte) { t.Helper(); set(t, s, keyOf(tg), string(v)) },
		Remove: func(t *testing.T, tg *sources.Target) { t.Helper(); remove(t, s, keyOf(tg)) },
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			return sources.Config{Value: "postgres://app:" + password + "@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1"},
				target("settings/unreachable", nil)
		},
		ErrorAs: func(err error) bool {
			var e *postgres.Error
			return errors.As(err, &e) && errors.Is(err, postgres.ErrUnavailable)
		},
		Secrets: []string{password},
		Stall: func(t *testing.T) (sources.Config, *sources.Target, func()) {
			t.Helper()
			addr, release := fixture.SilentServer(t)
			return sources.Config{Value: "postgres://app:x@" + addr + "/postgres?sslmode=disable"}, target("settings/stalled", nil), release
		},
		Oversize: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			setExpr(t, s, keyOf(tg), "repeat('x', "+strconv.Itoa(conformanceMax+64<<10)+")")
		},
		MaxSize: conformanceMax,
	})
}

func keyOf(tg *sources.Target) string { _, k, _ := strings.Cut(tg.Location, "/"); return k }

// TestSchemeCheck: bad locations and options are refused at Bind, without
// a server.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	bindtest.CheckTable(t, "postgres", "", []bindtest.CheckCase{
		{Loc: "settings/app.flags", Params: map[string]string{"keycol": "name", "valcol": "v", "channel": "c"}},
		{Loc: "app.settings/x", Note: "a schema-qualified table"},
		{Loc: "flags", Params: map[string]string{"query": "SELECT 1"}},
		{Loc: "settings", Want: "not table/key"},
		{Loc: "/x", Want: "not table/key"},
		{Loc: "settings/", Want: "not table/key"},
		{Loc: "a..b/x", Want: "not a table name"},
		{Loc: "settings/x", Params: map[string]string{"maxbytes": "-1"}, Want: "maxbytes"},
		{Loc: "settings/x", Params: map[string]string{"keycol": ""}, Want: "keycol"},
		{Loc: "flags", Params: map[string]string{"query": "SELECT 1", "keycol": "k"}, Want: "no effect with query="},
		{Loc: "", Params: map[string]string{"query": "SELECT 1"}, Want: "empty notification key"},
		{Loc: "settings/x", Params: map[string]string{"channel": strings.Repeat("c", 64)}, Want: "channel"},
	})
}
