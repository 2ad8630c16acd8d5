package file

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// kernelWatches counts the inotify watches of the driver's notifier as
// the kernel lists them (/proc/self/fdinfo), when it is the close-aware
// backend.
func kernelWatches(tb testing.TB, d *driver) (int, bool) {
	tb.Helper()
	d.mu.Lock()
	n, ok := d.w.(*inotify)
	d.mu.Unlock()
	if !ok {
		return 0, false
	}
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", n.fd))
	require.NoError(tb, err)
	return strings.Count(string(info), "inotify wd:"), true
}
