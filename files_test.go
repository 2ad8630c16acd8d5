package livebind

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileUpdates(t *testing.T) {
	t.Parallel()
	b, rec, dir := recordIssueConfig(t)

	writeFile(t, dir, "app.toml", "name = \"svc2\"\nworkers = 4\ntimeout = \"2s\"\n")
	u := rec.want(t, Updated)
	assert.Equal(t, "Settings", u.Field)
	assert.Equal(t, "file:"+filepath.Join(dir, "app.toml"), u.Source)
	assert.Equal(t, "svc", u.Old.(appSettings).Name)
	assert.Equal(t, "svc2", u.New.(appSettings).Name)
	assert.Equal(t, uint64(2), u.Gen)
	assert.Equal(t, "svc2", b.Get().Settings.Name)

	// The YAML file appears: its key is Added.
	writeFile(t, dir, "app.yaml", "server:\n  port: 9090\n")
	u = rec.want(t, Added)
	assert.Equal(t, "Port", u.Field)
	assert.Equal(t, 9090, b.Get().Port)

	// The key disappears from the document: back to the default.
	writeFile(t, dir, "app.yaml", "server:\n  host: x\n")
	u = rec.want(t, Updated)
	assert.Equal(t, 8080, u.New)
	assert.Equal(t, 8080, b.Get().Port)
}

func TestFileBadInputKeepsLastGood(t *testing.T) {
	t.Parallel()
	b, rec, dir := recordIssueConfig(t)
	good := *b.Get()
	for _, tc := range []struct {
		name, data string
		want       error
	}{
		{name: "syntax", data: "name = \n", want: ErrDecode},
		{name: "wrong-type", data: "workers = \"many\"\n", want: ErrDecode},
		{name: "empty", data: "", want: ErrEmpty},
	} {
		writeFile(t, dir, "app.toml", tc.data)
		u := rec.next(t, wait)
		require.Equal(t, Error, u.Kind, tc.name)
		assert.ErrorIs(t, u.Err, tc.want, tc.name)
		fe := fieldError(t, u.Err, "Settings", tc.name)
		assert.Contains(t, fe.Source, "app.toml")
		assert.Equal(t, good, *b.Get(), "%s: last good value kept", tc.name)
		assert.Equal(t, uint64(1), u.Gen)
	}
	saveName(t, b, rec, dir, "fixed", Updated)
}

func TestFileRemovedThenBack(t *testing.T) {
	t.Parallel()
	b, rec, dir := recordIssueConfig(t)
	path := filepath.Join(dir, "app.toml")
	require.NoError(t, os.Remove(path))
	rec.want(t, Removed)
	assert.Equal(t, "svc", b.Get().Settings.Name, "value kept while the file is gone")

	saveName(t, b, rec, dir, "back", Added)
}

// TestFileNeverPublishesPartialWrites truncates the file, then writes an
// unparsable first half, pauses longer than the debounce and writes the
// rest, several times, while a reader checks that Get never shows an empty
// or partial value. (A prefix that happens to be a valid document cannot be
// told from a finished one by anybody; docs/ says so.)
func TestFileNeverPublishesPartialWrites(t *testing.T) {
	t.Parallel()
	b, rec, dir := recordIssueConfig(t)
	path := filepath.Join(dir, "app.toml")
	var bad atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s := b.Get().Settings; s.Name == "" || s.Workers == 0 {
				bad.Add(1)
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
	for i := range 5 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o644)
		require.NoError(t, err)
		time.Sleep(10 * time.Millisecond) // empty for less than debounce=30ms
		_, err = fmt.Fprintf(f, "name = \"v%d", i)
		require.NoError(t, err)
		time.Sleep(40 * time.Millisecond) // half-written for more than the debounce
		_, err = f.WriteString("\"\nworkers = 2\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		u, seen := rec.until(t, wait, func(u Update) bool { return u.Kind == Updated })
		assert.Equal(t, fmt.Sprintf("v%d", i), u.New.(appSettings).Name)
		assert.Equal(t, 2, u.New.(appSettings).Workers)
		for _, s := range seen { // only a very slow machine exhausts the retries
			assert.Equal(t, Error, s.Kind, "no intermediate value: %v", s)
		}
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, bad.Load(), "Get showed an empty or partial value")
}

func TestFileAtomicRenameSave(t *testing.T) {
	t.Parallel()
	b, rec, dir := recordIssueConfig(t)
	path := filepath.Join(dir, "app.toml")
	tmp := writeFile(t, dir, ".app.toml.swp", "name = \"renamed\"\n")
	require.NoError(t, os.Rename(tmp, path))
	rec.want(t, Updated)
	assert.Equal(t, "renamed", b.Get().Settings.Name)
	rec.quiet(t, 150*time.Millisecond)
}

