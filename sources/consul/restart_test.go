package consul_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/consultest"
)

// TestQuickRestarts: with default options, an agent that restarts (losing
// its data, so its index starts lower) between two requests of the watch
// must not leave the watch blocked on the old, higher index: a value written
// right after each of ten quick restarts arrives within a few seconds.
// Regression: once the rate limit made the watch pause, its next blocking
// query reached the new agent with the old index and slept for wait= (5
// minutes) through every change.
func TestQuickRestarts(t *testing.T) {
	a := consultest.Start(t)
	put(t, a.Client(), "restart/v", "start")
	var cfg struct {
		V string `live:"consul=restart/v; format=text"`
	}
	b, err := livebind.Bind(t.Context(), &cfg, livebind.WithSourceConfig("consul", a.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := 1; i <= 10; i++ {
		a.Restart()
		want := "after-restart-" + strconv.Itoa(i)
		put(t, a.Client(), "restart/v", want)
		deadline := time.Now().Add(5 * time.Second)
		for b.Get().V != want {
			if time.Now().After(deadline) {
				t.Fatalf("restart %d: %q never arrived (have %q)", i, want, b.Get().V)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
