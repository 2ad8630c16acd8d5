package childtest

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var sink [][]byte

func TestRun(t *testing.T) {
	t.Run("passes", func(t *testing.T) {
		res := Run(t, Limits{Timeout: 20 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		})
		if !res.OK() {
			t.Fatalf("want OK, got %v", res)
		}
	})
	t.Run("fails", func(t *testing.T) {
		res := Run(t, Limits{Timeout: 20 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
			t.Error("boom")
		})
		if res.OK() || res.Exit != 1 || !strings.Contains(res.Output, "boom") {
			t.Fatalf("want exit 1 with the failure, got %v", res)
		}
	})
	t.Run("heap", func(t *testing.T) {
		res := Run(t, Limits{Timeout: 20 * time.Second, Heap: 64 << 20}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper

			for range 1 << 12 { // at most 4 GiB, far past the limit
				sink = append(sink, make([]byte, 1<<20))
				time.Sleep(time.Millisecond)
			}
		})
		if !res.HeapExceeded {
			t.Fatalf("want the heap watchdog to fire, got %v", res)
		}
	})
	t.Run("hang", func(t *testing.T) {
		res := Run(t, Limits{Timeout: 2 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper

			select {} // never returns
		})
		if !res.TimedOut {
			t.Fatalf("want a timeout, got %v", res)
		}
	})
	t.Run("stack overflow", func(t *testing.T) {
		res := Run(t, Limits{Timeout: 20 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
			t.Log(recurse(0))
		})
		if res.OK() || !strings.Contains(res.Output, "stack") {
			t.Fatalf("want the child to die of a stack overflow, got %v", res)
		}
	})
	t.Run("stack limit", func(t *testing.T) {
		res := Run(t, Limits{Timeout: 20 * time.Second, Stack: 8 << 20}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
			t.Log(recurse(0))
		})
		if res.OK() || !strings.Contains(res.Output, "goroutine stack exceeds 8388608-byte limit") {
			t.Fatalf("want the child to die of a stack overflow at 8 MiB, got %v", res)
		}
	})
}

// recurse overflows the stack for any n >= 0.
func recurse(n int) int {
	if n < 0 {
		return 0
	}
	return recurse(n+1) + 1
}
