//go:build linux || darwin || freebsd

package file_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/sources/file"
)

// The benchmarks below measure what a reader of a Binding sees while
// another process writes the file: the writer is this test binary run
// again as TestHelperWriterProcess, driven over its stdin, which answers
// each command with the CLOCK_MONOTONIC time at which its write returned.
// A reader goroutine calls Get in a tight loop, counts bad reads (a value
// that is empty, torn or half written: the keys a and b, which every write
// keeps equal, differ or are empty) and notes when the new value shows.
//
// Run them with, for example, -bench=WriterProcess -benchtime=10x (30
// writes per scenario); -benchtime=1x does 3.

const (
	writerEnv   = "LIVEBIND_FILE_TEST_WRITER" // the directory the writer works in
	writesPerN  = 3
	stressSwaps = 1000
)

// benchDoc is the document written: a and b are equal in every write, and
// the padding makes a half-written file likely when one is read.
type benchDoc struct {
	A string `toml:"a"`
	P string `toml:"pad1"`
	Q string `toml:"pad2"`
	B string `toml:"b"`
}

type benchCfg struct {
	Doc benchDoc `live:"file=${BENCH_FILE}"`
}

var pad = strings.Repeat("x", 2048)

// content returns a document with value v, in two halves that each end a
// line: the first half alone parses, with b missing.
func content(v string) (first, rest string) {
	return fmt.Sprintf("a = %q\npad1 = %q\n", v, pad), fmt.Sprintf("pad2 = %q\nb = %q\n", pad, v)
}

func monoNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) // the vDSO never fails for this clock
	return ts.Nano()
}

// scenario is one way of writing the file. setup prepares dir in the
// benchmark process and returns the path to bind; write runs in the writer
// process.
type scenario struct {
	name  string
	setup func(dir, v string) (string, error)
	write func(dir, v string) error
}

func plainSetup(dir, v string) (string, error) {
	path := filepath.Join(dir, "app.toml")
	a, b := content(v)
	return path, os.WriteFile(path, []byte(a+b), 0o644)
}

// kubeSetup lays dir out like a kubelet ConfigMap volume: app.toml ->
// ..data/app.toml, ..data -> ..<timestamp>.
func kubeSetup(dir, v string) (string, error) {
	if err := kubeSwap(dir, v); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "app.toml")
	return path, os.Symlink(filepath.Join("..data", "app.toml"), path)
}

// kubeSwap does what the kubelet's AtomicWriter does: a new timestamped
// directory, a ..data_tmp link to it renamed over ..data, then the old
// directory removed.
func kubeSwap(dir, v string) error {
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	ts := fmt.Sprintf("..%s.%d", time.Now().UTC().Format("2006_01_02_15_04_05"), time.Now().UnixNano())
	if err := os.Mkdir(filepath.Join(dir, ts), 0o755); err != nil {
		return err
	}
	a, b := content(v)
	if err := os.WriteFile(filepath.Join(dir, ts, "app.toml"), []byte(a+b), 0o644); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		return err
	}
	if old != "" {
		return os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}

var scenarios = []scenario{
	{"1-inplace", plainSetup, func(dir, v string) error {
		a, b := content(v)
		return os.WriteFile(filepath.Join(dir, "app.toml"), []byte(a+b), 0o644)
	}},
	{"2-rename", plainSetup, func(dir, v string) error {
		a, b := content(v)
		tmp := filepath.Join(dir, ".app.toml.tmp")
		if err := os.WriteFile(tmp, []byte(a+b), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, filepath.Join(dir, "app.toml"))
	}},
	{"3-kubernetes", kubeSetup, kubeSwap},
	{"4-delete-recreate", plainSetup, func(dir, v string) error {
		path := filepath.Join(dir, "app.toml")
		if err := os.Remove(path); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
		a, b := content(v)
		return os.WriteFile(path, []byte(a+b), 0o644)
	}},
	{"5-trunc-two-writes", plainSetup, func(dir, v string) error {
		f, err := os.OpenFile(filepath.Join(dir, "app.toml"), os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		a, b := content(v)
		_, err1 := f.WriteString(a)
		time.Sleep(20 * time.Millisecond)
		_, err2 := f.WriteString(b)
		return errors.Join(err1, err2, f.Close())
	}},
}

// TestHelperWriterProcess is the writer: it reads "scenario value" lines
// and "stress N value" lines from stdin, writes, and answers "T <ns>" with
// the monotonic time at which the write returned, or "E <error>".
func TestHelperWriterProcess(t *testing.T) {
	dir := os.Getenv(writerEnv)
	if dir == "" {
		t.Skip("the benchmarks run it as a separate writer process")
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		var err error
		switch {
		case len(fields) == 3 && fields[0] == "stress":
			n, _ := strconv.Atoi(fields[1])
			for i := range n {
				v := fields[2]
				if i < n-1 {
					v = fmt.Sprintf("%s-%d", fields[2], i)
				}
				if err = kubeSwap(dir, v); err != nil {
					break
				}
				if i < n-1 {
					time.Sleep(time.Millisecond)
				}
			}
		case len(fields) == 2:
			idx := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == fields[0] })
			if idx < 0 {
				err = fmt.Errorf("unknown scenario %q", fields[0])
				break
			}
			err = scenarios[idx].write(dir, fields[1])
		default:
			err = fmt.Errorf("bad command %q", in.Text())
		}
		at := monoNow()
		if err != nil {
			fmt.Printf("E %v\n", err)
			continue
		}
		fmt.Printf("T %d\n", at)
	}
}

