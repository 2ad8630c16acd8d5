package file

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/require"
)

// TestHandleEvent checks which followers an event kicks, without a
// watcher: the followers are registered but not started. A polled file's
// follower is never registered: no event concerns it.
func TestHandleEvent(t *testing.T) {
	d := openDriver(t)
	dir := "/vol/conf"
	key := func(path string) watchKey { return watchKey{path: path, maxBytes: DefaultMaxBytes} }
	app := d.newFollower(key(filepath.Join(dir, "app.toml")))
	app.resolved = "/vol/conf/..2026_11_27/app.toml"
	app.resolvedDir = "/vol/conf/..2026_11_27"
	other := d.newFollower(key("/vol/conf/other.toml"))
	other.failing.Store(true)
	elsewhere := d.newFollower(key("/etc/x.toml"))
	polled := d.newFollower(watchKey{path: "/vol/conf/polled.toml", poll: time.Second, maxBytes: DefaultMaxBytes})
	all := []*follower{app, other, elsewhere, polled}
	d.mu.Lock()
	for _, f := range all[:3] {
		d.followers[f] = struct{}{}
	}
	d.dirs[dir] = &dirWatch{refs: 3, added: true}
	d.mu.Unlock()

	kicked := func() []*follower {
		var out []*follower
		for _, f := range all {
			select {
			case <-f.kicks:
				out = append(out, f)
			default:
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ev   fsnotify.Event
		want []*follower
	}{
		{"write", fsnotify.Event{Name: "/vol/conf/app.toml", Op: fsnotify.Write}, []*follower{app}},
		{"unclean name", fsnotify.Event{Name: "/vol/conf//app.toml", Op: fsnotify.Create}, []*follower{app}},
		{"resolved", fsnotify.Event{Name: "/vol/conf/..2026_11_27/app.toml", Op: fsnotify.Remove}, []*follower{app}},
		{"..data", fsnotify.Event{Name: "/vol/conf/..data", Op: fsnotify.Create}, []*follower{app, other}},
		{"..data_tmp", fsnotify.Event{Name: "/vol/conf/..data_tmp", Op: fsnotify.Rename}, []*follower{app, other}},
		{"other file", fsnotify.Event{Name: "/vol/conf/unrelated.toml", Op: fsnotify.Write}, nil},
		{"chmod of a good target", fsnotify.Event{Name: "/vol/conf/app.toml", Op: fsnotify.Chmod}, nil},
		{"chmod of a failing target", fsnotify.Event{Name: "/vol/conf/other.toml", Op: fsnotify.Chmod}, []*follower{other}},
		{"chmod with write", fsnotify.Event{Name: "/vol/conf/app.toml", Op: fsnotify.Chmod | fsnotify.Write}, []*follower{app}},
		{"polled target", fsnotify.Event{Name: "/vol/conf/polled.toml", Op: fsnotify.Write}, nil},
		{"directory removed", fsnotify.Event{Name: "/vol/conf", Op: fsnotify.Remove}, []*follower{app, other}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.handleEvent(fromFsnotify(tc.ev))
			require.Equal(t, tc.want, kicked())
		})
	}
	d.mu.Lock()
	require.False(t, d.dirs[dir].added, "a removed directory must be watched again")
	d.mu.Unlock()

	d.handleError(fsnotify.ErrEventOverflow)
	require.Equal(t, []*follower{app, other, elsewhere}, kicked(), "overflow: every notification target reads again")

	d.mu.Lock()
	clear(d.followers)
	clear(d.dirs)
	d.mu.Unlock()
}
