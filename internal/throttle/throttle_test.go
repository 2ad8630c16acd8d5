package throttle

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type delivery struct {
	at time.Duration // since the test's start, on the synctest clock
	v  int
}

// log records deliveries with their time relative to start.
type log struct {
	start time.Time
	mu    sync.Mutex
	got   []delivery
}

func newLog() *log { return &log{start: time.Now()} }

func (l *log) out(v int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, delivery{time.Since(l.start), v})
}

func (l *log) deliveries() []delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

func (l *log) want(t *testing.T, want ...delivery) {
	t.Helper()
	if got := l.deliveries(); !slices.Equal(got, want) {
		t.Fatalf("deliveries = %v, want %v", got, want)
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestZeroConfigIsSynchronous(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLog()
		g := New(Config{}, l.out)
		defer g.Stop()
		for i := 1; i <= 3; i++ {
			g.Push(i)
			if got := l.deliveries(); len(got) != i || got[i-1].v != i {
				t.Fatalf("after Push(%d): deliveries %v", i, got)
			}
		}
	})
}

func TestDebounceResetsOnEachPush(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLog()
		g := New(Config{Debounce: ms(100)}, l.out)
		defer g.Stop()

		g.Push(1)
		time.Sleep(ms(60))
		g.Push(2)
		time.Sleep(ms(60))
		g.Push(3) // t=120: the first deadline (100) and the second (160) have been pushed back
		time.Sleep(ms(90))
		synctest.Wait()
		l.want(t) // t=210: still inside the debounce of the push at 120
		time.Sleep(ms(100))
		synctest.Wait()
		l.want(t, delivery{ms(220), 3})
	})
}

func TestMaxWaitCapsSteadyDrip(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLog()
		g := New(Config{Debounce: ms(100), MaxWait: ms(300)}, l.out)
		defer g.Stop()

		// Value i is pushed at 40*(i-1) ms: a drip faster than the debounce.
		for i := 1; i <= 25; i++ {
			g.Push(i)
			time.Sleep(ms(40))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		l.want(t,
			delivery{ms(300), 8},   // burst from 0, capped at 0+300; v8 was pushed at 280
			delivery{ms(620), 16},  // burst from 320 (v9), capped at 620
			delivery{ms(940), 24},  // burst from 640 (v17), capped at 940
			delivery{ms(1060), 25}, // burst from 960, ends by debounce
		)
	})
}

func TestThrottleBurst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLog()
		g := New(Config{Every: time.Second, Burst: 3}, l.out)
		defer g.Stop()

		for i := 1; i <= 100; i++ {
			g.Push(i)
		}
		synctest.Wait()
		l.want(t, delivery{0, 1}, delivery{0, 2}, delivery{0, 3})

		time.Sleep(10 * time.Second)
		synctest.Wait()
		l.want(t, delivery{0, 1}, delivery{0, 2}, delivery{0, 3}, delivery{time.Second, 100})

		// The bucket has refilled: three more pass at once.
		for i := 101; i <= 104; i++ {
			g.Push(i)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		got := l.deliveries()[4:]
		want := []delivery{{ms(10000), 101}, {ms(10000), 102}, {ms(10000), 103}, {ms(11000), 104}}
		if !slices.Equal(got, want) {
			t.Fatalf("second burst = %v, want %v", got, want)
		}
	})
}

func TestThrottleDefaultBurstIsOne(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLog()
		g := New(Config{Every: time.Second}, l.out)
		defer g.Stop()
		g.Push(1)
		g.Push(2)
		time.Sleep(ms(500))
		g.Push(3)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		l.want(t, delivery{0, 1}, delivery{time.Second, 3})
	})
}

func TestDebounceThenThrottle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLog()
		g := New(Config{Debounce: ms(100), Every: time.Second}, l.out)
		defer g.Stop()
		g.Push(1) // debounced until 100, token available
		time.Sleep(ms(200))
		g.Push(2) // debounced until 300, next token at 1100
		time.Sleep(5 * time.Second)
		synctest.Wait()
		l.want(t, delivery{ms(100), 1}, delivery{ms(1100), 2})
	})
}

func TestStopDiscardsPending(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"debounce", Config{Debounce: time.Second}},
		{"throttle", Config{Every: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := newLog()
				g := New(tc.cfg, l.out)
				g.Push(1)
				g.Push(2)
				synctest.Wait()
				before := len(l.deliveries())
				time.Sleep(ms(500))
				g.Stop()
				g.Stop() // idempotent
				g.Push(3)
				time.Sleep(time.Hour)
				synctest.Wait()
				if got := l.deliveries(); len(got) != before {
					t.Fatalf("delivery after Stop: %v", got[before:])
				}
			})
		})
	}
}

func TestStopWaitsForOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"zero", Config{}},
		{"debounce", Config{Debounce: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				entered := make(chan struct{})
				g := New(tc.cfg, func(int) {
					close(entered)
					<-release
				})
				go g.Push(1)
				<-entered
				var stopped atomic.Bool
				go func() {
					g.Stop()
					stopped.Store(true)
				}()
				synctest.Wait()
				if stopped.Load() {
					t.Fatal("Stop returned while out was running")
				}
				close(release)
				synctest.Wait()
				if !stopped.Load() {
					t.Fatal("Stop did not return after out finished")
				}
			})
		})
	}
}

// TestConcurrentPush checks, in real time and under -race, that out is never
// called concurrently, values from one pusher arrive in order, and the last
// value is delivered.
func TestConcurrentPush(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"zero", Config{}},
		{"debounce", Config{Debounce: 50 * time.Microsecond, MaxWait: time.Millisecond}},
		{"throttle", Config{Every: 100 * time.Microsecond, Burst: 2}},
		{"both", Config{Debounce: 50 * time.Microsecond, Every: 100 * time.Microsecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const pushers, perPusher = 4, 2000
			var inOut atomic.Int32
			var mu sync.Mutex
			lastSeen := make([]int, pushers+1) // per pusher: highest sequence delivered
			final := make(chan struct{})
			g := New(tc.cfg, func(v [2]int) {
				if inOut.Add(1) != 1 {
					t.Error("out called concurrently")
				}
				defer inOut.Add(-1)
				mu.Lock()
				defer mu.Unlock()
				id, seq := v[0], v[1]
				if seq <= lastSeen[id] {
					t.Errorf("pusher %d: seq %d after %d", id, seq, lastSeen[id])
				}
				lastSeen[id] = seq
				if id == pushers {
					close(final)
				}
			})
			defer g.Stop()

			var wg sync.WaitGroup
			for id := range pushers {
				wg.Go(func() {
					for seq := 1; seq <= perPusher; seq++ {
						g.Push([2]int{id, seq})
					}
				})
			}
			wg.Wait()
			g.Push([2]int{pushers, 1})
			select {
			case <-final:
			case <-time.After(5 * time.Second):
				t.Fatal("last pushed value not delivered within 5s")
			}
		})
	}
}

func BenchmarkPushUnthrottled(b *testing.B) {
	var sink int
	g := New(Config{}, func(v int) { sink = v })
	defer g.Stop()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.Push(i)
	}
	_ = sink
}
