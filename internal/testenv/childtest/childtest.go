// Package childtest runs part of a test in a child process: the test binary
// re-executes itself, running only the calling test, under a wall-clock and a
// heap watchdog. Use it for inputs that could kill or hang the process (a
// stack overflow, a runaway allocation, a call that never returns): the parent
// test survives and sees what happened to the child.
//
// It is test support, not part of livebind's API.
package childtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// envKey names the test a child process runs the body of.
const envKey = "LIVEBIND_CHILDTEST"

// heapExceededCode is the child's exit code when the heap watchdog fires.
const heapExceededCode = 97

// Limits bounds one child.
type Limits struct {
	// Timeout is the child's wall-clock budget (default 60 s). Past it the
	// child panics with every goroutine's stack (go test's -timeout), and is
	// killed 10 s later if it still runs.
	Timeout time.Duration
	// Heap is the most heap, in bytes, the child may hold at once (default
	// 512 MiB). The watchdog samples it every 10 ms.
	Heap uint64
	// Stack is the most stack, in bytes, one goroutine of the child may
	// use (default: the runtime's own, 1 GB on 64-bit systems). Goroutine
	// stacks are not heap objects, so the heap watchdog misses a runaway
	// recursion: without a lower bound it takes a gigabyte of memory
	// before the runtime's "fatal error: stack overflow".
	Stack int
}

// Result is what happened to the child.
type Result struct {
	// Exit is the child's exit code, or -1 if it was killed.
	Exit int
	// TimedOut reports that the child ran past Limits.Timeout.
	TimedOut bool
	// HeapExceeded reports that the heap watchdog ended the child.
	HeapExceeded bool
	// Elapsed is how long the child ran.
	Elapsed time.Duration
	// Output is what the child printed (stdout and stderr).
	Output string
}

// OK reports that the child finished in time, within its heap limit, and
// its body passed.
func (r Result) OK() bool { return r.Exit == 0 && !r.TimedOut && !r.HeapExceeded }

// String summarizes the result for test failure messages.
func (r Result) String() string {
	out := r.Output
	if len(out) > 4000 {
		out = "..." + out[len(out)-4000:]
	}
	return fmt.Sprintf("exit=%d timedOut=%v heapExceeded=%v elapsed=%v\n%s", r.Exit, r.TimedOut, r.HeapExceeded, r.Elapsed.Round(time.Millisecond), out)
}

// InChild reports whether this process is a child started by Run for t.
func InChild(tb testing.TB) bool {
	tb.Helper()
	return os.Getenv(envKey) == tb.Name()
}

// Run runs body in a child process and returns what happened to it. In the
// child itself, Run starts the heap watchdog, runs body and ends the test
// there (so code after Run only ever runs in the parent); body fails the
// child with t.Error or t.Fatal as usual.
//
// The calling test is run again from its start in the child, so everything
// before Run must be cheap and free of side effects outside the test.
func Run(t *testing.T, lim Limits, body func(t *testing.T)) Result {
	t.Helper()
	if lim.Timeout <= 0 {
		lim.Timeout = 60 * time.Second
	}
	if lim.Heap == 0 {
		lim.Heap = 512 << 20
	}
	if InChild(t) {
		if lim.Stack > 0 {
			debug.SetMaxStack(lim.Stack)
		}
		stop := watchHeap(lim.Heap)
		defer stop()
		body(t)
		stop()
		t.SkipNow() // the parent judges; nothing after Run runs in the child
		return Result{}
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatalf("childtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), lim.Timeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"-test.run="+runPattern(t.Name()),
		"-test.count=1",
		"-test.v",
		"-test.timeout="+lim.Timeout.String(),
	)
	cmd.Env = append(os.Environ(), envKey+"="+t.Name())
	start := time.Now()
	out, err := cmd.CombinedOutput()
	res := Result{Elapsed: time.Since(start), Output: string(out)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Exit = ee.ExitCode()
	default:
		t.Fatalf("childtest: start child: %v", err)
	}
	res.HeapExceeded = res.Exit == heapExceededCode
	res.TimedOut = ctx.Err() != nil || strings.Contains(res.Output, "panic: test timed out after")
	if !strings.Contains(res.Output, "--- SKIP: "+t.Name()) && res.OK() {
		// The body never reached its end: the child ran something else.
		res.Exit = -2
	}
	return res
}

// Require is Run for a body that must pass: the test fails, with what
// happened to the child, unless the child passed.
func Require(t *testing.T, lim Limits, body func(t *testing.T)) {
	t.Helper()
	if res := Run(t, lim, body); !res.OK() {
		t.Fatalf("%v", res)
	}
}

// runPattern anchors every level of a (sub)test name for -test.run.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// watchHeap ends the process with heapExceededCode when the live heap
// passes limit. The returned stop ends the watchdog; it may be called twice.
func watchHeap(limit uint64) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				metrics.Read(sample)
				if v := sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > limit {
					fmt.Fprintf(os.Stderr, "childtest: heap %d bytes passed the limit of %d bytes\n", v.Uint64(), limit)
					os.Exit(heapExceededCode)
				}
			}
		}
	}()
	var stopped bool
	return func() {
		if !stopped {
			stopped = true
			close(done)
			<-exited
		}
	}
}
