package file

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/livebind/livebind/internal/testenv/childtest"
)

// TestOpenNeverTakesATerminal: readBounded refuses a terminal from stat,
// but the path may be swapped to one between that stat and the open. A
// session leader without a controlling terminal (a daemon) that opens a
// terminal without O_NOCTTY makes it its controlling terminal: a hangup
// there would then signal the service. The body runs in a child, which
// makes itself such a session leader.
func TestOpenNeverTakesATerminal(t *testing.T) {
	res := childtest.Run(t, childtest.Limits{Timeout: 20 * time.Second, Heap: 128 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
		_, err := unix.Setsid()
		require.NoError(t, err, "setsid")
		require.Zero(t, controllingTTY(t), "no controlling terminal after setsid")
		master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			t.Skipf("no pseudo-terminals here: %v", err)
		}
		defer master.Close()
		require.NoError(t, unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0), "unlockpt")
		n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
		require.NoError(t, err, "ptsname")
		tty, err := openNoBlock(fmt.Sprintf("/dev/pts/%d", n))
		if err != nil {
			t.Skipf("cannot open the pseudo-terminal: %v", err)
		}
		defer tty.Close()
		require.Zero(t, controllingTTY(t), "opening a terminal made it the controlling terminal")
	})
	if strings.Contains(res.Output, "--- SKIP") && strings.Contains(res.Output, "pseudo-terminal") {
		t.Skipf("child: %v", res)
	}
	require.True(t, res.OK(), "child: %v", res)
}

// controllingTTY returns the device number of the process's controlling
// terminal, 0 for none (field 7 of /proc/self/stat).
func controllingTTY(tb testing.TB) int {
	tb.Helper()
	stat, err := os.ReadFile("/proc/self/stat")
	require.NoError(tb, err)
	// The command name (field 2) may hold spaces: fields are counted
	// after its closing parenthesis.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	var state string
	var ppid, pgrp, session, ttyNr int
	_, err = fmt.Sscan(rest, &state, &ppid, &pgrp, &session, &ttyNr)
	require.NoError(tb, err)
	return ttyNr
}
