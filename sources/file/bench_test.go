package file

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// BenchmarkWriteToEmit measures the latency from a file write to the emit of
// its new content with the default debounce, which dominates it. Writes are
// spaced by more than the debounce so that each one is read on its own.
func BenchmarkWriteToEmit(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.toml")
	writeFile(b, path, v1)
	w, _ := startWatch(b, openDriver(b), target(path))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		content := fmt.Sprintf("n = \"%d\"\n", i)
		start := time.Now()
		writeFile(b, path, content)
		w.wantData(b, content)
		lat = append(lat, time.Since(start))
		b.StopTimer()
		time.Sleep(DefaultDebounce / 2)
		b.StartTimer()
	}
	b.StopTimer()
	fixture.ReportPercentiles(b, lat)
}

// BenchmarkLookDir measures what a watch does before each read on top of
// the read itself: its look at the file's directory and at the symbolic
// links along it (lookDir), for a file in a plain directory and for one
// reached through a link (current -> releases/1).
func BenchmarkLookDir(b *testing.B) {
	for _, linked := range []bool{false, true} {
		name := "plain"
		if linked {
			name = "linked"
		}
		b.Run(name, func(b *testing.B) {
			base := b.TempDir()
			dir := filepath.Join(base, "conf")
			if linked {
				release := filepath.Join(base, "releases", "1")
				require.NoError(b, os.MkdirAll(release, 0o755))
				require.NoError(b, os.Symlink(release, filepath.Join(base, "current")))
				dir = filepath.Join(base, "current")
			} else {
				require.NoError(b, os.Mkdir(dir, 0o755))
			}
			path := filepath.Join(dir, "app.toml")
			writeFile(b, path, v1)
			d := openDriver(b)
			require.NoError(b, d.hold(path, dir))
			f := d.newFollower(watchKey{path: path, maxBytes: DefaultMaxBytes})
			d.follow(f)
			b.Cleanup(func() {
				d.unfollow(f)
				d.release(dir)
			})
			b.ReportAllocs()
			for b.Loop() {
				if err := d.lookDir(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnrelatedEvent measures what an event that concerns no file
// costs the driver, with 100 files watched in one directory and 100 in
// directories of their own: a file made in a directory watched only as an
// ancestor (/tmp, say), and one made in the first files' own directory.
// Neither should grow with the number of watched directories.
func BenchmarkUnrelatedEvent(b *testing.B) {
	base := b.TempDir()
	dir := filepath.Join(base, "etc", "myapp")
	require.NoError(b, os.MkdirAll(dir, 0o755))
	d := openDriver(b)
	for i := range 200 {
		path := filepath.Join(dir, fmt.Sprintf("app%d.toml", i))
		if i >= 100 {
			own := filepath.Join(base, "srv", fmt.Sprint(i))
			require.NoError(b, os.MkdirAll(own, 0o755))
			path = filepath.Join(own, "app.toml")
		}
		dir := filepath.Dir(path)
		writeFile(b, path, v1)
		require.NoError(b, d.hold(path, dir))
		f := d.newFollower(watchKey{path: path, maxBytes: DefaultMaxBytes})
		d.follow(f)
		b.Cleanup(func() {
			d.unfollow(f)
			d.release(dir)
		})
	}
	for _, in := range []string{filepath.Dir(filepath.Dir(dir)), dir} {
		b.Run(map[bool]string{true: "ancestor", false: "own"}[in != dir], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.handleEvent(event{Name: filepath.Join(in, "unrelated.tmp"), Op: opRemove})
			}
		})
	}
}
