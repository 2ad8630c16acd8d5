package env

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func openDriver(t testing.TB, e *fixture.Env) sources.Driver {
	t.Helper()
	s, ok := sources.Lookup("env")
	if !ok {
		t.Fatal(`scheme "env" not registered`)
	}
	if !s.Poll {
		t.Error("env scheme must accept poll=")
	}
	return fixture.OpenDriverWith(t, "env", sources.Config{LookupEnv: e.Lookup})
}

func target(name string, poll time.Duration) *sources.Target {
	return &sources.Target{Scheme: "env", Location: name, Poll: poll}
}

// waitFor bounds every wait for an emit.
const waitFor = 5 * time.Second

// newRecorder returns a collector of what one Watch emits.
func newRecorder() *fixture.Collector[sources.Result] { return fixture.NewCollector[sources.Result]() }

func TestOpenNeedsLookupEnv(t *testing.T) {
	t.Parallel()
	s, _ := sources.Lookup("env")
	if _, err := s.Open(sources.Config{}); err == nil {
		t.Fatal("Open with nil LookupEnv: want error")
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	e := fixture.NewEnv("SET", "hello", "EMPTY", "")
	d := openDriver(t, e)

	tests := []struct {
		name, loc string
		want      sources.Result
	}{
		{"unset", "UNSET", sources.Result{Missing: true}},
		{"set", "SET", sources.Result{Data: []byte("hello")}},
		{"empty", "EMPTY", sources.Result{Data: []byte{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := d.Read(t.Context(), target(tt.loc, 0))
			if got.Err != nil || got.Missing != tt.want.Missing || string(got.Data) != string(tt.want.Data) || got.Version != "" {
				t.Fatalf("Read(%s) = %+v, want %+v", tt.loc, got, tt.want)
			}
			if !got.Missing && got.Data == nil {
				t.Fatalf("Read(%s): set variable must have non-nil Data", tt.loc)
			}
		})
	}
}

func TestReadEmptyName(t *testing.T) {
	t.Parallel()
	d := openDriver(t, fixture.NewEnv())
	if got := d.Read(t.Context(), target("", 0)); got.Err == nil {
		t.Fatalf("Read of empty name = %+v, want Err", got)
	}
}

func TestWatchDetectsChanges(t *testing.T) {
	t.Parallel()
	e := fixture.NewEnv()
	d := openDriver(t, e)
	tg := target("VAR", 10*time.Millisecond)
	last := d.Read(t.Context(), tg)
	if !last.Missing {
		t.Fatalf("initial Read = %+v, want Missing", last)
	}
	r := newRecorder()
	fixture.Watch(t, d, tg, last, r.Add)

	steps := []struct {
		name  string
		apply func()
		want  sources.Result
	}{
		{"set", func() { e.Set("VAR", "a") }, sources.Result{Data: []byte("a")}},
		{"change", func() { e.Set("VAR", "b") }, sources.Result{Data: []byte("b")}},
		{"empty", func() { e.Set("VAR", "") }, sources.Result{Data: []byte{}}},
		{"unset", func() { e.Unset("VAR") }, sources.Result{Missing: true}},
		{"set-again", func() { e.Set("VAR", "c") }, sources.Result{Data: []byte("c")}},
	}
	for _, s := range steps {
		s.apply()
		got := r.Next(t, waitFor)
		if got.Missing != s.want.Missing || string(got.Data) != string(s.want.Data) || got.Err != nil {
			t.Fatalf("%s: emit %+v, want %+v", s.name, got, s.want)
		}
		if !got.Missing && got.Data == nil {
			t.Fatalf("%s: set variable must have non-nil Data", s.name)
		}
	}
	r.Quiet(t, 50*time.Millisecond) // no change: no emit
}

func TestWatchSeesChangeBetweenReadAndWatch(t *testing.T) {
	t.Parallel()
	e := fixture.NewEnv("VAR", "old")
	d := openDriver(t, e)
	tg := target("VAR", time.Hour)
	last := d.Read(t.Context(), tg)
	e.Set("VAR", "new")
	r := newRecorder()
	fixture.Watch(t, d, tg, last, r.Add)
	if got := r.Next(t, waitFor); string(got.Data) != "new" {
		t.Fatalf("emit %+v, want new", got)
	}
}

func TestWatchIntervalsAreIndependent(t *testing.T) {
	t.Parallel()
	e := fixture.NewEnv("FAST", "0", "SLOW", "x")
	d := openDriver(t, e)

	slow := newRecorder()
	fixture.Watch(t, d, target("SLOW", time.Hour), sources.Result{Data: []byte("x")}, slow.Add)
	fast := newRecorder()
	fixture.Watch(t, d, target("FAST", 10*time.Millisecond), sources.Result{Data: []byte("0")}, fast.Add)

	for i := 1; i <= 10; i++ {
		want := string(rune('0' + i%10))
		e.Set("FAST", want)
		if got := fast.Next(t, waitFor); string(got.Data) != want {
			t.Fatalf("change %d: emit %q, want %q", i, got.Data, want)
		}
	}
	// The slow target is checked once right after Watch, then not for an hour.
	if n := e.Lookups("SLOW"); n != 1 {
		t.Fatalf("SLOW looked up %d times, want 1", n)
	}
	if n := e.Lookups("FAST"); n < 10 {
		t.Fatalf("FAST looked up %d times, want >= 10", n)
	}
	slow.Pending(t)
}

func TestStopOneKeepsOthers(t *testing.T) {
	t.Parallel()
	e := fixture.NewEnv()
	d := openDriver(t, e)
	a := newRecorder()
	stopA := fixture.Watch(t, d, target("A", 10*time.Millisecond), sources.Result{Missing: true}, a.Add)
	b := newRecorder()
	fixture.Watch(t, d, target("B", 10*time.Millisecond), sources.Result{Missing: true}, b.Add)

	stopA()
	stopA() // idempotent
	e.Set("A", "1")
	e.Set("B", "1")
	if got := b.Next(t, waitFor); string(got.Data) != "1" {
		t.Fatalf("B emit %+v, want 1", got)
	}
	e.Set("B", "2")
	if got := b.Next(t, waitFor); string(got.Data) != "2" {
		t.Fatalf("B emit %+v, want 2", got)
	}
	a.Pending(t) // no emit after stop
}

func TestRestartAfterLastStop(t *testing.T) {
	t.Parallel()
	e := fixture.NewEnv()
	d := openDriver(t, e)
	for i := range 3 {
		r := newRecorder()
		stop := fixture.Watch(t, d, target("V", 10*time.Millisecond), sources.Result{Missing: true}, r.Add)
		want := string(rune('a' + i))
		e.Set("V", want)
		r.Until(t, waitFor, func(res sources.Result) bool { return string(res.Data) == want })
		stop()
		e.Unset("V")
	}
}

// TestCloseLeaksNothing is not parallel: it checks the goroutine count.
func TestCloseLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := fixture.NewEnv()
	s, _ := sources.Lookup("env")
	d, err := s.Open(sources.Config{LookupEnv: e.Lookup})
	if err != nil {
		t.Fatal(err)
	}
	var stops []func()
	for _, name := range []string{"A", "B", "C"} {
		stop, err := d.Watch(target(name, 5*time.Millisecond), sources.Result{Missing: true}, func(sources.Result) {})
		if err != nil {
			t.Fatal(err)
		}
		stops = append(stops, stop)
	}
	e.Set("A", "1")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if _, err := d.Watch(target("D", 0), sources.Result{}, func(sources.Result) {}); err == nil {
		t.Fatal("Watch after Close: want error")
	}
	for _, stop := range stops { // stop after Close is harmless
		stop()
	}
}

func TestNoEmitAfterStop(t *testing.T) {
	t.Parallel()
	e := fixture.NewEnv()
	d := openDriver(t, e)

	// Keep another target alive so the poll goroutine keeps running.
	stopOther, err := d.Watch(target("OTHER", time.Millisecond), sources.Result{Missing: true}, func(sources.Result) {})
	if err != nil {
		t.Fatal(err)
	}
	defer stopOther()

	defer fixture.Churn(func(i int) { e.Set("HOT", string(rune('a'+i%26))) }, 100*time.Microsecond)()

	for i := range 20 {
		var stopped atomic.Bool
		var emits atomic.Int64
		stop, err := d.Watch(target("HOT", time.Millisecond), sources.Result{Missing: true}, func(sources.Result) {
			if stopped.Load() {
				t.Errorf("round %d: emit after stop returned", i)
			}
			emits.Add(1)
		})
		if err != nil {
			t.Fatal(err)
		}
		// Let a few emits through, then stop.
		deadline := time.Now().Add(5 * time.Second)
		for emits.Load() < 3 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		stop()
		stopped.Store(true)
	}
}

func TestNextPoll(t *testing.T) {
	t.Parallel()
	d := openDriver(t, fixture.NewEnv())
	tg := &sources.Target{Scheme: "env", Location: "NP", Poll: time.Hour}
	stop, err := d.Watch(tg, d.Read(t.Context(), tg), func(sources.Result) {})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	np := d.(sources.NextPoller)
	deadline := time.Now().Add(5 * time.Second)
	for np.NextPoll(tg).IsZero() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got, want := np.NextPoll(tg), time.Now().Add(time.Hour); got.Before(want.Add(-time.Minute)) || got.After(want.Add(time.Minute)) {
		t.Fatalf("NextPoll = %v, want about %v", got, want)
	}
	if !np.NextPoll(&sources.Target{}).IsZero() {
		t.Fatal("NextPoll of a target not watched is not zero")
	}
}

// TestLookupPanicIsAnError: a lookup function that panics (user code given
// with livebind.WithLookupEnv) yields an error result wrapping
// ErrLookupPanicked, from Read and from the poll loop, which keeps polling;
// the panic value (it may be a variable's value) is not shown. In a child
// process: an unrecovered panic in the lookup ends the test binary, from
// the poll loop's goroutine as from Read.
func TestLookupPanicIsAnError(t *testing.T) {
	t.Parallel()
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		s, _ := sources.Lookup("env")
		var panics atomic.Int32
		d, err := s.Open(sources.Config{LookupEnv: func(name string) (string, bool) {
			if name == "BAD" {
				panics.Add(1)
				panic("secret-value-in-panic")
			}
			return "ok", true
		}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		r := d.Read(t.Context(), target("BAD", 0))
		if !errors.Is(r.Err, ErrLookupPanicked) || strings.Contains(r.Err.Error(), "secret-value") {
			t.Fatalf("Read: want ErrLookupPanicked without the value, got %v", r.Err)
		}
		rec := newRecorder()
		stop, err := d.Watch(target("BAD", 10*time.Millisecond), sources.Result{Data: []byte("old")}, rec.Add)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		if got := rec.Next(t, waitFor); !errors.Is(got.Err, ErrLookupPanicked) {
			t.Fatalf("Watch: want ErrLookupPanicked, got %+v", got)
		}
		deadline := time.Now().Add(waitFor)
		for panics.Load() < 4 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if panics.Load() < 4 {
			t.Fatalf("the poll loop stopped after a panic: %d lookups", panics.Load())
		}
	})
}
