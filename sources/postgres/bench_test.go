package postgres_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources/postgres"
)

// BenchmarkUpdateToCallback: the latency from an UPDATE (committed, its
// trigger's NOTIFY sent) to the Subscribe callback that reports it.
// Goal: p99 ≤ 10 ms.
func BenchmarkUpdateToCallback(b *testing.B) {
	s := startDB(b, "bench", "start")
	bd, _ := bindtest.BindKey[textRow](b, "postgres", appConfig(s), "bench")
	conn, err := pgx.Connect(b.Context(), s.AdminDSN())
	require.NoError(b, err)
	defer conn.Close(b.Context())
	fixture.ChangeLatency(b, bindtest.Values(b, bd),
		func(i int) {
			_, err := conn.Exec(b.Context(), "UPDATE settings SET value = $1 WHERE key = 'bench'", "v"+strconv.Itoa(i))
			require.NoError(b, err)
		},
		func(i int) any { return "v" + strconv.Itoa(i) })
}

// BenchmarkRestartRecovery: the time from a restarted server being ready
// to a value written then reaching the callback (recovery-ms).
func BenchmarkRestartRecovery(b *testing.B) {
	s := startDB(b, "rec", "start")
	bd, _ := bindtest.BindKey[textRow](b, "postgres", appConfig(s), "rec")
	bindtest.Recovery(b, bindtest.Values(b, bd), s.Restart, func(v string) { set(b, s, "rec", v) })
}

// idleConfig has 10 fields on 10 rows.
type idleConfig struct {
	K0 string `live:"postgres=settings/k0; format=text"`
	K1 string `live:"postgres=settings/k1; format=text"`
	K2 string `live:"postgres=settings/k2; format=text"`
	K3 string `live:"postgres=settings/k3; format=text"`
	K4 string `live:"postgres=settings/k4; format=text"`
	K5 string `live:"postgres=settings/k5; format=text"`
	K6 string `live:"postgres=settings/k6; format=text"`
	K7 string `live:"postgres=settings/k7; format=text"`
	K8 string `live:"postgres=settings/k8; format=text"`
	K9 string `live:"postgres=settings/k9; format=text"`
}

// BenchmarkIdle: one Binding of 10 fields on 10 rows, idle for two
// seconds: its connections (pg_stat_activity) and the transactions per
// minute per field while idle (pg_stat_database's xact_commit, minus the
// same count over two seconds without the Binding, which is what the
// probes themselves add).
func BenchmarkIdle(b *testing.B) {
	s := startDB(b)
	for i := range 10 {
		set(b, s, "k"+strconv.Itoa(i), "v")
	}
	xacts := func() float64 {
		v, err := strconv.ParseFloat(s.SQL("SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"), 64)
		require.NoError(b, err)
		return v
	}
	over2s := func() float64 {
		before := xacts()
		time.Sleep(2 * time.Second)
		return xacts() - before
	}
	for range b.N {
		probes := over2s()
		bindtest.Bind[idleConfig](b, "postgres", appConfig(s))
		time.Sleep(200 * time.Millisecond)
		conns, err := strconv.ParseFloat(s.SQL("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"+postgres.ApplicationName+"'"), 64)
		require.NoError(b, err)
		idle := over2s()
		b.ReportMetric(conns, "connections")
		b.ReportMetric((idle-probes)*30/10, "xact/min/field")
	}
}
