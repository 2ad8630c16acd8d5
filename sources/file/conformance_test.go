package file_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/file"
	"github.com/livebind/livebind/sources/sourcetest"
)

// conformanceMax is the maxbytes= of the conformance targets.
const conformanceMax = 1 << 20

// TestConformance runs the sources conformance kit against the file driver
// with change notifications: files in a temporary directory written by
// rename (as editors save), a directory for the failure check (a typed
// *file.Error wrapping ErrNotRegular) and a 3 MiB file over maxbytes=1MiB
// for the size check. There is no stall check: nothing a path can lead to
// blocks a read (named pipes and devices are refused at once).
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	var n atomic.Int64
	target := func(path string) *sources.Target {
		return &sources.Target{Scheme: "file", Location: path, Params: map[string]string{"maxbytes": fmt.Sprint(conformanceMax)}}
	}
	write := func(t *testing.T, tg *sources.Target, v []byte) {
		t.Helper()
		saveByRename(t, &n, tg, v)
	}
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "file",
		Target: func(*testing.T) *sources.Target {
			return target(filepath.Join(dir, fmt.Sprintf("conf-%d.txt", n.Add(1))))
		},
		Set: write,
		Remove: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			if err := os.Remove(tg.Location); err != nil {
				t.Fatal(err)
			}
		},
		Failing: func(t *testing.T) (sources.Config, *sources.Target) {
			t.Helper()
			d := filepath.Join(dir, "a-directory.toml")
			if err := os.MkdirAll(d, 0o700); err != nil {
				t.Fatal(err)
			}
			return sources.Config{}, target(d)
		},
		ErrorAs: func(err error) bool {
			var e *file.Error
			return errors.As(err, &e) && errors.Is(err, file.ErrNotRegular) && strings.HasSuffix(e.Path, "a-directory.toml")
		},
		Oversize: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			write(t, tg, []byte(strings.Repeat("x", 3*conformanceMax)))
		},
		MaxSize: conformanceMax,
	})
}

// TestConformancePoll runs the kit against the file driver in poll= mode.
func TestConformancePoll(t *testing.T) {
	dir := t.TempDir()
	var n atomic.Int64
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "file",
		Target: func(*testing.T) *sources.Target {
			return &sources.Target{Scheme: "file", Location: filepath.Join(dir, fmt.Sprintf("conf-%d.txt", n.Add(1))), Poll: pollEvery}
		},
		Set: func(t *testing.T, tg *sources.Target, v []byte) {
			t.Helper()
			saveByRename(t, &n, tg, v)
		},
		Remove: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			if err := os.Remove(tg.Location); err != nil {
				t.Fatal(err)
			}
		},
		Quiet: 4 * pollEvery,
	})
}

// pollEvery is the poll= of TestConformancePoll's targets.
const pollEvery = 50 * time.Millisecond

// TestSchemeCheck: a bad maxbytes= or an empty path is refused at Bind,
// without touching the file system.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	s, ok := sources.Lookup("file")
	if !ok || s.Check == nil {
		t.Fatal("the file scheme has no Check")
	}
	good := &sources.Target{Scheme: "file", Location: "/nonexistent/app.toml", Params: map[string]string{"maxbytes": "1024"}}
	if err := s.Check(good); err != nil {
		t.Errorf("good options on a missing file: %v (Check must not do I/O)", err)
	}
	for _, tt := range []struct {
		name, loc, maxBytes string
	}{
		{"maxbytes/zero", "app.toml", "0"},
		{"maxbytes/negative", "app.toml", "-1"},
		{"maxbytes/unit", "app.toml", "1MiB"},
		{"location/empty", "", "1024"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.Check(&sources.Target{Scheme: "file", Location: tt.loc, Params: map[string]string{"maxbytes": tt.maxBytes}})
			var fe *file.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Check: got %v, want a *file.Error", err)
			}
		})
	}
}

// FuzzSchemeCheck: Check never panics, accepts exactly the positive whole
// numbers below 2^63-1 as maxbytes=, and fails with a *file.Error.
func FuzzSchemeCheck(f *testing.F) {
	for _, v := range []string{"1", "1024", " 16777216 ", "0", "-5", "1MiB", "9223372036854775807", ""} {
		f.Add(v)
	}
	s, _ := sources.Lookup("file")
	f.Fuzz(func(t *testing.T, maxBytes string) {
		err := s.Check(&sources.Target{Scheme: "file", Location: "app.toml", Params: map[string]string{"maxbytes": maxBytes}})
		n, perr := strconv.ParseInt(strings.TrimSpace(maxBytes), 10, 64)
		want := perr == nil && n > 0 && n < math.MaxInt64
		if (err == nil) != want {
			t.Fatalf("maxbytes=%q: Check error %v, want accepted=%v", maxBytes, err, want)
		}
		var fe *file.Error
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("maxbytes=%q: %T is not a *file.Error", maxBytes, err)
		}
	})
}

// saveByRename saves v at tg's location the way editors do: a new file
// (numbered by n) renamed over it.
func saveByRename(t *testing.T, n *atomic.Int64, tg *sources.Target, v []byte) {
	t.Helper()
	tmp := fmt.Sprintf("%s.tmp-%d", tg.Location, n.Add(1))
	if err := os.WriteFile(tmp, v, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, tg.Location); err != nil {
		t.Fatal(err)
	}
}
