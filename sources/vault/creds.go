package vault

import (
	"crypto/tls"
	"fmt"
	"time"
)

// Credentials is the shape of a database secret (database/creds/<role> or
// database/static-creds/<role>) for a field that reads the whole secret:
//
//	DB vault.Credentials `live:"vault=database/creds/app"`
//
// Username and password come from one answer and are published in one
// generation, so whatever reads the field (an update= method that builds
// a connection pool) never sees a user with another user's password, as
// two fields tagged #username and #password could if read by different
// parts of the program at different times. Other keys of the secret
// (a static role's last_vault_rotation, rotation_period) are ignored.
//
// Its String and GoString show the username only, so printing it never
// shows the password.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// String shows the username and hides the password.
func (c Credentials) String() string {
	if c.Password == "" {
		return "{" + c.Username + " (no password)}"
	}
	return "{" + c.Username + " [password hidden]}"
}

// GoString is String, for %#v.
func (c Credentials) GoString() string { return "vault.Credentials" + c.String() }

// Certificate is the shape of a certificate issued by a PKI mount
// (vault=pki/issue/<role>; write=common_name=...) for a field that reads
// the whole answer:
//
//	TLS vault.Certificate `live:"vault=pki/issue/web; write=common_name=app.example.com&ttl=24h"`
//
// The certificate and its private key come from one answer and change in
// one generation, so a TLS config built from the field never pairs a
// certificate with another certificate's key. Its String and GoString
// show the serial number and expiration only, never the private key.
type Certificate struct {
	Certificate    string   `json:"certificate"`      // PEM, the leaf
	IssuingCA      string   `json:"issuing_ca"`       // PEM
	CAChain        []string `json:"ca_chain"`         // PEM, the issuer first
	PrivateKey     string   `json:"private_key"`      // PEM
	PrivateKeyType string   `json:"private_key_type"` // "rsa", "ec" or "ed25519"
	SerialNumber   string   `json:"serial_number"`    // colon-separated hex
	Expiration     int64    `json:"expiration"`       // Unix seconds
}

// TLSCertificate parses the certificate, its chain and its private key
// into a tls.Certificate (with Leaf set), for a tls.Config. Its errors
// never quote the key.
func (c Certificate) TLSCertificate() (tls.Certificate, error) {
	chain := c.Certificate
	for _, ca := range c.CAChain {
		if ca != c.Certificate {
			chain += "\n" + ca
		}
	}
	pair, err := tls.X509KeyPair([]byte(chain), []byte(c.PrivateKey))
	if err != nil {
		// crypto/tls errors name PEM block types, never key material.
		return tls.Certificate{}, fmt.Errorf("vault: certificate %s: %w", c.SerialNumber, err)
	}
	return pair, nil
}

// String shows the serial number and expiration and hides the key.
func (c Certificate) String() string {
	key := "no private key"
	if c.PrivateKey != "" {
		key = "private key hidden"
	}
	return "{serial " + c.SerialNumber + ", expires " + time.Unix(c.Expiration, 0).UTC().Format(time.RFC3339) + " [" + key + "]}"
}

// GoString is String, for %#v.
func (c Certificate) GoString() string { return "vault.Certificate" + c.String() }
