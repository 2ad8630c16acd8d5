package vault_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/baotest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// PKI certificates on a real server (issue 12): write= issues a
// certificate from <mount>/issue/<role>; a role with generate_lease=true
// attaches a lease, which OpenBao marks renewable: false.

// startPKI starts a server with a PKI mount "pki" holding a root CA and
// the role "web" (example.com and its subdomains, EC P-256 keys, the given
// ttl as default and max, generate_lease as asked).
func startPKI(t testing.TB, ttl string, lease bool) *baotest.Server {
	t.Helper()
	s := baotest.Start(t)
	s.Must(http.MethodPost, "sys/mounts/pki", map[string]any{"type": "pki", "config": map[string]any{"max_lease_ttl": "1h"}})
	s.Must(http.MethodPost, "pki/root/generate/internal", map[string]any{"common_name": "livebind test CA", "ttl": "1h", "key_type": "ec", "key_bits": 256})
	setRole(t, s, ttl, lease, "example.com")
	return s
}

// setRole writes the role "web".
func setRole(t testing.TB, s *baotest.Server, ttl string, lease bool, domain string) {
	t.Helper()
	s.Must(http.MethodPost, "pki/roles/web", map[string]any{
		"allowed_domains": domain, "allow_subdomains": true, "generate_lease": lease,
		"ttl": ttl, "max_ttl": ttl, "key_type": "ec", "key_bits": 256,
	})
}

// issuedCerts counts the certificates the server has stored (pki/certs,
// the CA's included): the server-side audit of how many were issued.
func issuedCerts(t testing.TB, s *baotest.Server) int {
	t.Helper()
	return len(listKeys(t, s, "pki/certs"))
}

// pkiLease is what sys/leases/lookup says of one PKI lease.
type pkiLease struct {
	id                  string
	issued, expires     time.Time
	renewable           bool
	ttlAtFirstSightSecs int64
}

