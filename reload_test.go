package livebind

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReloadReportsErrors(t *testing.T) {
	t.Parallel()
	b, env := bindN(t, "1")
	env.set("N", "two")
	err := b.Reload(t.Context())
	require.ErrorIs(t, err, ErrDecode)
	assert.Equal(t, 1, b.Get().N)
	env.set("N", "2")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, 2, b.Get().N)
	require.NoError(t, b.Close())
	require.ErrorIs(t, b.Reload(t.Context()), ErrClosed)
}

// TestReloadBeatsOlderGatedValue: a value waiting in a debounce gate when
// Reload reads a newer one must not overwrite it afterwards.
func TestReloadBeatsOlderGatedValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newEnv("A", "v0")
		var cfg struct {
			A string `live:"env=A; poll=300ms; debounce=100ms"`
		}
		b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
		got := seen(b, func(u Update) (any, bool) { return u.New, true })
		time.Sleep(250 * time.Millisecond)
		env.set("A", "v1") // seen by the poll at 300ms, held by the gate until 400ms
		time.Sleep(60 * time.Millisecond)
		env.set("A", "v2")
		require.NoError(t, b.Reload(t.Context()))
		assert.Equal(t, "v2", b.Get().A)
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, "v2", b.Get().A, "the older gated value was dropped")
		assert.Equal(t, []any{"v2"}, got())
	})
}

// TestSameBadValueReportedOnce: a bad value seen again (a watch and a Reload
// reading the same bytes) is one Error update, but Reload still reports it.
func TestSameBadValueReportedOnce(t *testing.T) {
	t.Parallel()
	b, env := bindN(t, "1")
	rec := record(t, b)
	env.set("N", "x")
	require.ErrorIs(t, b.Reload(t.Context()), ErrDecode)
	require.ErrorIs(t, b.Reload(t.Context()), ErrDecode, "still failing")
	rec.want(t, Error)
	rec.quiet(t, 50*time.Millisecond)
	env.set("N", "y")
	require.ErrorIs(t, b.Reload(t.Context()), ErrDecode)
	assert.Equal(t, Error, rec.next(t, wait).Kind, "a different bad value is reported")
}

// TestThrottleAndDebounceOnEnv puts the generic gate in front of a source
// that does not debounce itself, in a synctest bubble so that the counts are
// exact: a burst of 100 changes 5ms apart.
func TestThrottleAndDebounceOnEnv(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newEnv("T", "0", "D", "0")
		var cfg struct {
			T int `live:"env=T; poll=2ms; throttle=300ms; burst=2"`
			D int `live:"env=D; poll=2ms; debounce=100ms"`
		}
		b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
		tSeen, dSeen := seen(b, newInt("T")), seen(b, newInt("D"))
		time.Sleep(time.Millisecond) // off the poll ticks: no two events at one instant
		for i := 1; i <= 100; i++ {
			env.set("T", strconv.Itoa(i))
			env.set("D", strconv.Itoa(i))
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		tGot, dGot := tSeen(), dSeen()
		// Throttle: two tokens pass the first two changes at once, the rest
		// coalesce into the latest value when the next token frees.
		// 100 changes over 500ms: the next token frees after ~300ms, at the
		// same instant as a poll (so value 60 or 61), the one after when the
		// burst is over: 4 deliveries, the last one final.
		require.Len(t, tGot, 4)
		assert.Equal(t, []int{1, 2}, tGot[:2])
		assert.Contains(t, []int{60, 61}, tGot[2])
		assert.Equal(t, 100, tGot[3])
		// Debounce: changes 5ms apart never leave 100ms of quiet until the end.
		assert.Equal(t, []int{100}, dGot)
		assert.Equal(t, 100, b.Get().T)
	})
}

// TestMaxWaitCapsADrip: a change every 20ms would postpone a 100ms debounce
// forever; maxwait=300ms forces an update at least that often.
func TestMaxWaitCapsADrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newEnv("M", "0")
		var cfg struct {
			M int `live:"env=M; poll=1ms; debounce=100ms; maxwait=300ms"`
		}
		b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
		start := time.Now()
		atSeen := seen(b, func(Update) (time.Duration, bool) { return time.Since(start), true })
		for i := 1; i <= 50; i++ { // 1s of drip
			env.set("M", strconv.Itoa(i))
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		at := atSeen()
		require.GreaterOrEqual(t, len(at), 4, "at least one update per maxwait during the drip: %v", at)
		// A burst starts at the first change after a delivery, so two
		// deliveries are at most maxwait + one drip interval + one poll apart.
		for i := 1; i < len(at)-1; i++ {
			assert.LessOrEqual(t, at[i]-at[i-1], 300*time.Millisecond+20*time.Millisecond+2*time.Millisecond, "gap %d: %v", i, at)
		}
		assert.Equal(t, 50, b.Get().M)
	})
}

// TestOrderingUnderConcurrentSources: with four sources changing at once,
// updates arrive in generation order and after their snapshot is visible.
func TestOrderingUnderConcurrentSources(t *testing.T) {
	t.Parallel()
	env := newEnv("O1", "0", "O2", "0", "O3", "0", "O4", "0")
	var cfg struct {
		O1 int `live:"env=O1; poll=1ms"`
		O2 int `live:"env=O2; poll=1ms"`
		O3 int `live:"env=O3; poll=1ms"`
		O4 int `live:"env=O4; poll=1ms"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	var early atomic.Int64
	gensSeen := seen(b, func(u Update) (uint64, bool) {
		if gen(b) < u.Gen {
			early.Add(1)
		}
		return u.Gen, true
	})
	var wg sync.WaitGroup
	for _, name := range []string{"O1", "O2", "O3", "O4"} {
		wg.Go(func() {
			for i := 1; i <= 100; i++ {
				env.set(name, fmt.Sprint(i))
				time.Sleep(500 * time.Microsecond)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(wait)
	for {
		c := b.Get()
		if c.O1 == 100 && c.O2 == 100 && c.O3 == 100 && c.O4 == 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	gens := gensSeen()
	require.NotEmpty(t, gens)
	for i := 1; i < len(gens); i++ {
		require.LessOrEqual(t, gens[i-1], gens[i], "generation order")
	}
	assert.Zero(t, early.Load(), "an update arrived before its snapshot was visible")
	assert.Equal(t, 100, b.Get().O4)
	t.Logf("%d updates in %d generations", len(gens), gens[len(gens)-1]-1)
}

// seen subscribes to b and keeps what pick makes of each update it accepts;
// the returned function gives a copy of what was kept so far (read it after
// synctest.Wait in a bubble).
func seen[T, V any](b *Binding[T], pick func(Update) (V, bool)) func() []V {
	var mu sync.Mutex
	var vs []V
	onChange(b, func(u Update) {
		if v, ok := pick(u); ok {
			mu.Lock()
			vs = append(vs, v)
			mu.Unlock()
		}
	})
	return func() []V {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(vs)
	}
}

// newInt picks the new value of the int field named field.
func newInt(field string) func(Update) (int, bool) {
	return func(u Update) (int, bool) {
		if u.Field != field {
			return 0, false
		}
		return u.New.(int), true
	}
}
