package postgres_test

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

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
	s, _ := sources.Lookup("postgres")
	require.NoError(t, s.Check(target("settings/app.flags", map[string]string{"keycol": "name", "valcol": "v", "channel": "c"})))
	require.NoError(t, s.Check(target("app.settings/x", nil)), "a schema-qualified table")
	require.NoError(t, s.Check(target("flags", map[string]string{"query": "SELECT 1"})))
	for _, tc := range []struct {
		loc    string
		params map[string]string
		want   string
	}{
		{"settings", nil, "not table/key"},
		{"/x", nil, "not table/key"},
		{"settings/", nil, "not table/key"},
		{"a..b/x", nil, "not a table name"},
		{"settings/x", map[string]string{"maxbytes": "-1"}, "maxbytes"},
		{"settings/x", map[string]string{"keycol": ""}, "keycol"},
		{"flags", map[string]string{"query": "SELECT 1", "keycol": "k"}, "no effect with query="},
		{"", map[string]string{"query": "SELECT 1"}, "empty notification key"},
		{"settings/x", map[string]string{"channel": strings.Repeat("c", 64)}, "channel"},
	} {
		require.ErrorContains(t, s.Check(target(tc.loc, tc.params)), tc.want, "%s %v", tc.loc, tc.params)
	}
}
