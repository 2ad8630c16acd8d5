package vault_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/vault"
)

// TestHostileServerErrorBodyIsBounded: a server at VAULT_ADDR that answers
// 404, 403 or 500 with an endless body must produce an error update
// wrapping sources.ErrTooLarge (not ErrUnreachable: it did answer) that
// names the path, never an unbounded
// allocation: the api client copies the whole body of a non-2xx answer
// before the driver sees it. Runs in a child process under a heap watchdog.
func TestHostileServerErrorBodyIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		if i := strings.LastIndex(r.URL.Path, "-"); i >= 0 {
			status, _ = strconv.Atoi(r.URL.Path[i+1:])
		}
		w.Header().Set("Content-Type", "application/json")
		fixture.WriteEndless(w, r, status, `{"errors":["`)
	}))
	defer srv.Close()
	t.Setenv("VAULT_ADDR", srv.URL)
	t.Setenv("VAULT_TOKEN", "hostile-test-token")
	t.Setenv("VAULT_NAMESPACE", "")
	t.Setenv("VAULT_MAX_RETRIES", "0")

	res := childtest.Run(t, childtest.Limits{Timeout: 30 * time.Second, Heap: 256 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		d := openDriver(t, vault.Config{})
		for _, path := range []string{"secret/big-404", "secret/big-403", "secret/big-500"} {
			r := d.Read(t.Context(), target(path+"#v", time.Second, map[string]string{"kv": "2", "mount": "secret"}))
			require.ErrorIs(t, r.Err, sources.ErrTooLarge, "path %s", path)
			require.NotErrorIs(t, r.Err, sources.ErrUnreachable, "path %s: the server did answer", path)
			var e *vault.Error
			require.True(t, errors.As(r.Err, &e), "path %s: %T", path, r.Err)
			require.Contains(t, e.Error(), strings.TrimPrefix(path, "secret/"))
		}
	})
	require.True(t, res.OK(), "%s", res)
}
