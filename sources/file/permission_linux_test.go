package file

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// childEnv marks a test binary re-executed by runAsNobody.
const childEnv = "LIVEBIND_FILE_TEST_AS_NOBODY"

// TestPermissionDenied: an unreadable file reports an error; a chmod alone
// (no write) makes it readable and is reported. Root reads anything, so as
// root the test runs itself again as nobody.
func TestPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		require.Empty(t, os.Getenv(childEnv), "still root in the child")
		runAsNobody(t, "^TestPermissionDenied$")
		return
	}
	path := filepath.Join(t.TempDir(), "app.toml")
	writeFile(t, path, v1)
	w, _ := startWatch(t, openDriver(t), target(path))

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

// runAsNobody runs the test binary again as user nobody, running only the
// tests matching pattern, and fails if they fail.
func runAsNobody(t *testing.T, pattern string) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "file.test")
	copyFile(t, exe, bin)

	cmd := exec.CommandContext(t.Context(), bin, "-test.run="+pattern, "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR=/tmp", "HOME=/tmp")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.EPERM) {
		t.Skipf("cannot run as nobody: %v", err)
	}
	require.NoError(t, err, "child output:\n%s", out)
	require.Contains(t, string(out), "--- PASS: TestPermissionDenied", "child output:\n%s", out)
	t.Logf("child output:\n%s", out)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer func() { _ = src.Close() }()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}
