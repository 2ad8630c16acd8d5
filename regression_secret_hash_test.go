package livebind

import (
	"bytes"
	"encoding/hex"
	"hash/fnv"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fnvHex(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func TestRegressionSecretHashInStatusAndCache(t *testing.T) {
	dir := t.TempDir()
	cdir := t.TempDir()
	addr, stop := serveCached(t, "x")
	defer stop()
	writeFile(t, dir, "pw", "hunter2")
	type cfgT struct {
		Token string `live:"http=http://${ADDR}/token; format=text; poll=1h; secret"`
		PW    string `live:"file=${DIR}/pw; secret"`
	}
	seal := func(p []byte) ([]byte, error) { return append([]byte("sealed:"), reverse(p)...), nil }
	open := func(c []byte) ([]byte, error) { return reverse(bytes.TrimPrefix(c, []byte("sealed:"))), nil }
	var cfg cfgT
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("ADDR", addr, "DIR", dir).lookup), WithCache(cdir), WithCacheEncryption(seal, open))
	require.NoError(t, err)
	defer b.Close()
	for _, s := range b.Status().Sources {
		t.Logf("%s version=%s", s.Source, s.Version)
	}
	assert.NotEqual(t, fnvHex("hunter2"), b.Status().Sources[1].Version, "Status must not carry an unsalted FNV of the secret")
	files, _ := filepath.Glob(filepath.Join(cdir, "livebind-*.json"))
	require.Len(t, files, 1)
	raw, _ := os.ReadFile(files[0])
	t.Logf("cache: %s", raw)
	assert.NotContains(t, string(raw), fnvHex(cacheSecret), "sealed entry carries an FNV of the clear secret")
}

func TestRegressionFromCacheNeverClears(t *testing.T) {
	cdir := t.TempDir()
	var fail atomic.Bool
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name": "n"}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	type cfgT struct {
		Remote struct {
			Name string `json:"name"`
		} `live:"http=http://${ADDR}/conf.json; poll=20ms"`
	}
	env := newEnv("ADDR", ln.Addr().String())
	var c1 cfgT
	b, err := Bind(t.Context(), &c1, WithLookupEnv(env.lookup), WithCache(cdir))
	require.NoError(t, err)
	require.NoError(t, b.Close())

	fail.Store(true)
	var c2 cfgT
	b2, err := Bind(t.Context(), &c2, WithLookupEnv(env.lookup), WithCache(cdir))
	require.NoError(t, err)
	defer b2.Close()
	require.True(t, b2.Status().Sources[0].FromCache)
	fail.Store(false) // the source answers again, with the same bytes
	time.Sleep(300 * time.Millisecond)
	// no reload
	s := b2.Status().Sources[0]
	t.Logf("%+v", s)
	assert.False(t, s.FromCache, "the source has answered")
}
