package livebind

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
)

// The cache must trust nothing it finds on disk (issue 17, part 1).

// twoRemotes reads two documents of one server; each is cached on its own.
type twoRemotes struct {
	A struct {
		Name string `json:"name"`
	} `live:"http=http://${ADDR}/a.json; poll=1h"`
	B struct {
		Name string `json:"name"`
	} `live:"http=http://${ADDR}/b.json; poll=1h"`
}

// primeCache binds once with the server up so both entries are written,
// then takes the server down. It returns the server, the environment and
// the entry paths.
func primeCache(t *testing.T, dir string) (rm *fixture.Remote, env *testEnv, entryA, entryB string) {
	t.Helper()
	rm = fixture.ServeRemote(t, "good", true)
	env = newEnv("ADDR", rm.Addr)
	var cfg twoRemotes
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup), WithCache(dir))
	require.NoError(t, err)
	require.Equal(t, "a-good", cfg.A.Name)
	entryA, _ = b.cachePath(b.targets[0])
	entryB, _ = b.cachePath(b.targets[1])
	require.NoError(t, b.Close())
	rm.Set("good", http.StatusServiceUnavailable)
	require.FileExists(t, entryA)
	require.FileExists(t, entryB)
	return rm, env, entryA, entryB
}

// bindWith binds twoRemotes with the cache in dir.
func bindWith(t *testing.T, env *testEnv, dir string) (*Binding[twoRemotes], twoRemotes, error) {
	t.Helper()
	var cfg twoRemotes
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup), WithCache(dir))
	if err == nil {
		t.Cleanup(func() { _ = b.Close() })
	}
	return b, cfg, err
}

// refusedAtBind checks that with the server down Bind fails, naming the
// refused entry and why, and does not start from it; and that with the
// server up the refusal shows in Status while the server's value serves.
func refusedAtBind(t *testing.T, rm *fixture.Remote, env *testEnv, dir string, source int, why string) {
	t.Helper()
	_, cfg, err := bindWith(t, env, dir)
	require.ErrorIs(t, err, ErrCache)
	require.ErrorIs(t, err, ErrSource)
	assert.Contains(t, err.Error(), why)
	assert.Empty(t, cfg.A.Name)
	assert.Empty(t, cfg.B.Name)

	rm.Set("fresh", http.StatusOK)
	defer rm.Set("fresh", http.StatusServiceUnavailable)
	b, cfg, err := bindWith(t, env, dir)
	require.NoError(t, err)
	assert.Equal(t, "a-fresh", cfg.A.Name)
	s := b.Status().Sources[source]
	assert.False(t, s.FromCache)
	assert.Contains(t, s.CacheError, why)
}

func TestHostileCacheTrustedRoundTrip(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "cache")
	_, env, _, _ := primeCache(t, dir)
	key, err := os.Stat(filepath.Join(dir, cacheKeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), key.Mode().Perm())
	d, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), d.Mode().Perm())

	b, cfg, err := bindWith(t, env, dir)
	require.NoError(t, err)
	assert.Equal(t, "a-good", cfg.A.Name)
	assert.Equal(t, "b-good", cfg.B.Name)
	for _, s := range b.Status().Sources {
		assert.True(t, s.FromCache, s.Source)
		assert.Empty(t, s.CacheError, s.Source)
	}
}

