package file

import (
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFallbackBackend runs the notification tests again in a child process
// that uses the fsnotify backend, where the close-aware one exists: both
// must keep every guarantee.
func TestFallbackBackend(t *testing.T) {
	if os.Getenv(fallbackEnv) != "" {
		t.Skip("this is the child")
	}
	if testing.Short() {
		t.Skip("the child runs the suite again")
	}
	if _, err := newCloseNotifier(); err != nil {
		t.Skipf("no close-aware backend on %s: the suite ran on fsnotify", runtime.GOOS)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.count=1",
		"-test.run=Watch|Kube|Symlink|Dir|Conformance|Editor|Event|Close|Append|Limit|Link")
	cmd.Env = append(os.Environ(), fallbackEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "fsnotify backend:\n%s", out)
}

// TestBackendChosen checks which backend a watch uses: the close-aware one
// where it exists, unless forced to fall back.
func TestBackendChosen(t *testing.T) {
	n, err := newNotifier()
	require.NoError(t, err)
	defer func() { require.NoError(t, n.Close()) }()
	want := runtime.GOOS == "linux" && os.Getenv(fallbackEnv) == ""
	require.Equal(t, want, n.closeEvents())
}
