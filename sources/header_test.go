package sources_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// HeaderSecrets lists the values of credential headers and their words
// from 4 bytes (but the scheme word of Authorization), those of other
// headers from 8 bytes, never a short value of an ordinary header that
// would take apart unrelated text.
func TestHeaderSecrets(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Authorization": {"Bearer ab12"},         // short token: listed, "Bearer" is not
		"X-Api-Key":     {"k3y9"},                // short key: listed
		"X-Team":        {"config"},              // ordinary and short: not listed
		"Accept":        {"application/json"},    // ordinary and long: listed
		"Cookie":        {"sid=q7x; theme=dark"}, // credential: value and its words
		"X-Vault-Token": {"abc"},                 // under 4 bytes: not listed
	}
	got := sources.HeaderSecrets(h, http.Header{"Proxy-Authorization": {"Basic dXNlcjpwdw=="}})
	require.ElementsMatch(t, []string{
		"ab12", "Bearer ab12", "k3y9", "application/json",
		"sid=q7x; theme=dark", "sid=q7x;", "theme=dark", "Basic dXNlcjpwdw==", "dXNlcjpwdw==",
	}, got)
	require.Empty(t, sources.HeaderSecrets())
	require.Empty(t, sources.HeaderSecrets(nil, http.Header{"": {""}}))
}

// A server that echoes a short credential header back cannot put it in
// an error text; an ordinary header's short value is left, so that
// words of the message ("json") stay readable.
func TestServerTextScrubsShortCredentialHeader(t *testing.T) {
	t.Parallel()
	secrets := sources.RequestSecrets(nil, http.Header{"X-Api-Key": {"k3y9"}, "Accept": {"json"}})
	got := sources.ServerText(`bad key "k3y9": want json`, secrets...)
	require.Equal(t, `bad key "<token>": want json`, got)
}

// TestParseHeaderControl: a value net/http refuses to send (a control
// character other than tab, DEL) is refused when the option is checked,
// at Bind, not at every request; the refusal does not quote the value.
func TestParseHeaderControl(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"X-Key: a\x01S3CRETb", "X-Key: a\x7fS3CRETb", "X-Key: a\rS3CRETb"} {
		_, _, err := sources.ParseHeader(v)
		require.Error(t, err, "%q", v)
		require.NotContains(t, err.Error(), "S3CRET")
	}
	name, value, err := sources.ParseHeader("X-Key: a\tb é")
	require.NoError(t, err)
	require.Equal(t, "X-Key", name)
	require.Equal(t, "a\tb é", value)
}