// TestHostileCacheRefusedEntries: an entry that was changed, moved, written
// before entries were authenticated, made writable, replaced by a link, or
// signed by another key is refused: with the server down Bind fails naming
// the entry and why; with it up the server's value serves and Status says
// why the entry was refused.
func TestHostileCacheRefusedEntries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		source int
		why    string
		spoil  func(t *testing.T, dir, entryA, entryB string)
	}{
		{"tampered", 0, "fails authentication", func(t *testing.T, _, entryA, _ string) {
			t.Helper()
			// Change the value but keep the MAC, the format and everything else.
			raw, err := os.ReadFile(entryA)
			require.NoError(t, err)
			var e map[string]any
			require.NoError(t, json.Unmarshal(raw, &e))
			e["data"] = []byte(`{"name": "evil"}`)
			raw, err = json.Marshal(e)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(entryA, raw, 0o600))
		}},
		{"moved", 1, "copied from another source", func(t *testing.T, _, entryA, entryB string) {
			t.Helper()
			// A's entry, authentic for A, put where B's entry belongs.
			raw, err := os.ReadFile(entryA)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(entryB, raw, 0o600))
		}},
		{"unauthenticated", 0, "not authenticated", func(t *testing.T, _, entryA, _ string) {
			t.Helper()
			// An entry as livebind wrote it before entries were authenticated.
			old, err := json.Marshal(map[string]any{"source": "x", "saved": time.Now(), "data": []byte(`{"name": "old"}`)})
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(entryA, old, 0o600))
		}},
		{"forged key", 1, "fails authentication", func(t *testing.T, dir, _, _ string) {
			t.Helper()
			// A new key (as an attacker who could write the key would
			// install) makes every entry fail, rather than letting forged
			// entries in.
			require.NoError(t, os.WriteFile(filepath.Join(dir, cacheKeyFile), make([]byte, cacheKeySize), 0o600))
		}},
		{"entry writable", 0, "entry writable by others (mode 0666)", func(t *testing.T, _, entryA, _ string) {
			t.Helper()
			require.NoError(t, os.Chmod(entryA, 0o666))
		}},
		{"entry symlink", 0, "symbolic link", func(t *testing.T, _, entryA, entryB string) {
			t.Helper()
			require.NoError(t, os.Remove(entryA))
			require.NoError(t, os.Symlink(entryB, entryA))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rm, env, entryA, entryB := primeCache(t, dir)
			tc.spoil(t, dir, entryA, entryB)
			refusedAtBind(t, rm, env, dir, tc.source, tc.why)
		})
	}
}

// bindFails binds with the cache in dir and returns the error.
func bindFails(t *testing.T, dir string) error {
	t.Helper()
	var cfg twoRemotes
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("ADDR", "127.0.0.1:1").lookup), WithCache(dir))
	if err == nil {
		_ = b.Close()
	}
	return err
}

// dirWithMode is a spoil of TestHostileCacheModes: a new directory with
// mode.
func dirWithMode(mode os.FileMode) func(t *testing.T) string {
	return func(t *testing.T) string {
		t.Helper()
		dir := t.TempDir()
		require.NoError(t, os.Chmod(dir, mode))
		return dir
	}
}

// TestHostileCacheModes: a cache directory or key file that others could
// write or read, a short key and a key behind a link fail Bind with an
// error wrapping ErrCache that says why.
func TestHostileCacheModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		why  string
		// spoil prepares the cache and returns the directory to bind with.
		spoil func(t *testing.T) string
		// io: the directory cannot even be made, an I/O error rather than
		// a refusal (no ErrCache).
		io bool
	}{
		{"dir/world-writable", "writable by others (mode 0777)", dirWithMode(0o777), false},
		{"dir/group-writable", "writable by others (mode 0770)", dirWithMode(0o770), false},
		{"dir/not-a-directory", "not a directory", func(t *testing.T) string {
			t.Helper()
			path := filepath.Join(t.TempDir(), "file")
			require.NoError(t, os.WriteFile(path, nil, 0o600))
			return path
		}, true},
		{"key/readable", "key file readable by others (mode 0644)", func(t *testing.T) string {
			t.Helper()
			dir := t.TempDir()
			primeCache(t, dir)
			require.NoError(t, os.Chmod(filepath.Join(dir, cacheKeyFile), 0o644))
			return dir
		}, false},
		{"key/short", "holds 1 bytes, want 32", func(t *testing.T) string {
			t.Helper()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, cacheKeyFile), []byte("k"), 0o600))
			return dir
		}, false},
		{"key/symlink", "symbolic link", func(t *testing.T) string {
			t.Helper()
			dir := t.TempDir()
			other := filepath.Join(t.TempDir(), "k")
			require.NoError(t, os.WriteFile(other, make([]byte, cacheKeySize), 0o600))
			require.NoError(t, os.Symlink(other, filepath.Join(dir, cacheKeyFile)))
			return dir
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := tc.spoil(t)
			err := bindFails(t, dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.why)
			if tc.io {
				return
			}
			require.ErrorIs(t, err, ErrCache)
			var ce *cacheError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, dir, ce.Path[:min(len(dir), len(ce.Path))], "names the refused directory or a file in it")
		})
	}
}

