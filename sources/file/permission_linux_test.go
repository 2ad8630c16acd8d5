package file

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources"
)

// childEnv marks a test binary re-executed as nobody.
const childEnv = "LIVEBIND_FILE_TEST_AS_NOBODY"

// TestPermissionDenied: an unreadable file reports an error; a chmod alone
// (no write) makes it readable and is reported. Root reads anything, so as
// root the test runs itself again as nobody.
func TestPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		require.Empty(t, os.Getenv(childEnv), "still root in the child")
		t.Logf("child output:\n%s", childtest.AsNobody(t, "^TestPermissionDenied$", childEnv+"=1"))
		return
	}
	w, path := watchApp(t, v1)

	// An unreadable file renamed into place.
	require.NoError(t, os.WriteFile(path+".tmp", []byte(v1), 0o644))
	require.NoError(t, os.Chmod(path+".tmp", 0))
	if f, err := os.Open(path + ".tmp"); err == nil {
		_ = f.Close()
		t.Skip("chmod 000 does not deny reads here")
	}
	require.NoError(t, os.Rename(path+".tmp", path))
	msg := w.wantErr(t, fs.ErrPermission)
	require.Contains(t, msg, path)

	require.NoError(t, os.Chmod(path, 0o644)) // a pure chmod event
	w.wantData(t, v1)                         // the same bytes: clears the error

	require.NoError(t, os.Chmod(path, 0)) // chmod on a good file is ignored...
	writeFile(t, path+".other", v2)
	require.NoError(t, os.Chmod(path, 0o644))
	w.wantNone(t, path) // ...so nothing was reported
}

// TestPermissionDeniedDirectory: a file read while its directory denies
// access reports an error; a chmod of the directory that allows it again
// is the fix, and is read. Before, an attribute change of the watched
// directory itself matched no file, so the error stayed until the file
// changed again.
func TestPermissionDeniedDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		require.Empty(t, os.Getenv(childEnv), "still root in the child")
		t.Logf("child output:\n%s", childtest.AsNobody(t, "^TestPermissionDeniedDirectory$", childEnv+"=1"))
		return
	}
	dir := filepath.Join(t.TempDir(), "conf")
	path := filepath.Join(dir, "app.toml")
	require.NoError(t, os.Mkdir(dir, 0o755))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) }) // before TempDir's removal
	writeFile(t, path, v1)
	tg := target(path)
	tg.Debounce = 300 * time.Millisecond // the read comes after the chmod below
	// The watch's first check is not debounced: start from another value,
	// so that it reports v1 and is over before v2 is written.
	w := watchFrom(t, openDriver(t), tg, sources.Result{Data: []byte(v3)})
	w.wantData(t, v1)
	writeFile(t, path, v2)
	require.NoError(t, os.Chmod(dir, 0o200)) // writable, not searchable
	if f, err := os.Open(path); err == nil {
		_ = f.Close()
		t.Skip("chmod 200 does not deny reads here")
	}
	_ = w.wantErr(t, fs.ErrPermission)

	require.NoError(t, os.Chmod(dir, 0o755)) // a pure chmod of the directory
	w.wantData(t, v2)
}
