package livebind

import (
	"errors"
	"strings"
	"testing"

	"github.com/livebind/livebind/sources/env"
)

// TestLookupEnvPanicFailsBind: a WithLookupEnv function that panics while
// Bind expands tags makes Bind fail with an error wrapping
// env.ErrLookupPanicked, without the panic value; the process survives
// (issue 10, class 3: user code never kills the process).
func TestLookupEnvPanicFailsBind(t *testing.T) {
	t.Parallel()
	var c struct {
		Path string `live:"file=${DIR}/app.txt"`
	}
	_, err := Bind(t.Context(), &c, WithLookupEnv(func(string) (string, bool) { panic("hunter2-in-panic") }))
	if !errors.Is(err, env.ErrLookupPanicked) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("want env.ErrLookupPanicked without the value, got %v", err)
	}
	if c.Path != "" {
		t.Fatal("a failed Bind wrote *dst")
	}
}
