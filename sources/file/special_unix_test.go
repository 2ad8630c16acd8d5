//go:build unix

package file

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources"
)

// promptly bounds how long a refused read may take. Without the fix a named
// pipe blocks the open forever; a regular refusal takes microseconds.
const promptly = time.Second

// mkfifo makes a named pipe that nobody writes to.
func mkfifo(t *testing.T, path string) string {
	t.Helper()
	require.NoError(t, syscall.Mkfifo(path, 0o644))
	return path
}

// maxTarget is a notification target for path with maxbytes=n.
func maxTarget(path, n string) *sources.Target {
	tg := target(path)
	tg.Params = map[string]string{"maxbytes": n}
	return tg
}

// TestReadBounded: every read is of a regular file, bounded by maxbytes=,
// and refuses anything else at once. Each case runs in a child process
// under a time and a heap watchdog, since before the fix some of them hung
// (a named pipe) or grew the heap until the process died (/dev/zero).
func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.txt")
	writeFile(t, small, "0123456789") // 10 bytes
	fifo := mkfifo(t, filepath.Join(dir, "pipe.toml"))
	linkToFifo := filepath.Join(dir, "link-to-pipe.toml")
	require.NoError(t, os.Symlink(fifo, linkToFifo))
	linkToSmall := filepath.Join(dir, "link.txt")
	require.NoError(t, os.Symlink(small, linkToSmall))
	sparse := filepath.Join(dir, "sparse.json")
	f, err := os.Create(sparse)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<30)) // 1 GiB, no disk blocks
	require.NoError(t, f.Close())
	sock := filepath.Join(dir, "s.sock")
	if len(sock) < 100 { // sun_path holds 108 bytes
		ln, err := net.Listen("unix", sock)
		require.NoError(t, err)
		t.Cleanup(func() { _ = ln.Close() })
	} else {
		sock = ""
	}

	for _, tc := range []struct {
		name string
		tg   *sources.Target
		data string // the content a good read returns
		want error  // what a refused read wraps
		in   string // what the error says besides the path
	}{
		{name: "regular", tg: target(small), data: "0123456789"},
		{name: "exactly maxbytes", tg: maxTarget(small, "10"), data: "0123456789"},
		{name: "symlink to regular", tg: target(linkToSmall), data: "0123456789"},
		{name: "larger than maxbytes", tg: maxTarget(small, "9"), want: sources.ErrTooLarge, in: "10 bytes, more than maxbytes=9"},
		{name: "sparse 1GiB", tg: target(sparse), want: sources.ErrTooLarge, in: "maxbytes=16777216"},
		{name: "sparse 1GiB polled", tg: pollTarget(sparse), want: sources.ErrTooLarge, in: "maxbytes="},
		{name: "named pipe", tg: target(fifo), want: ErrNotRegular, in: "named pipe"},
		{name: "named pipe polled", tg: pollTarget(fifo), want: ErrNotRegular, in: "named pipe"},
		{name: "symlink to named pipe", tg: target(linkToFifo), want: ErrNotRegular, in: "named pipe"},
		{name: "dev-zero", tg: target("/dev/zero"), want: ErrNotRegular, in: "character device"},
		{name: "dev-urandom", tg: target("/dev/urandom"), want: ErrNotRegular, in: "character device"},
		{name: "dev-null", tg: target("/dev/null"), want: ErrNotRegular, in: "character device"},
		{name: "directory", tg: target(dir), want: syscall.EISDIR, in: "directory"},
		{name: "socket", tg: target(sock), want: ErrNotRegular, in: "socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tg.Location == "" {
				t.Skip("temporary directory path too long for a unix socket")
			}
			if _, err := os.Stat(tc.tg.Location); err != nil {
				t.Skipf("no %s here: %v", tc.tg.Location, err)
			}
			res := childtest.Run(t, childtest.Limits{Timeout: 20 * time.Second, Heap: 128 << 20}, func(t *testing.T) { //nolint:thelper // a test body (run in a child), not a helper
				d := openDriver(t)
				start := time.Now()
				r := d.Read(t.Context(), tc.tg)
				require.Less(t, time.Since(start), promptly, "Read returns at once")
				if tc.want == nil {
					require.NoError(t, r.Err)
					require.Equal(t, tc.data, string(r.Data))
					return
				}
				require.ErrorIs(t, r.Err, tc.want)
				require.ErrorContains(t, r.Err, tc.in)
				require.ErrorContains(t, r.Err, tc.tg.Location)
				require.Nil(t, r.Data)
				require.False(t, r.Missing)

				// The watch reads the same way: it reports the same
				// error (Read's result is its starting point, so watch
				// from "missing" to see it) and Close returns at once.
				w := watchFrom(t, d, tc.tg, sources.Result{Missing: true})
				got := w.wantErr(t, tc.want)
				require.Equal(t, r.Err.Error(), got)
				start = time.Now()
				w.Stop()
				require.NoError(t, d.Close())
				require.Less(t, time.Since(start), promptly, "stop and Close return at once")
			})
			require.True(t, res.OK(), "child: %v", res)
		})
	}
}

