package file

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// closeAware skips a test of the close-aware backend's own behavior when
// the fallback is forced (TestFallbackBackend's child).
func closeAware(t *testing.T) {
	t.Helper()
	if forceFallback.Load() {
		t.Skip("the fsnotify backend reads writes in progress after the debounce")
	}
}

func TestDebounceWithCloseEvents(t *testing.T) {
	for _, tc := range []struct {
		name     string
		debounce time.Duration
		close    bool
		want     time.Duration
	}{
		{"close events, no debounce=", 0, true, 0},
		{"close events, debounce=250ms", 250 * time.Millisecond, true, 250 * time.Millisecond},
		{"close events, debounce=0", -1, true, 0},
		{"fsnotify, no debounce=", 0, false, DefaultDebounce},
		{"fsnotify, debounce=250ms", 250 * time.Millisecond, false, 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, debounceWith(&sources.Target{Debounce: tc.debounce}, tc.close))
		})
	}
}

// An in-place writer that pauses between its two writes, longer than the
// default debounce, on one descriptor: only its close is read. A read of the
// first half (which parses, with a key missing) would be reported first.
func TestCloseEventsHalfWrittenNeverRead(t *testing.T) {
	closeAware(t)
	path := appFile(t, v1)
	tg := target(path)
	tg.Check = checkTOML
	// Start from another value, so that the watch's first check (which
	// reads whatever is there) reports v1 and is over before the writer.
	w := watchFrom(t, openDriver(t), tg, sources.Result{Data: []byte(v2)})
	w.wantData(t, v1)

	full := "name = \"two\"\nport = \"8080\"\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.WriteString(full[:13]) // name = "two"\n: parses alone
	require.NoError(t, err)
	time.Sleep(3 * DefaultDebounce)
	if w.Len() > 0 {
		r := w.Next(t)
		t.Fatalf("read before the close: %q %v", r.Data, r.Err)
	}
	_, err = f.WriteString(full[13:])
	require.NoError(t, err)
	require.NoError(t, f.Close())

	w.wantData(t, full)
	w.wantNone(t, path)
}

// A writer that closes, re-opens and appends: each close is a complete
// state. The first one is published if it parses (it may be superseded
// before it is read); the final state is always published last.
func TestCloseEventsCloseThenAppend(t *testing.T) {
	for _, tc := range []struct{ name, first, rest string }{
		{"first part parses", "name = \"two\"\n", "port = \"8080\"\n"},
		{"first part does not parse", "name = \"tw", "o\"\nport = \"8080\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := appFile(t, v1)
			tg := target(path)
			tg.Check = checkTOML
			w := watchFrom(t, openDriver(t), tg, sources.Result{Data: []byte(v3)})
			w.wantData(t, v1) // the first check is over

			writeFile(t, path, tc.first)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.WriteString(tc.rest)
			require.NoError(t, err)
			require.NoError(t, f.Close())

			final := tc.first + tc.rest
			for {
				r := w.Next(t)
				require.NoError(t, r.Err, "the unparsable first part is retried, never reported, when the append follows at once")
				if string(r.Data) == final {
					break
				}
				require.Equal(t, tc.first, string(r.Data), "only the first close's state may come before the final one")
			}
			w.wantNone(t, path)
		})
	}
}

// A writer that never closes (it keeps the file open, or truncates it with
// truncate(2)) is read maxwait after its write.
func TestCloseEventsWriteWithoutClose(t *testing.T) {
	closeAware(t)
	path := appFile(t, v1)
	tg := target(path)
	tg.MaxWait = 200 * time.Millisecond
	w := watchFrom(t, openDriver(t), tg, sources.Result{Data: []byte(v3)})
	w.wantData(t, v1)

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	_, err = f.WriteString(v2)
	require.NoError(t, err)
	w.wantData(t, v2) // before the close below
}

// debounce= still applies with close events: closes within it are read
// once, as the last one left the file.
func TestCloseEventsDebounceGiven(t *testing.T) {
	path := appFile(t, v1)
	tg := target(path)
	tg.Debounce = 300 * time.Millisecond
	w := watchFrom(t, openDriver(t), tg, sources.Result{Data: []byte(v3)})
	w.wantData(t, v1) // the first check is over
	writeFile(t, path, v2)
	writeFile(t, path, v3)
	w.wantData(t, v3)
	w.wantNone(t, path)
}

