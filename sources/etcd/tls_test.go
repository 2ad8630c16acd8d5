package etcd_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/etcdtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/etcd"
)

// testCA is a throwaway certificate authority for the TLS tests.
type testCA struct {
	fixture.Cert
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	c := fixture.NewCA(t, "livebind test CA")
	pool := x509.NewCertPool()
	pool.AddCert(c.Cert)
	return &testCA{Cert: c, pool: pool}
}

// issue returns a certificate for 127.0.0.1 signed by the CA, usable by a
// server and a client, written as PEM files in dir.
func (ca *testCA) issue(t *testing.T, dir, name string) (tls.Certificate, string, string) {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	c := fixture.Certify(t, &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, &ca.Cert)
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	require.NoError(t, os.WriteFile(certFile, c.CertPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, c.KeyPEM, 0o600))
	pair, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	require.NoError(t, err)
	return pair, certFile, keyFile
}

// TestBindMutualTLS: a member that requires client certificates. A client
// with the CA and a certificate binds and follows changes; one without a
// certificate fails Bind with a typed ErrUnavailable error.
func TestBindMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t)
	_, srvCert, srvKey := ca.issue(t, dir, "server")
	clientPair, _, _ := ca.issue(t, dir, "client")
	caFile := filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(caFile, ca.CertPEM, 0o600))
	s := etcdtest.Start(t, etcdtest.WithTLS(srvCert, srvKey, caFile))

	tlsConfig := &tls.Config{RootCAs: ca.pool, Certificates: []tls.Certificate{clientPair}, MinVersion: tls.VersionTLS12}
	admin, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint()}, TLS: tlsConfig, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	put(t, admin, "tls/v", "one")

	type config struct {
		V string `live:"etcd=tls/v; format=text; timeout=2s"`
	}
	b, rec := bindtest.Bind[config](t, "etcd", etcd.Config{Endpoints: []string{s.Endpoint()}, TLS: tlsConfig})
	require.Equal(t, "one", b.Get().V)
	put(t, admin, "tls/v", "two")
	rec.Until(t, "two", bindtest.HasNew("two"))

	var c config
	noCert := &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}
	_, err = livebind.Bind(t.Context(), &c, livebind.WithSourceConfig("etcd", etcd.Config{Endpoints: []string{s.Endpoint()}, TLS: noCert}))
	require.ErrorIs(t, err, sources.ErrUnreachable)
	require.ErrorContains(t, err, `key "tls/v"`)
}