// TestReadGrowsPastLimit: a file that holds more than stat says (a file
// that grows between stat and read; /proc files report size 0) is still cut
// at maxbytes=+1 and refused, never truncated into a value.
func TestReadGrowsPastLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	const path = "/proc/self/status"
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Zero(t, fi.Size(), "procfs reports size 0")
	d := openDriver(t)
	r := d.Read(t.Context(), maxTarget(path, "16"))
	require.ErrorIs(t, r.Err, sources.ErrTooLarge)
	require.ErrorContains(t, r.Err, "grew past maxbytes=16")
	r = d.Read(t.Context(), target(path))
	require.NoError(t, r.Err)
	require.True(t, strings.HasPrefix(string(r.Data), "Name:"), "read whole with the default limit")
}

// TestMaxBytesOption: maxbytes= must be a positive whole number of bytes; a
// bad one is an error from Read and Watch that quotes it, never a default.
func TestMaxBytesOption(t *testing.T) {
	path := appFile(t, v1)
	d := openDriver(t)
	for _, v := range []string{"0", "-1", "16MiB", "", "9223372036854775807"} {
		t.Run(v, func(t *testing.T) {
			r := d.Read(t.Context(), maxTarget(path, v))
			require.ErrorContains(t, r.Err, "option maxbytes")
			_, err := d.Watch(maxTarget(path, v), r, func(sources.Result) {})
			require.ErrorContains(t, err, "option maxbytes")
		})
	}
}

// TestSecretTooLarge: a refused secret file's error names the path and the
// size, never a byte of the content.
func TestSecretTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "password")
	writeFile(t, path, "hunter2-hunter2")
	tg := maxTarget(path, "4")
	tg.Secret = true
	r := openDriver(t).Read(t.Context(), tg)
	require.ErrorIs(t, r.Err, sources.ErrTooLarge)
	require.ErrorContains(t, r.Err, path)
	require.NotContains(t, r.Err.Error(), "hunter")
}

// BenchmarkReadTooLarge measures what refusing a 200 MiB file costs: it is
// rejected from its size, before anything is allocated for its content
// (os.ReadFile, used before, allocated the whole file).
func BenchmarkReadTooLarge(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.json")
	f, err := os.Create(path)
	require.NoError(b, err)
	require.NoError(b, f.Truncate(200<<20))
	require.NoError(b, f.Close())
	d := openDriver(b)
	tg := target(path)
	b.ReportAllocs()
	for b.Loop() {
		if r := d.Read(b.Context(), tg); !errors.Is(r.Err, sources.ErrTooLarge) {
			b.Fatalf("want ErrTooLarge, got %v", r.Err)
		}
	}
}

// BenchmarkReadFile reads a 1 MiB file: the bounded reader allocates the
// file's size plus one byte, once.
func BenchmarkReadFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "app.txt")
	require.NoError(b, os.WriteFile(path, make([]byte, 1<<20), 0o644))
	d := openDriver(b)
	tg := target(path)
	b.ReportAllocs()
	b.SetBytes(1 << 20)
	for b.Loop() {
		if r := d.Read(b.Context(), tg); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// FuzzReadBounded: for any content and any maxbytes=, a read returns the
// whole content when it fits and an ErrTooLarge error otherwise: never a
// truncated value. A bad maxbytes= is an error, never a default.
func FuzzReadBounded(f *testing.F) {
	f.Add([]byte("name = \"x\"\n"), "16")
	f.Add([]byte("0123456789"), "10")
	f.Add([]byte("0123456789"), "9")
	f.Add([]byte(""), "1")
	f.Add([]byte("x"), "0")
	f.Add([]byte("x"), " 3 ")
	f.Add([]byte("x"), "1e3")
	path := filepath.Join(f.TempDir(), "app.txt")
	d := openDriver(f)
	f.Fuzz(func(t *testing.T, content []byte, maxBytes string) {
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		tg := maxTarget(path, maxBytes)
		tg.Debounce = time.Microsecond // an empty file is retried
		n, perr := maxBytesOf(tg)
		r := d.Read(t.Context(), tg)
		switch {
		case perr != nil:
			if r.Err == nil || !strings.Contains(r.Err.Error(), "option maxbytes") {
				t.Fatalf("bad maxbytes=%q: want an option error, got %v", maxBytes, r.Err)
			}
		case n <= 0:
			t.Fatalf("maxbytes=%q parsed to %d", maxBytes, n)
		case len(content) == 0:
			if !errors.Is(r.Err, sources.ErrEmpty) {
				t.Fatalf("empty file: want ErrEmpty, got %v", r.Err)
			}
		case int64(len(content)) > n:
			if !errors.Is(r.Err, sources.ErrTooLarge) || r.Data != nil {
				t.Fatalf("%d bytes over maxbytes=%d: want ErrTooLarge, got %v", len(content), n, r.Err)
			}
		default:
			if r.Err != nil || string(r.Data) != string(content) {
				t.Fatalf("%d bytes within maxbytes=%d: want the content, got %v", len(content), n, r.Err)
			}
		}
	})
}
