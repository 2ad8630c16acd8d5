package file

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// Watches started and stopped from many goroutines while files change, then
// a Close racing the last watches: run with -race; goleak checks the rest.
func TestConcurrentWatchStopClose(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	var paths []string
	for i := range 6 {
		p := filepath.Join(dirs[i%2], fmt.Sprintf("f%d.toml", i))
		writeFile(t, p, v1)
		paths = append(paths, p)
	}
	d := openDriver(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				tg := target(paths[(g+i)%len(paths)])
				if i%3 == 0 {
					tg = pollTarget(tg.Location)
				}
				stop, err := d.Watch(tg, sources.Result{Data: []byte(v1)}, func(sources.Result) {})
				if err != nil {
					t.Error(err)
					return
				}
				if err := os.WriteFile(paths[(g+i+1)%len(paths)], fmt.Appendf(nil, "n = \"%d\"\n", i), 0o644); err != nil {
					t.Error(err)
				}
				stop()
			}
		})
	}
	wg.Wait()
	require.Empty(t, dirState(d))
	require.Empty(t, watchList(d))

	// Close while watches are being added: each Watch either fails with
	// sources.ErrClosed or is stopped by Close.
	var started sync.WaitGroup
	for g := range 4 {
		started.Go(func() {
			for range 10 {
				_, err := d.Watch(target(paths[g]), sources.Result{}, func(sources.Result) {})
				if err != nil {
					if !errors.Is(err, sources.ErrClosed) {
						t.Error(err)
					}
					return
				}
			}
		})
	}
	require.NoError(t, d.Close())
	started.Wait()
	require.Empty(t, dirState(d))
}
