package env

import (
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sourcetest"
)

// TestConformance runs the sources conformance kit against the env driver
// over a fake environment. Its one failure is an empty name; the
// environment cannot stall or hold a value larger than the process allows,
// so the stall and oversize checks have no hook.
func TestConformance(t *testing.T) {
	e := fixture.NewEnv()
	var n atomic.Int64
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "env",
		Config: func(*testing.T) sources.Config { return sources.Config{LookupEnv: e.Lookup} },
		Target: func(*testing.T) *sources.Target {
			return target("CONFORMANCE_"+strconv.FormatInt(n.Add(1), 10), 5*time.Millisecond)
		},
		Set:    func(_ *testing.T, tg *sources.Target, v []byte) { e.Set(tg.Location, string(v)) },
		Remove: func(_ *testing.T, tg *sources.Target) { e.Unset(tg.Location) },
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			return sources.Config{LookupEnv: e.Lookup}, target("", time.Millisecond)
		},
		ErrorAs: func(err error) bool { return errors.Is(err, ErrEmptyName) },
		Quiet:   100 * time.Millisecond,
	})
}

func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	s, _ := sources.Lookup("env")
	if err := s.Check(target("", 0)); !errors.Is(err, ErrEmptyName) {
		t.Fatalf("Check of an empty name: %v, want ErrEmptyName", err)
	}
	if err := s.Check(target("HOME", 0)); err != nil {
		t.Fatalf("Check of HOME: %v", err)
	}
}
