package vault

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// TestParseWrite: write= takes name=value pairs joined by "&", with %XX
// escapes, and gives a JSON object with sorted keys; every malformed
// value is an error that says what is wrong.
func TestParseWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		val, want, wantErr string
	}{
		{val: "common_name=app.example.com", want: `{"common_name":"app.example.com"}`},
		{val: "ttl=1h&common_name=a.example.com", want: `{"common_name":"a.example.com","ttl":"1h"}`},
		{val: "alt_names=a.example.com,b.example.com&ip_sans=127.0.0.1", want: `{"alt_names":"a.example.com,b.example.com","ip_sans":"127.0.0.1"}`},
		{val: "other_sans=1.2.3.4;UTF8:x=y", want: `{"other_sans":"1.2.3.4;UTF8:x=y"}`},
		{val: "common_name=a%26b+c", want: `{"common_name":"a\u0026b+c"}`},
		{val: "exclude_cn_from_sans=true&format=pem_bundle", want: `{"exclude_cn_from_sans":"true","format":"pem_bundle"}`},
		{val: "common_name=", want: `{"common_name":""}`},
		{val: "", wantErr: "write= needs parameters"},
		{val: "common_name", wantErr: `"common_name" is not name=value`},
		{val: "a=1&&b=2", wantErr: `"" is not name=value`},
		{val: "=x", wantErr: `parameter name ""`},
		{val: "a b=x", wantErr: `parameter name "a b"`},
		{val: "a=%zz", wantErr: "bad %-escape"},
		{val: "a=1&a=2", wantErr: "a is given twice"},
		{val: strings.Repeat("a=1&", 32) + "b=1", wantErr: "given twice"},
	}
	for _, tt := range tests {
		got, err := parseWrite(tt.val)
		fixture.WantParsed(t, got, err, tt.want, tt.wantErr)
	}
	many := make([]string, maxWriteParams+1)
	for i := range many {
		many[i] = fmt.Sprintf("p%d=x", i)
	}
	_, err := parseWrite(strings.Join(many, "&"))
	require.ErrorContains(t, err, "more than 32 parameters")
}

// FuzzParseWrite: the parser never panics; an accepted value gives a JSON
// object of at most maxWriteParams strings with valid names, and the same
// parameters in another order give the same body.
func FuzzParseWrite(f *testing.F) {
	for _, s := range []string{"common_name=a.example.com&ttl=1h", "a=%26", "a", "=", "a=1&a=2", "a=%zz", "x=1&&", "alt_names=a,b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, val string) {
		body, err := parseWrite(val)
		if err != nil {
			return
		}
		var params map[string]string
		if jerr := json.Unmarshal([]byte(body), &params); jerr != nil {
			t.Fatalf("%q gave a body that is not an object of strings: %v", val, jerr)
		}
		if len(params) == 0 || len(params) > maxWriteParams {
			t.Fatalf("%q gave %d parameters", val, len(params))
		}
		pairs := strings.Split(val, "&")
		for name := range params {
			if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isParamRune(r) }) >= 0 {
				t.Fatalf("%q: accepted the name %q", val, name)
			}
		}
		for i, j := 0, len(pairs)-1; i < j; i, j = i+1, j-1 {
			pairs[i], pairs[j] = pairs[j], pairs[i]
		}
		again, err := parseWrite(strings.Join(pairs, "&"))
		if err != nil || again != body {
			t.Fatalf("%q reversed: %q, %v; want %q", val, again, err, body)
		}
		if !utf8.ValidString(body) {
			t.Fatalf("%q: body is not UTF-8", val)
		}
	})
}

// issuedObs is the data of an issue answer with the given expiration.
func issuedObs(t *testing.T, expiration any) *observation {
	t.Helper()
	data := map[string]any{"certificate": "CERT", "private_key": "KEY-SECRET", "serial_number": "0a:0b"}
	if expiration != nil {
		data["expiration"] = expiration
	}
	raw, err := json.Marshal(data)
	require.NoError(t, err)
	obs, err := newObservation(raw, "")
	require.NoError(t, err)
	return obs
}

