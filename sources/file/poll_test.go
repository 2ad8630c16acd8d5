package file

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

func pollTarget(path string) *sources.Target {
	tg := target(path)
	tg.Poll = 50 * time.Millisecond
	return tg
}

func TestPoll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.toml")
	writeFile(t, path, v1)
	d := openDriver(t)
	w, _ := startWatch(t, d, pollTarget(path))

	writeFile(t, path, v2)
	w.wantData(t, v2)
	writeAtomic(t, path, v3)
	w.wantData(t, v3)
	require.NoError(t, os.Remove(path))
	w.wantMissing(t)
	writeFile(t, path, v1)
	w.wantData(t, v1)

	require.NoError(t, os.RemoveAll(dir))
	w.wantMissing(t)
	require.NoError(t, os.Mkdir(dir, 0o755))
	writeFile(t, path, v2)
	w.wantData(t, v2)
	w.wantNone(t, path)

	d.mu.Lock()
	defer d.mu.Unlock()
	require.Nil(t, d.w, "polling creates no watcher")
}

// Content that changes without changing size or modification time is seen
// while the modification time is recent (racy window).
func TestPollRacyMtime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.toml")
	writeFile(t, path, "name = \"aaa\"\n")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	w, _ := startWatch(t, openDriver(t), pollTarget(path))

	time.Sleep(100 * time.Millisecond) // a couple of polls
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("name = \"bbb\"\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.Chtimes(path, fi.ModTime(), fi.ModTime()))
	w.wantData(t, "name = \"bbb\"\n")
}

func TestPollEmptyAndCheck(t *testing.T) {
	path := appFile(t, v1)
	tg := pollTarget(path)
	tg.Check = checkTOML
	w, _ := startWatch(t, openDriver(t), tg)

	require.NoError(t, os.Truncate(path, 0))
	w.wantErr(t, sources.ErrEmpty)
	writeFile(t, path, half)
	w.wantErr(t, errBadLine)
	writeFile(t, path, v2)
	w.wantData(t, v2)
}
