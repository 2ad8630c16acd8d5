package file

import (
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// TestHandleEvent checks which targets an event kicks, without a watcher:
// the runners are registered but not started.
func TestHandleEvent(t *testing.T) {
	d := openDriver(t)
	dir := "/vol/conf"
	app := newRunner(d, target(filepath.Join(dir, "app.toml")), filepath.Join(dir, "app.toml"), DefaultMaxBytes, sources.Result{}, nil)
	app.resolved = "/vol/conf/..2026_11_27/app.toml"
	app.resolvedDir = "/vol/conf/..2026_11_27"
	other := newRunner(d, target("/vol/conf/other.toml"), "/vol/conf/other.toml", DefaultMaxBytes, sources.Result{Err: errBadLine}, nil)
	elsewhere := newRunner(d, target("/etc/x.toml"), "/etc/x.toml", DefaultMaxBytes, sources.Result{}, nil)
	polled := newRunner(d, pollTarget("/vol/conf/polled.toml"), "/vol/conf/polled.toml", DefaultMaxBytes, sources.Result{}, nil)
	all := []*runner{app, other, elsewhere, polled}
	d.mu.Lock()
	for _, r := range all {
		d.targets[r] = struct{}{}
	}
	d.dirs[dir] = &dirWatch{refs: 3, added: true}
	d.mu.Unlock()

	kicked := func() []*runner {
		var out []*runner
		for _, r := range all {
			select {
			case <-r.kicks:
				out = append(out, r)
			default:
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ev   fsnotify.Event
		want []*runner
	}{
		{"write", fsnotify.Event{Name: "/vol/conf/app.toml", Op: fsnotify.Write}, []*runner{app}},
		{"unclean name", fsnotify.Event{Name: "/vol/conf//app.toml", Op: fsnotify.Create}, []*runner{app}},
		{"resolved", fsnotify.Event{Name: "/vol/conf/..2026_11_27/app.toml", Op: fsnotify.Remove}, []*runner{app}},
		{"..data", fsnotify.Event{Name: "/vol/conf/..data", Op: fsnotify.Create}, []*runner{app, other}},
		{"..data_tmp", fsnotify.Event{Name: "/vol/conf/..data_tmp", Op: fsnotify.Rename}, []*runner{app, other}},
		{"other file", fsnotify.Event{Name: "/vol/conf/unrelated.toml", Op: fsnotify.Write}, nil},
		{"chmod of a good target", fsnotify.Event{Name: "/vol/conf/app.toml", Op: fsnotify.Chmod}, nil},
		{"chmod of a failing target", fsnotify.Event{Name: "/vol/conf/other.toml", Op: fsnotify.Chmod}, []*runner{other}},
		{"chmod with write", fsnotify.Event{Name: "/vol/conf/app.toml", Op: fsnotify.Chmod | fsnotify.Write}, []*runner{app}},
		{"polled target", fsnotify.Event{Name: "/vol/conf/polled.toml", Op: fsnotify.Write}, nil},
		{"directory removed", fsnotify.Event{Name: "/vol/conf", Op: fsnotify.Remove}, []*runner{app, other}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.handleEvent(tc.ev)
			require.Equal(t, tc.want, kicked())
		})
	}
	d.mu.Lock()
	require.False(t, d.dirs[dir].added, "a removed directory must be watched again")
	d.mu.Unlock()

	d.handleError(fsnotify.ErrEventOverflow)
	require.Equal(t, []*runner{app, other, elsewhere}, kicked(), "overflow: every notification target reads again")

	d.mu.Lock()
	clear(d.targets)
	clear(d.dirs)
	d.mu.Unlock()
}
