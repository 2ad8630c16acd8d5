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