// writer is the writer process seen from the benchmark.
type writer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startWriter(b *testing.B, dir string) *writer {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), writerEnv+"="+dir)
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := &writer{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	b.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Wait()
	})
	return w
}

// do sends one command and returns when the writer's write returned.
func (w *writer) do(b *testing.B, cmd string) int64 {
	b.Helper()
	if _, err := fmt.Fprintln(w.in, cmd); err != nil {
		b.Fatal(err)
	}
	for w.out.Scan() {
		line := w.out.Text()
		switch {
		case strings.HasPrefix(line, "T "):
			at, err := strconv.ParseInt(line[2:], 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return at
		case strings.HasPrefix(line, "E "):
			b.Fatalf("writer: %s", line[2:])
		}
	}
	b.Fatalf("writer ended: %v", w.out.Err())
	return 0
}

// reader calls Get in a tight loop.
type reader struct {
	want atomic.Pointer[expectation]
	bad  atomic.Int64
	stop atomic.Bool
	done sync.WaitGroup
}

// expectation is one value the reader waits for, and when it showed first
// (0 before). Each write's value is new, so a time is never that of an
// older value.
type expectation struct {
	v      string
	seenAt atomic.Int64
}

func startReader(bd *livebind.Binding[benchCfg]) *reader {
	r := &reader{}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		for !r.stop.Load() {
			d := bd.Get().Doc
			if d.A == "" || d.B == "" || d.A != d.B || d.P != pad || d.Q != pad {
				r.bad.Add(1)
				continue
			}
			if e := r.want.Load(); e != nil && d.A == e.v && e.seenAt.Load() == 0 {
				e.seenAt.Store(monoNow())
			}
		}
	}()
	return r
}

func (r *reader) expect(v string) {
	r.want.Store(&expectation{v: v})
}

// waitSeen returns when the value expected showed, or 0 after a timeout.
func (r *reader) waitSeen(timeout time.Duration) int64 {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if at := r.want.Load().seenAt.Load(); at != 0 {
			return at
		}
		time.Sleep(50 * time.Microsecond)
	}
	return 0
}

func (r *reader) close() {
	r.stop.Store(true)
	r.done.Wait()
}

// bindFile sets up the file "v0" in a new directory with setup and binds
// it; the binding is closed when b ends.
func bindFile(b *testing.B, setup func(dir, v string) (string, error)) (bd *livebind.Binding[benchCfg], dir string) {
	b.Helper()
	dir = b.TempDir()
	path, err := setup(dir, "v0")
	if err != nil {
		b.Fatal(err)
	}
	var cfg benchCfg
	bd, err = livebind.Bind(b.Context(), &cfg, livebind.WithLookupEnv(func(k string) (string, bool) {
		return path, k == "BENCH_FILE"
	}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bd.Close() })
	return bd, dir
}

// bind binds the file and starts the writer and the reader.
func bind(b *testing.B, setup func(dir, v string) (string, error)) (*livebind.Binding[benchCfg], *writer, *reader) {
	b.Helper()
	bd, dir := bindFile(b, setup)
	w := startWriter(b, dir)
	r := startReader(bd)
	b.Cleanup(r.close)
	return bd, w, r
}

// backends runs f once per notification backend.
func backends(b *testing.B, f func(b *testing.B)) {
	b.Helper()
	for _, fallback := range []bool{false, true} {
		name := "close"
		if fallback {
			name = "fsnotify"
		}
		b.Run(name, func(b *testing.B) {
			file.SetFallback(fallback)
			defer file.SetFallback(false)
			f(b)
		})
	}
}

