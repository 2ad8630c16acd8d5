package file

import (
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
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
