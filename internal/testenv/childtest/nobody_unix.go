//go:build unix

package childtest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// NobodyUID is the uid (and gid) AsNobody runs the child as.
const NobodyUID = 65534

// AsNobody runs this test binary again as user nobody (uid and gid 65534),
// running only the tests matching pattern with env added to the
// environment, and returns the child's output. The binary is copied into a
// directory nobody can read first (t.TempDir's parent is opened to 0755).
// It skips the test when the process may not change user (not root), and
// fails it when the child fails or passes no test.
func AsNobody(t *testing.T, pattern string, env ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, filepath.Base(exe))
	if err := copyExecutable(exe, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bin, "-test.run="+pattern, "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "TMPDIR=/tmp", "HOME=/tmp"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: NobodyUID, Gid: NobodyUID}}
	out, err := cmd.CombinedOutput()
	switch {
	case errors.Is(err, syscall.EPERM):
		t.Skipf("cannot run as nobody: %v", err)
	case err != nil:
		t.Fatalf("the child run as nobody failed: %v\n%s", err, out)
	case !strings.Contains(string(out), "--- PASS"):
		t.Fatalf("the child run as nobody passed no test:\n%s", out)
	}
	return string(out)
}

// copyExecutable copies the file at from to a new executable file to.
func copyExecutable(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		return err
	}
	return dst.Close()
}
