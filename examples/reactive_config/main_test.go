package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

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