// lookupPKILease looks a lease up; ok is false once the server has
// dropped it.
func lookupPKILease(t testing.TB, s *baotest.Server, id string) (pkiLease, bool) {
	t.Helper()
	status, body, err := s.Do(http.MethodPut, "sys/leases/lookup", map[string]any{"lease_id": id})
	require.NoError(t, err)
	if status != http.StatusOK {
		return pkiLease{}, false
	}
	var ans struct {
		Data struct {
			IssueTime  time.Time `json:"issue_time"`
			ExpireTime time.Time `json:"expire_time"`
			Renewable  bool      `json:"renewable"`
			TTL        int64     `json:"ttl"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &ans))
	return pkiLease{id: id, issued: ans.Data.IssueTime, expires: ans.Data.ExpireTime, renewable: ans.Data.Renewable, ttlAtFirstSightSecs: ans.Data.TTL}, true
}

type realCert struct {
	TLS vault.Certificate `live:"vault=pki/issue/web; write=common_name=app.example.com&ttl=6s"`
}

// pkiRotation is one run of rotatePKI.
type pkiRotation struct {
	s       *baotest.Server
	p       *countingProxy
	b       *livebind.Binding[realCert]
	rec     *fixture.Log[livebind.Update]
	logs    *fixture.Buffer
	certs0  int        // certificates on the server before Bind (the CA)
	leases  []pkiLease // every lease the driver got, by issue time
	serials []string   // the certificates the field held, in order
	secrets []string   // their private keys and PEM
}

// leads returns, for each rotation, how long before the old lease's end
// the new lease was issued, and the first lease's length (both from the
// server's issue_time and expire_time).
func (r *pkiRotation) leads() ([]time.Duration, time.Duration) {
	ttl := r.leases[0].expires.Sub(r.leases[0].issued)
	var out []time.Duration
	for i := 1; i < len(r.leases); i++ {
		out = append(out, r.leases[i-1].expires.Sub(r.leases[i].issued))
	}
	return out, ttl
}

// rotatePKI binds realCert (6 s leases, generate_lease=true) through a
// counting proxy and watches until the field has held rotations+1
// certificates, noting every lease the server hands out (looked up while
// it lives).
func rotatePKI(tb testing.TB, rotations int) *pkiRotation {
	tb.Helper()
	r := &pkiRotation{s: startPKI(tb, "6s", true)}
	r.certs0 = issuedCerts(tb, r.s)
	r.p = newCountingProxy(tb, r.s)
	r.b, r.rec, r.logs = bind[realCert](tb, clientAt(tb, r.p.URL, baotest.RootToken))
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Log(r.logs.String())
		}
	})
	first := r.b.Get().TLS
	r.serials, r.secrets = []string{first.SerialNumber}, []string{first.PrivateKey, first.Certificate}
	seen := map[string]pkiLease{}
	deadline := time.Now().Add(time.Duration(rotations)*6*time.Second + 5*time.Second)
	for len(r.serials) <= rotations {
		for _, id := range leases(tb, r.s, "pki/issue/web") {
			if _, ok := seen[id]; !ok {
				if l, ok := lookupPKILease(tb, r.s, id); ok {
					seen[id] = l
				}
			}
		}
		if c := r.b.Get().TLS; c.SerialNumber != r.serials[len(r.serials)-1] {
			r.serials = append(r.serials, c.SerialNumber)
			r.secrets = append(r.secrets, c.PrivateKey, c.Certificate)
		}
		require.True(tb, time.Now().Before(deadline), "%d rotations within the deadline, want %d", len(r.serials)-1, rotations)
		time.Sleep(50 * time.Millisecond)
	}
	for _, l := range seen {
		r.leases = append(r.leases, l)
	}
	slices.SortFunc(r.leases, func(a, b pkiLease) int { return a.issued.Compare(b.issued) })
	return r
}

// TestRealPKILeaseRotates: a certificate of a role with generate_lease=true
// and a 6 s TTL arrives at Bind (a usable key pair), its lease is not
// renewable on the server, and the driver issues a new certificate (new
// serial, new lease) before each old lease ends, at least 10% of the lease
// ahead: 3 rotations, 0 errors, no renewal attempted, and exactly one
// issue request per certificate (counted by a proxy and by the server's
// own pki/certs list; a Reload writes nothing). Neither the private key nor the certificate
// appears in an update, %v or a log.
func TestRealPKILeaseRotates(t *testing.T) {
	t.Parallel()
	const rotations = 3
	r := rotatePKI(t, rotations)
	pair, err := r.b.Get().TLS.TLSCertificate()
	require.NoError(t, err)
	require.Equal(t, "app.example.com", pair.Leaf.Subject.CommonName)
	require.NoError(t, r.b.Reload(t.Context()))
	require.Equal(t, int64(len(r.serials)), r.p.issue.Load(), "a Reload hands out the current certificate: no write")

	require.Len(t, r.leases, rotations+1, "one lease per certificate")
	for _, l := range r.leases {
		require.False(t, l.renewable, "the server marks PKI leases not renewable")
	}
	leads, ttl := r.leads()
	for i, lead := range leads {
		t.Logf("rotation %d: new lease %s before the old one ended (%.1f%% of %s)", i+1, lead.Round(time.Millisecond), 100*lead.Seconds()/ttl.Seconds(), ttl)
		require.GreaterOrEqual(t, lead, ttl/10, "rotation %d: lead %s, want >= 10%% of %s", i+1, lead, ttl)
	}
	require.Len(t, slices.Compact(slices.Clone(r.serials)), rotations+1, "a new serial at each rotation")
	issues := r.p.issue.Load()
	require.Equal(t, int64(rotations+1), issues, "one issue request per certificate")
	require.Equal(t, r.certs0+rotations+1, issuedCerts(t, r.s), "the server issued one certificate per request")
	require.Zero(t, r.p.renew.Load(), "a non-renewable lease is never renewed")
	t.Logf("%d rotations, %d issue requests, %d renewals, %d certificates on the server", rotations, issues, r.p.renew.Load(), issuedCerts(t, r.s)-r.certs0)

	st := r.b.Status()
	require.Len(t, st.Sources, 1)
	require.False(t, st.Sources[0].LeaseExpires.IsZero(), "Status shows the lease's expiry")
	require.True(t, st.Sources[0].LeaseRenewal.IsZero(), "and no renewal: the lease is not renewable")

	for _, u := range r.rec.All() {
		require.NotEqual(t, livebind.Error, u.Kind, "no error while certificates rotate: %v", u)
		for _, sec := range r.secrets {
			leaks(t, "update", u.String(), sec)
		}
	}
	printed := fmt.Sprintf("%v %+v %#v", r.b.Get(), r.b.Get(), r.b.Get())
	for _, sec := range r.secrets {
		leaks(t, "logs", r.logs.String(), sec)
		leaks(t, "%v", printed, sec)
	}
}

// BenchmarkRealPKIRotation: 3 rotations of a 6 s PKI lease on a real
// server: the smallest rotation lead as a share of the lease (goal >= 10%),
// issue requests per certificate (goal 1) and renewals (goal 0).
func BenchmarkRealPKIRotation(b *testing.B) {
	const rotations = 3
	var minLead, issuesPer, renewals float64
	for b.Loop() {
		r := rotatePKI(b, rotations)
		leads, ttl := r.leads()
		minLead = 100
		for _, l := range leads {
			minLead = min(minLead, 100*l.Seconds()/ttl.Seconds())
		}
		issuesPer = float64(r.p.issue.Load()) / float64(len(r.serials))
		renewals = float64(r.p.renew.Load())
		_ = r.b.Close()
	}
	b.ReportMetric(minLead, "min-lead-%")
	b.ReportMetric(issuesPer, "issues/cert")
	b.ReportMetric(renewals, "renewals")
}

type realCertNoLease struct {
	TLS vault.Certificate `live:"vault=pki/issue/web; write=common_name=nolease.example.com"`
}

// TestRealPKINoLease: a role without generate_lease answers with no
// lease_id: the driver follows the certificate's expiration instead (4 s
// TTL), issues a new one before it, and Status shows that expiration.
// One issue request per certificate, no error.
func TestRealPKINoLease(t *testing.T) {
	t.Parallel()
	s := startPKI(t, "4s", false)
	certs0 := issuedCerts(t, s)
	p := newCountingProxy(t, s)
	b, rec, _ := bind[realCertNoLease](t, clientAt(t, p.URL, baotest.RootToken))
	first := b.Get().TLS
	require.NotEmpty(t, first.SerialNumber)
	require.Empty(t, leases(t, s, "pki/issue/web"), "no lease without generate_lease")
	exp := time.Unix(first.Expiration, 0)
	require.WithinDuration(t, exp, b.Status().Sources[0].LeaseExpires, time.Second, "Status shows the certificate's expiration")
	u := rec.Until(t, "Updated with a new certificate", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && u.Field == "TLS"
	})
	require.NotEqual(t, first.SerialNumber, b.Get().TLS.SerialNumber)
	lead := exp.Sub(u.Time)
	t.Logf("new certificate %s before the old one's expiration (whole seconds)", lead.Round(time.Millisecond))
	require.Positive(t, lead, "the new certificate arrives before the old one expires")
	require.Equal(t, int64(2), p.issue.Load())
	require.Equal(t, certs0+2, issuedCerts(t, s))
	noErrorUpdates(t, rec, "while the certificate is re-issued")
}

type realCertBad struct {
	TLS vault.Certificate `live:"vault=pki/issue/web; write=common_name=app.example.org"`
}

// TestRealPKIBadParameter: a common_name the role does not allow (the
// server answers 400) fails Bind with a *vault.Error naming the field;
// and when the role changes under a running binding, the next issue gives
// an Error update (400, field TLS) that keeps the certificate and shows no
// key, retried with backoff (not once per poll tick), which once the
// 3 s lease has run out also wraps ErrLeaseExpired; the binding recovers
// when the role allows the name again.
func TestRealPKIBadParameter(t *testing.T) {
	t.Parallel()
	s := startPKI(t, "3s", true)
	var bad realCertBad
	_, err := livebind.Bind(t.Context(), &bad, livebind.WithSourceConfig("vault", realClient(t, s, baotest.RootToken)))
	var ve *vault.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, http.StatusBadRequest, ve.StatusCode)
	require.Equal(t, "issue", ve.Op)
	require.ErrorIs(t, err, sources.ErrHTTPStatus)
	var fe *livebind.FieldError
	require.ErrorAs(t, err, &fe)
	require.Contains(t, err.Error(), "TLS")
	t.Logf("Bind error: %v", err)

	p := newCountingProxy(t, s)
	b, rec, logs := bind[realCert](t, clientAt(t, p.URL, baotest.RootToken))
	good := b.Get().TLS
	setRole(t, s, "3s", true, "example.net") // app.example.com is no longer allowed
	u := rec.Until(t, "Error at the next issue", func(u livebind.Update) bool { return u.Kind == livebind.Error })
	require.Equal(t, "TLS", u.Field)
	require.ErrorAs(t, u.Err, &ve)
	require.Equal(t, http.StatusBadRequest, ve.StatusCode)
	leaks(t, "error update", u.String(), good.PrivateKey, good.Certificate)
	leaks(t, "error", u.Err.Error(), good.PrivateKey, good.Certificate)
	require.Equal(t, good, b.Get().TLS, "the last certificate stays")
	failing := time.Now()
	n0 := p.issue.Load()
	time.Sleep(2 * time.Second)
	// MaxBackoff is 300 ms here (realClient): at most ~2 s / 150 ms writes.
	retries := p.issue.Load() - n0
	t.Logf("%d issue requests in 2 s while the server answers 400", retries)
	require.LessOrEqual(t, retries, int64(14), "failed writes are retried with backoff")
	u = rec.Until(t, "Error naming the certificate's end", func(u livebind.Update) bool {
		return u.Kind == livebind.Error && errorsIs(u.Err, vault.ErrLeaseExpired)
	})
	require.ErrorIs(t, u.Err, sources.ErrHTTPStatus)
	leaks(t, "error update", u.String(), good.PrivateKey, good.Certificate)
	setRole(t, s, "3s", true, "example.com")
	rec.Until(t, "Updated after the role allows the name again", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && u.Field == "TLS" && u.Time.After(failing)
	})
	require.NotEqual(t, good.SerialNumber, b.Get().TLS.SerialNumber)
	leaks(t, "logs", logs.String(), good.PrivateKey, b.Get().TLS.PrivateKey)
}

type realCertOnKV struct {
	X string `live:"vault=secret/issue/app#x; write=common_name=a.example.com"`
}

// TestRealPKIWriteOnlyToPKI: write= on an issue-shaped path of a KV mount
// fails Bind before any write is sent (the mount is detected first), and
// write= on another path shape or with a typo is a Bind error from the
// scheme's check.
func TestRealPKIWriteOnlyToPKI(t *testing.T) {
	t.Parallel()
	s := baotest.Start(t)
	p := newCountingProxy(t, s)
	var c realCertOnKV
	_, err := livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("vault", clientAt(t, p.URL, baotest.RootToken)))
	require.ErrorContains(t, err, "only for <mount>/issue/<role> of a PKI mount")
	require.ErrorContains(t, err, "type kv")
	require.Zero(t, p.issue.Load(), "nothing was written")
	status, _, derr := s.Do(http.MethodGet, "secret/data/issue/app", nil)
	require.NoError(t, derr)
	require.Equal(t, http.StatusNotFound, status, "the KV mount holds nothing")

	cfg := clientAt(t, p.URL, baotest.RootToken)
	for want, err := range map[string]error{
		"only for <mount>/issue/<role>": bindErr[writeNotIssue](t, cfg),
		"wirte":                         bindErr[writeTypo](t, cfg),
		"not name=value":                bindErr[writeNoValue](t, cfg),
		"takes no kv=":                  bindErr[writeWithKV](t, cfg),
	} {
		require.ErrorIs(t, err, livebind.ErrTag, want)
		require.ErrorContains(t, err, want)
	}
	require.Zero(t, p.issue.Load())
}

// bindErr binds a T and returns Bind's error.
func bindErr[T any](t *testing.T, cfg any) error {
	t.Helper()
	var c T
	b, err := livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("vault", cfg))
	if err == nil {
		_ = b.Close()
	}
	return err
}

type (
	writeNotIssue struct {
		X string `live:"vault=pki/creds/web; write=common_name=a"`
	}
	writeTypo struct {
		X string `live:"vault=pki/issue/web; wirte=common_name=a"`
	}
	writeNoValue struct {
		X string `live:"vault=pki/issue/web; write=common_name"`
	}
	writeWithKV struct {
		X string `live:"vault=pki/issue/web; write=a=1; kv=1"`
	}
)