// TestHostileCacheSymlinkReplacedOnWrite: a link planted where an entry is
// written is replaced by the entry, never written through.
func TestHostileCacheSymlinkReplacedOnWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(victim, []byte("keep"), 0o600))
	rm := fixture.ServeRemote(t, "up", true)
	env := newEnv("ADDR", rm.Addr)
	b, _, err := bindWith(t, env, dir)
	require.NoError(t, err)
	entryA, _ := b.cachePath(b.targets[0])
	require.NoError(t, b.Close())
	require.NoError(t, os.Remove(entryA))
	require.NoError(t, os.Symlink(victim, entryA))
	rm.Set("new", http.StatusOK)
	b, _, err = bindWith(t, env, dir)
	require.NoError(t, err)
	require.NoError(t, b.Close())
	got, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(got), "written through the link")
	fi, err := os.Lstat(entryA)
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular(), "the link was replaced by the entry")
}

// attackEnv tells a test binary re-executed as nobody where to plant the
// attacker's cache.
const attackEnv = "LIVEBIND_CACHE_ATTACK_DIR"

// TestHostileCacheForeignOwner replays the review's attack with a real
// second user: nobody creates the cache directory first inside a shared
// sticky directory (0777, with a planted entry); the process (root) must
// refuse it with a reason instead of loading the attacker's value. A cache
// directory that root made and chowned to nobody is refused as well.
func TestHostileCacheForeignOwner(t *testing.T) {
	if os.Getenv(attackEnv) != "" {
		t.Skip("the attacker's half runs in TestHostileCacheAttacker")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a second user (nobody)")
	}
	shared := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(shared), 0o755))
	require.NoError(t, os.Chmod(shared, 0o1777)) // like /tmp
	cache := filepath.Join(shared, "app-cache")
	childtest.AsNobody(t, "^TestHostileCacheAttacker$", attackEnv+"="+cache)
	fi, err := os.Stat(cache)
	require.NoError(t, err)
	uid, _ := fileOwner(fi)
	require.Equal(t, childtest.NobodyUID, uid, "the attacker's directory")

	err = bindFails(t, cache)
	require.ErrorIs(t, err, ErrCache)
	assert.Contains(t, err.Error(), "owned by uid 65534, not by this process's uid 0")

	// A private (0700) directory owned by someone else: refused too.
	other := filepath.Join(t.TempDir(), "c")
	require.NoError(t, os.Mkdir(other, 0o700))
	require.NoError(t, os.Chown(other, 65534, 65534))
	err = bindFails(t, other)
	require.ErrorIs(t, err, ErrCache)
	assert.Contains(t, err.Error(), "owned by uid 65534")

	// An entry file owned by another user inside our own directory.
	dir := t.TempDir()
	rm, env, entryA, _ := primeCache(t, dir)
	require.NoError(t, os.Chown(entryA, 65534, 65534))
	refusedAtBind(t, rm, env, dir, 0, "entry owned by uid 65534")
}

// TestHostileCacheAttacker is the attacker's half of
// TestHostileCacheForeignOwner, run as nobody: it creates the cache
// directory 0777 and plants a key and an entry for a source.
func TestHostileCacheAttacker(t *testing.T) {
	dir := os.Getenv(attackEnv)
	if dir == "" {
		t.Skip("runs only as nobody, from TestHostileCacheForeignOwner")
	}
	require.NotEqual(t, 0, os.Geteuid())
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	require.NoError(t, os.Mkdir(dir, 0o777))
	require.NoError(t, os.WriteFile(filepath.Join(dir, cacheKeyFile), make([]byte, cacheKeySize), 0o666))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "livebind-planted.json"), []byte(`{"v":2,"data":"e30="}`), 0o666))
}