// TestHandleEventCloseAware checks which events make a file ready to read
// with the close-aware backend: never a write or a plain create.
func TestHandleEventCloseAware(t *testing.T) {
	d := openDriver(t)
	d.closeEvents.Store(true)
	dir := "/vol/conf"
	app := d.newFollower(watchKey{path: filepath.Join(dir, "app.toml"), maxBytes: DefaultMaxBytes})
	other := d.newFollower(watchKey{path: filepath.Join(dir, "other.toml"), maxBytes: DefaultMaxBytes})
	all := []*follower{app, other}
	d.mu.Lock()
	for _, f := range all {
		d.followers[f] = struct{}{}
	}
	d.dirs[dir] = &dirWatch{refs: 2, added: true}
	d.mu.Unlock()
	t.Cleanup(func() {
		d.mu.Lock()
		clear(d.followers)
		clear(d.dirs)
		d.mu.Unlock()
	})

	state := func() (kicked, ready []*follower) {
		for _, f := range all {
			select {
			case <-f.kicks:
				kicked = append(kicked, f)
			default:
			}
			if f.ready.Swap(false) {
				ready = append(ready, f)
			}
		}
		return kicked, ready
	}
	for _, tc := range []struct {
		name          string
		ev            event
		kicked, ready []*follower
	}{
		{"write in progress", event{"/vol/conf/app.toml", opWrite}, []*follower{app}, nil},
		{"plain create", event{"/vol/conf/app.toml", opCreate}, nil, nil},
		{"link created", event{"/vol/conf/app.toml", opCreate | opComplete}, []*follower{app}, []*follower{app}},
		{"closed", event{"/vol/conf/app.toml", opClosed}, []*follower{app}, []*follower{app}},
		{"renamed into place", event{"/vol/conf/app.toml", opMovedIn}, []*follower{app}, []*follower{app}},
		{"deleted", event{"/vol/conf/app.toml", opRemove}, []*follower{app}, []*follower{app}},
		{"renamed away", event{"/vol/conf/app.toml", opRename}, []*follower{app}, []*follower{app}},
		{"..data swapped", event{"/vol/conf/..data", opMovedIn}, all, all},
		{"..data_tmp linked", event{"/vol/conf/..data_tmp", opCreate | opComplete}, all, all},
		{"other file closed", event{"/vol/conf/x.toml", opClosed}, nil, nil},
		{"chmod of a good file", event{"/vol/conf/app.toml", opChmod}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.handleEvent(tc.ev)
			kicked, ready := state()
			require.Equal(t, tc.kicked, kicked, "kicked")
			require.Equal(t, tc.ready, ready, "ready")
		})
	}
	// The fsnotify translation keeps its bits.
	require.Equal(t, event{"/a", opCreate | opChmod}, fromFsnotify(fsnotify.Event{Name: "/a", Op: fsnotify.Create | fsnotify.Chmod}))
}

// With debounce=, a writer that re-opens the file within the debounce and
// pauses mid-write holds the read back until its close: the half-written
// state is never read.
func TestCloseEventsDebounceReopened(t *testing.T) {
	closeAware(t)
	path := appFile(t, v1)
	tg := target(path)
	tg.Check = checkTOML
	tg.Debounce = 100 * time.Millisecond
	w := watchFrom(t, openDriver(t), tg, sources.Result{Data: []byte(v3)})
	w.wantData(t, v1) // the first check is over

	full := "name = \"two\"\nport = \"8080\"\n"
	writeFile(t, path, v3)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.WriteString(full[:13]) // parses alone
	require.NoError(t, err)
	time.Sleep(3 * tg.Debounce)
	_, err = f.WriteString(full[13:])
	require.NoError(t, err)
	require.NoError(t, f.Close())
	w.wantData(t, full)
	w.wantNone(t, path)
}

// A writer that closes, then re-opens the file with O_TRUNC and writes it
// slowly: the read that the close started finds a write in progress, and
// waits for its close (maxwait at most), not only for the two retries of
// a read that does not parse: a text value's prefix parses. Before, the
// prefix "tok" was published 200 ms into the write.
func TestCloseEventsRewriteAfterClose(t *testing.T) {
	closeAware(t)
	path := appFile(t, "token-one")
	w := watchFrom(t, openDriver(t), target(path), sources.Result{Data: []byte("x")})
	w.wantData(t, "token-one")

	writeFile(t, path, "token-two") // a close
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.WriteString("tok")
	require.NoError(t, err)
	time.Sleep(600 * time.Millisecond) // under the default maxwait, 1 s
	_, err = f.WriteString("en-three")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	for {
		r := w.Next(t)
		require.NoError(t, r.Err)
		if string(r.Data) == "token-three" {
			break
		}
		require.Equal(t, "token-two", string(r.Data), "only closed states are published")
	}
	w.wantNone(t, path)
}
