package postgres_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/livebind/livebind/internal/testenv/bindtest"
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
	const password = "pg-conformance-secret-pw"
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "postgres",
		Config: bindtest.ConfigValue(appConfig(s)),
		Target: bindtest.Targets("postgres", "settings/conformance.", bindtest.MaxBytes(conformanceMax)),
		Set:    func(t *testing.T, tg *sources.Target, v []byte) { t.Helper(); set(t, s, keyOf(tg), string(v)) },
		Remove: func(t *testing.T, tg *sources.Target) { t.Helper(); remove(t, s, keyOf(tg)) },
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			return sources.Config{Value: "postgres://app:" + password + "@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1"},
				target("settings/unreachable", nil)
		},
		ErrorAs: bindtest.TypedError[*postgres.Error](sources.ErrUnreachable),
		Secrets: []string{password},
		Stall: bindtest.SilentStall(target("settings/stalled", nil), func(_ *testing.T, addr string) any {
			return "postgres://app:x@" + addr + "/postgres?sslmode=disable"
		}),
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
		{Loc: "settings/x", Params: map[string]string{"keycol": strings.Repeat("k", 64)}, Want: "keycol"},
		{Loc: "settings/x", Params: map[string]string{"valcol": strings.Repeat("v", 64)}, Want: "valcol"},
		{Loc: "app." + strings.Repeat("t", 64) + "/x", Want: "not a table name"},
	})
}