// TestKubernetesConfigMap builds the layout kubelet's atomic writer makes
// and swaps ..data the way it does.
func TestKubernetesConfigMap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mkGen := func(name, data string) {
		require.NoError(t, os.Mkdir(filepath.Join(dir, name), 0o755))
		writeFile(t, filepath.Join(dir, name), "app.toml", data)
	}
	mkGen("..2026_11_27_10_00_00.000000001", "name = \"one\"\n")
	require.NoError(t, os.Symlink("..2026_11_27_10_00_00.000000001", filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink("..data/app.toml", filepath.Join(dir, "app.toml")))

	var cfg struct {
		Settings appSettings `live:"file=${DIR}/app.toml"`
	}
	b := bindDir(t, &cfg, dir)
	rec := record(t, b)
	assert.Equal(t, "one", b.Get().Settings.Name)

	mkGen("..2026_11_27_10_01_00.000000002", "name = \"two\"\n")
	require.NoError(t, os.Symlink("..2026_11_27_10_01_00.000000002", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "..2026_11_27_10_00_00.000000001")))
	rec.want(t, Updated)
	assert.Equal(t, "two", b.Get().Settings.Name)
}

// TestFileParentDirectoryRecreated removes the directory holding the file
// and creates it again, with a new file.
func TestFileParentDirectoryRecreated(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "conf")
	require.NoError(t, os.Mkdir(dir, 0o755))
	writeFile(t, dir, "app.toml", "name = \"one\"\n")
	var cfg struct {
		Settings appSettings `live:"file=${DIR}/app.toml"`
	}
	b := bindDir(t, &cfg, dir)
	rec := record(t, b)
	require.NoError(t, os.RemoveAll(dir))
	rec.want(t, Removed)
	assert.Equal(t, "one", b.Get().Settings.Name)
	require.NoError(t, os.Mkdir(dir, 0o755))
	writeFile(t, dir, "app.toml", "name = \"two\"\n")
	rec.want(t, Added)
	assert.Equal(t, "two", b.Get().Settings.Name)
	rec.quiet(t, 100*time.Millisecond)
}

// TestFilePollMode watches with poll= instead of inotify.
func TestFilePollMode(t *testing.T) {
	t.Parallel()
	dir := dirWith(t, "app.json", `{"name": "one"}`)
	var cfg struct {
		Name string `live:"file=${DIR}/app.json; key=name; poll=20ms"`
	}
	b := bindDir(t, &cfg, dir)
	rec := record(t, b)
	writeFile(t, dir, "app.json", `{"name": "two"}`)
	u := rec.want(t, Updated)
	assert.Equal(t, "two", u.New)
	require.NoError(t, os.Remove(filepath.Join(dir, "app.json")))
	rec.want(t, Removed)
	writeFile(t, dir, "app.json", `{"name": "three"}`)
	u = rec.want(t, Added)
	assert.Equal(t, "three", b.Get().Name)
}

// TestSharedFileOneTarget binds several keys of one file: one target, one
// generation per change.
func TestSharedFileOneTarget(t *testing.T) {
	t.Parallel()
	dir := dirWith(t, "app.yaml", "a: 1\nb: 1\nc: x\n")
	var cfg struct {
		A int    `live:"file=${DIR}/app.yaml; key=a"`
		B int    `live:"file=${DIR}/app.yaml; key=b"`
		C string `live:"file=${DIR}/app.yaml; key=c"`
	}
	b := bindDir(t, &cfg, dir)
	assert.Len(t, b.targets, 1)
	rec := record(t, b)
	writeFile(t, dir, "app.yaml", "a: 2\nb: 2\nc: x\n")
	u1, u2 := rec.next(t, wait), rec.next(t, wait)
	assert.Equal(t, []string{"A", "B"}, []string{u1.Field, u2.Field})
	assert.Equal(t, uint64(2), u1.Gen)
	assert.Equal(t, uint64(2), u2.Gen, "one generation for both fields")
	rec.quiet(t, 150*time.Millisecond) // C did not change: no update
}

// recordIssueConfig binds issueConfig (see bindIssueConfig), records its
// updates, and returns the directory of its files.
func recordIssueConfig(t *testing.T) (*Binding[issueConfig], *recorder, string) {
	t.Helper()
	b, _, dir, _ := bindIssueConfig(t)
	return b, record(t, b), dir
}

// saveName writes dir/app.toml of recordIssueConfig holding only name,
// waits for the next update, which must be of kind, and checks that Get
// then shows name.
func saveName(t *testing.T, b *Binding[issueConfig], rec *recorder, dir, name string, kind Kind) {
	t.Helper()
	writeFile(t, dir, "app.toml", fmt.Sprintf("name = %q\n", name))
	rec.want(t, kind)
	assert.Equal(t, name, b.Get().Settings.Name)
}
