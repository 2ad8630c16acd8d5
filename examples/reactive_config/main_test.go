package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/childtest"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer collects output written from several goroutines.
type syncBuffer = fixture.Buffer

// TestTour runs the demo exactly as the README does, minus the wait for
// Ctrl-C, and checks what it prints.
func TestTour(t *testing.T) {
	var out syncBuffer
	if err := run(t.Context(), &out, []string{"-dir", t.TempDir(), "-exit"}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"gen 1: name=reactive-demo workers=4 timeout=2s features=[search export] log=info",
		"gen 2 updated Settings",
		"gen 2 error Settings",
		"validation failed: workers must be at least 1, got 0",
		"gen 3 added APIKey (env:DEMO_API_KEY): [redacted]",
		"tour done: gen 3 workers=8",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "sk-demo-rotated") {
		t.Errorf("secret printed:\n%s", got)
	}
}

// TestManyEditsThenCancel is the regression test for the demo that stopped
// printing after about 70 edits and ignored Ctrl-C: its callback sent every
// update on a channel that nothing read after the tour, so the callback
// blocked for good, and Close (run by the canceled context) waited for it.
// The demo must print every one of 100 edits and return promptly once its
// context is canceled. It runs in a child process: the bug hangs.
func TestManyEditsThenCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("100 debounced edits take about 15 s")
	}
	res := childtest.Run(t, childtest.Limits{Timeout: 90 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		// The tour sets DEMO_API_KEY; a parent that ran TestTour passed it
		// on, and the tour would then see no change.
		t.Setenv("DEMO_API_KEY", "")
		if err := os.Unsetenv("DEMO_API_KEY"); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var out syncBuffer
		done := make(chan error, 1)
		go func() { done <- run(ctx, &out, []string{"-dir", dir, "-tour=true"}) }()
		if !waitOutput(t, &out, "or press Ctrl-C", 20*time.Second) {
			cancel()
			if err := <-done; err != nil {
				t.Log(err)
			}
			t.Fatalf("the tour did not finish:\n%s", out.String())
		}
		path := filepath.Join(dir, "app.toml")
		for i := range 100 {
			doc := fmt.Sprintf("name = \"edit-%d\"\nworkers = %d\n", i, i+1)
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			if !waitOutput(t, &out, fmt.Sprintf("-> {edit-%d ", i), 10*time.Second) {
				t.Errorf("edit %d was not printed; the demo stopped after %d edits", i, i)
				break
			}
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after cancel: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the demo did not return within 10 s of its context being canceled (Ctrl-C ignored)")
		}
	})
	if !res.OK() {
		t.Fatalf("demo child failed: %v", res)
	}
}

// waitOutput waits until out contains want, up to d; it reports whether
// it did.
func waitOutput(t *testing.T, out *syncBuffer, want string, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), want) {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}