// BenchmarkWriterProcess: scenarios 1 to 5, writesPerN writes per b.N.
// Metrics: p50-ms, p99-ms and max-ms from the write's return to Get showing
// it (0 when Get showed it before the writer process noted the time its
// call returned: "early" counts those), bad-reads, and lost (writes not
// seen within 5 s).
func BenchmarkWriterProcess(b *testing.B) {
	backends(b, func(b *testing.B) {
		b.Helper()
		for _, sc := range scenarios {
			b.Run(sc.name, func(b *testing.B) {
				_, w, r := bind(b, sc.setup)
				var lat []time.Duration
				lost, early := 0, 0
				for i := range writesPerN * b.N {
					v := fmt.Sprintf("v%d", i+1)
					r.expect(v)
					at := w.do(b, sc.name+" "+v)
					seen := r.waitSeen(5 * time.Second)
					if seen == 0 {
						lost++
						continue
					}
					if seen < at {
						early++ // the writer process had not yet noted the time
					}
					lat = append(lat, max(0, time.Duration(seen-at)))
				}
				r.close()
				b.ReportMetric(float64(early), "early")
				report(b, lat, r.bad.Load(), lost)
			})
		}
	})
}

// BenchmarkWriterProcessStress: 1,000 Kubernetes swaps 1 ms apart by the
// writer process. Metrics: last-ok (1 when Get ends on the last value),
// alive (1 when a swap after the storm is seen too), bad-reads, and
// last-ms from the storm's end to Get showing the last value. It runs one
// storm whatever b.N.
func BenchmarkWriterProcessStress(b *testing.B) {
	backends(b, func(b *testing.B) {
		b.Helper()
		_, w, r := bind(b, kubeSetup)
		lastOK, alive := 1.0, 1.0
		var lastMs float64
		for i := range 1 { // one storm whatever b.N: it is 1,000 writes
			last := fmt.Sprintf("last%d", i)
			r.expect(last)
			at := w.do(b, fmt.Sprintf("stress %d %s", stressSwaps, last))
			seen := r.waitSeen(5 * time.Second)
			if seen == 0 {
				lastOK = 0
			} else {
				lastMs = max(lastMs, float64(max(0, seen-at))/1e6)
			}
			after := fmt.Sprintf("after%d", i)
			r.expect(after)
			w.do(b, "3-kubernetes "+after)
			if r.waitSeen(5*time.Second) == 0 {
				alive = 0
			}
		}
		r.close()
		b.ReportMetric(lastOK, "last-ok")
		b.ReportMetric(alive, "alive")
		b.ReportMetric(float64(r.bad.Load()), "bad-reads")
		b.ReportMetric(lastMs, "last-ms")
		b.ReportMetric(0, "ns/op")
		if lastOK == 0 || alive == 0 || r.bad.Load() != 0 {
			b.Errorf("last-ok=%v alive=%v bad-reads=%d", lastOK, alive, r.bad.Load())
		}
	})
}

// BenchmarkWatchedFileIdle measures the CPU time the whole process uses
// while one watched file stays unchanged: cpu-ms per idle second. The
// baseline is the same process with nothing bound, sleeping.
func BenchmarkWatchedFileIdle(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		reportIdleCPU(b)
	})
	backends(b, func(b *testing.B) {
		b.Helper()
		bindFile(b, plainSetup)
		time.Sleep(50 * time.Millisecond) // let the first check end
		reportIdleCPU(b)
	})
}

// reportIdleCPU sleeps idleWindow b.N times and reports the process's CPU
// time per idle second.
func reportIdleCPU(b *testing.B) {
	b.Helper()
	var total time.Duration
	for range b.N {
		before := cpuTime(b)
		time.Sleep(idleWindow)
		total += cpuTime(b) - before
	}
	b.ReportMetric(float64(total)/1e6/(float64(b.N)*idleWindow.Seconds()), "cpu-ms/idle-s")
	b.ReportMetric(0, "ns/op")
}

// idleWindow is how long one idle measurement lasts.
const idleWindow = 250 * time.Millisecond

func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(b *testing.B, lat []time.Duration, bad int64, lost int) {
	b.Helper()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return -1
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(bad), "bad-reads")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(0, "ns/op")
	if lost > 0 {
		b.Errorf("%d writes never seen", lost)
	}
}
