package file

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// limitEnv marks the test binary re-executed by TestWatchLimit.
const limitEnv = "LIVEBIND_FILE_TEST_WATCH_LIMIT"

// TestWatchLimit runs TestHelperWatchLimit in a child process, which lowers
// its own open files limit until inotify_init1 fails with EMFILE.
func TestWatchLimit(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperWatchLimit$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), limitEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child output:\n%s", out)
	require.Contains(t, string(out), "WATCH-LIMIT-OK:", "child output:\n%s", out)
	require.Contains(t, string(out), "POLL-OK", "child output:\n%s", out)
	t.Logf("child output:\n%s", out)
}

func TestHelperWatchLimit(t *testing.T) {
	if os.Getenv(limitEnv) == "" {
		t.Skip("run by TestWatchLimit in a child process")
	}
	path := appFile(t, v1)
	d := openDriver(t)

	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old))
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	low := old
	low.Cur = uint64(len(fds)) + 1 // just above what is open
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	restored := false
	restore := func() {
		if !restored {
			restored = true
			require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old))
		}
	}
	t.Cleanup(restore)
	// Take whatever descriptors are still free (gaps below the limit).
	var fillers []*os.File
	for range 64 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			require.ErrorIs(t, err, syscall.EMFILE)
			break
		}
		fillers = append(fillers, f)
	}

	_, err = d.Watch(target(path), sources.Result{Data: []byte(v1)}, func(sources.Result) {
		t.Error("emit called for a failed watch")
	})
	for _, f := range fillers {
		require.NoError(t, f.Close())
	}
	restore()
	require.Error(t, err)
	require.ErrorIs(t, err, sources.ErrWatchLimit)
	require.ErrorIs(t, err, syscall.EMFILE)
	require.Contains(t, err.Error(), "max_user_instances")
	require.Contains(t, err.Error(), "poll=")
	require.Contains(t, err.Error(), path)
	fmt.Println("WATCH-LIMIT-OK:", err)

	// The limit again, for polling: it needs no inotify, only one
	// descriptor for each read.
	low.Cur = uint64(len(fds)) + 4
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	restored = false
	w, last := startWatch(t, d, pollTarget(path))
	require.Equal(t, v1, string(last.Data))
	writeFile(t, path, v2)
	w.wantData(t, v2)
	w.Stop()
	restore()
	fmt.Println("POLL-OK")
}
