package vault_test

import (
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// BenchmarkRotationLead measures how long before the old lease expires new
// credentials are emitted, as a share of the lease (goal: at least 10%).
// Each iteration is one rotation of a lease of TTL 1s (real time): a
// non-renewable one, and a renewable one with a max TTL of 3s. Run:
// go test -run '^$' -bench RotationLead -benchtime 5x ./sources/vault
func BenchmarkRotationLead(b *testing.B) {
	for _, tc := range []struct {
		name string
		role vaulttest.Role
	}{
		{"not-renewable", vaulttest.Role{TTL: time.Second}},
		{"renewable-max3x", vaulttest.Role{TTL: time.Second, MaxTTL: 3 * time.Second, Renewable: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := vaulttest.New(b)
			s.SetRole("database", "app", tc.role)
			d := openDriver(b, vault.Config{Client: s.Client(b, s.RootToken()), SkipTokenRenewal: true})
			tg := &sources.Target{Scheme: "vault", Location: "database/creds/app"}
			last := d.Read(b.Context(), tg)
			if last.Err != nil {
				b.Fatal(last.Err)
			}
			type rotation struct {
				version string
				at      time.Time
			}
			got := make(chan rotation, 16)
			stop, err := d.Watch(tg, last, func(r sources.Result) {
				if r.Err == nil && !r.Missing {
					got <- rotation{r.Version, time.Now()}
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			defer stop()
			prev := last.Version
			minLead, sumLead := 1.0, 0.0
			b.ResetTimer()
			for range b.N {
				var r rotation
				select {
				case r = <-got:
				case <-time.After(10 * time.Second):
					b.Fatal("no rotation within 10s")
				}
				info, _ := s.Lease(prev)
				lead := float64(info.Expires.Sub(r.at)) / float64(tc.role.TTL)
				minLead, sumLead = min(minLead, lead), sumLead+lead
				prev = r.version
			}
			b.StopTimer()
			b.ReportMetric(100*minLead, "min-lead-%")
			b.ReportMetric(100*sumLead/float64(b.N), "mean-lead-%")
		})
	}
}

// BenchmarkPollRequests measures the requests one watched KV v2 secret
// costs while it does not change, at poll=50ms over one second per
// iteration, and extrapolates them to the default poll of 30s. Run:
// go test -run '^$' -bench PollRequests -benchtime 3x ./sources/vault
func BenchmarkPollRequests(b *testing.B) {
	s := vaulttest.New(b)
	s.PutKV2("secret", "db", map[string]any{"password": "p"})
	d := openDriver(b, vault.Config{Client: s.Client(b, s.RootToken()), SkipTokenRenewal: true})
	const poll = 50 * time.Millisecond
	tg := &sources.Target{Scheme: "vault", Location: "secret/db#password", Poll: poll}
	stop, err := d.Watch(tg, d.Read(b.Context(), tg), func(sources.Result) {})
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	time.Sleep(2 * poll)
	s.ResetCounts()
	b.ResetTimer()
	for range b.N {
		time.Sleep(time.Second)
	}
	b.StopTimer()
	perPoll := float64(s.Total()) / (float64(b.N) * float64(time.Second) / float64(poll))
	b.ReportMetric(perPoll, "req/poll")
	b.ReportMetric(perPoll*3600/30, "req/h@30s")
}