// TestCertLease: a certificate is followed by its lease (ended no later
// than the certificate), else by its expiration (versioned by its
// serial); neither, or an expiration in the past, is an error that quotes
// nothing of the answer. Never renewable.
func TestCertLease(t *testing.T) {
	t.Parallel()
	sent := time.Unix(1_700_000_000, 0)
	mid := func() float64 { return 0.5 }

	l, err := certLease(envelope{LeaseID: "pki/issue/web/abc", LeaseDuration: 60}, issuedObs(t, sent.Unix()+60), sent, mid)
	require.NoError(t, err)
	require.Equal(t, "pki/issue/web/abc", l.id)
	require.Equal(t, sent.Add(60*time.Second), l.expiry)
	require.InDelta(t, 0.175*60, l.lead.Seconds(), 0.01, "the lead of leases: 15-20%")
	at, renew := l.plan()
	require.False(t, renew, "a PKI lease is not renewable")
	require.Equal(t, sent.Add(60*time.Second-l.lead), at)

	l, err = certLease(envelope{LeaseID: "pki/issue/web/abc", LeaseDuration: 60}, issuedObs(t, sent.Unix()+30), sent, mid)
	require.NoError(t, err)
	require.Equal(t, sent.Add(30*time.Second), l.expiry, "a lease outliving its certificate ends with it")

	l, err = certLease(envelope{}, issuedObs(t, sent.Unix()+100), sent, mid)
	require.NoError(t, err)
	require.Empty(t, l.id)
	require.Equal(t, "0a:0b", l.obs.version, "without a lease the version is the serial")
	require.Equal(t, sent.Add(100*time.Second), l.expiry)
	require.Equal(t, 100*time.Second, l.ttl)
	_, renew = l.plan()
	require.False(t, renew)

	_, err = certLease(envelope{LeaseID: "pki/issue/web/abc", LeaseDuration: 60}, issuedObs(t, sent.Unix()-10), sent, mid)
	require.ErrorIs(t, err, ErrMalformed, "a lease on a certificate that has expired already")
	for name, obs := range map[string]*observation{
		"no expiration":       issuedObs(t, nil),
		"string expiration":   issuedObs(t, "soon"),
		"negative":            issuedObs(t, -5),
		"fraction":            issuedObs(t, 1.5),
		"expired":             issuedObs(t, sent.Unix()-1),
		"at the sending time": issuedObs(t, sent.Unix()),
	} {
		_, err := certLease(envelope{}, obs, sent, mid)
		require.ErrorIs(t, err, ErrMalformed, name)
		require.NotContains(t, err.Error(), "KEY-SECRET", name)
	}
	require.Equal(t, "the certificate's expiration", leaseName(""))
	require.Equal(t, "lease #2d711642", leaseName("x"))
}

// testCert makes a self-signed EC certificate and its key, as PEM.
func testCert(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	c := fixture.Certify(t, &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "app.example.com"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
	}, nil)
	return string(c.CertPEM), string(c.KeyPEM)
}

// TestCertificate: the value of a whole issue answer decodes into
// Certificate, gives a tls.Certificate, and prints without its key; a key
// that does not match is an error that quotes neither.
func TestCertificate(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := testCert(t)
	raw, err := json.Marshal(map[string]any{
		"certificate": certPEM, "issuing_ca": certPEM, "ca_chain": []string{certPEM},
		"private_key": keyPEM, "private_key_type": "ec", "serial_number": "07", "expiration": 1_700_000_000,
	})
	require.NoError(t, err)
	var c Certificate
	require.NoError(t, json.Unmarshal(raw, &c))
	pair, err := c.TLSCertificate()
	require.NoError(t, err)
	require.Equal(t, "app.example.com", pair.Leaf.Subject.CommonName)
	require.Len(t, pair.Certificate, 1, "the leaf is not repeated from ca_chain")
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v", c, c, c), fmt.Sprint(&c)} {
		require.NotContains(t, s, "PRIVATE KEY")
		require.NotContains(t, s, keyPEM[40:80])
		require.Contains(t, s, "07")
	}
	require.Equal(t, "{serial 07, expires 2023-11-14T22:13:20Z [private key hidden]}", c.String())
	require.Equal(t, "vault.Certificate{serial 07, expires 2023-11-14T22:13:20Z [private key hidden]}", c.GoString())
	require.Contains(t, Certificate{}.String(), "no private key")

	_, otherKey := testCert(t)
	c.PrivateKey = otherKey
	_, err = c.TLSCertificate()
	require.Error(t, err)
	require.NotContains(t, err.Error(), "PRIVATE KEY")
	require.NotContains(t, err.Error(), otherKey[40:80])
	c.PrivateKey = ""
	_, err = c.TLSCertificate()
	require.Error(t, err)
	require.True(t, errors.Unwrap(err) != nil, "the cause of crypto/tls is kept")
}

// TestDocsListOptions: every option of the scheme is in docs/tags.md's
// vault section.
func TestDocsListOptions(t *testing.T) {
	t.Parallel()
	fixture.DocsListOptions(t, "../../docs/tags.md", "vault")
}
