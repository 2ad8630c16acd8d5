package sources_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// HeaderSecrets lists long header values and their long words, never a
// short value that would take apart unrelated text.
func TestHeaderSecrets(t *testing.T) {
	t.Parallel()
	h := http.Header{"Authorization": {"Bearer abcdefgh123"}, "X-Team": {"config"}}
	got := sources.HeaderSecrets(h, "key-12345678", "short")
	require.ElementsMatch(t, []string{"Bearer abcdefgh123", "abcdefgh123", "key-12345678"}, got)
	require.Empty(t, sources.HeaderSecrets(nil))
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
