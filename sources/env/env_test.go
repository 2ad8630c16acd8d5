package env

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/sources"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeEnv is a thread-safe environment that counts lookups per name.
type fakeEnv struct {
	mu    sync.Mutex
	vars  map[string]string
	calls map[string]int
}

func newFakeEnv() *fakeEnv {
	return &fakeEnv{vars: map[string]string{}, calls: map[string]int{}}
}

func (e *fakeEnv) LookupEnv(name string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls[name]++
	v, ok := e.vars[name]
	return v, ok
}

func (e *fakeEnv) set(name, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vars[name] = value
}

func (e *fakeEnv) unset(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.vars, name)
}

func (e *fakeEnv) count(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[name]
}

func openDriver(t *testing.T, e *fakeEnv) sources.Driver {
	t.Helper()
	s, ok := sources.Lookup("env")
	if !ok {
		t.Fatal(`scheme "env" not registered`)
	}
	if !s.Poll {
		t.Error("env scheme must accept poll=")
	}
	d, err := s.Open(sources.Config{LookupEnv: e.LookupEnv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d
}

func target(name string, poll time.Duration) *sources.Target {
	return &sources.Target{Scheme: "env", Location: name, Poll: poll}
}

// recorder collects emitted results.
type recorder struct {
	ch chan sources.Result
}

func newRecorder() *recorder { return &recorder{ch: make(chan sources.Result, 1024)} }

func (r *recorder) emit(res sources.Result) { r.ch <- res }

func (r *recorder) next(t *testing.T) sources.Result {
	t.Helper()
	select {
	case res := <-r.ch:
		return res
	case <-time.After(5 * time.Second):
		t.Fatal("no emit within 5s")
		return sources.Result{}
	}
}

// until waits for an emitted result that satisfies ok.
func (r *recorder) until(t *testing.T, ok func(sources.Result) bool) sources.Result {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case res := <-r.ch:
			if ok(res) {
				return res
			}
		case <-deadline:
			t.Fatal("expected emit not seen within 5s")
			return sources.Result{}
		}
	}
}

func TestOpenNeedsLookupEnv(t *testing.T) {
	t.Parallel()
	s, _ := sources.Lookup("env")
	if _, err := s.Open(sources.Config{}); err == nil {
		t.Fatal("Open with nil LookupEnv: want error")
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	e := newFakeEnv()
	e.set("SET", "hello")
	e.set("EMPTY", "")
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
	d := openDriver(t, newFakeEnv())
	if got := d.Read(t.Context(), target("", 0)); got.Err == nil {
		t.Fatalf("Read of empty name = %+v, want Err", got)
	}
}

func TestWatchDetectsChanges(t *testing.T) {
	t.Parallel()
	e := newFakeEnv()
	d := openDriver(t, e)
	tg := target("VAR", 10*time.Millisecond)
	last := d.Read(t.Context(), tg)
	if !last.Missing {
		t.Fatalf("initial Read = %+v, want Missing", last)
	}
	r := newRecorder()
	stop, err := d.Watch(tg, last, r.emit)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	steps := []struct {
		name  string
		apply func()
		want  sources.Result
	}{
		{"set", func() { e.set("VAR", "a") }, sources.Result{Data: []byte("a")}},
		{"change", func() { e.set("VAR", "b") }, sources.Result{Data: []byte("b")}},
		{"empty", func() { e.set("VAR", "") }, sources.Result{Data: []byte{}}},
		{"unset", func() { e.unset("VAR") }, sources.Result{Missing: true}},
		{"set-again", func() { e.set("VAR", "c") }, sources.Result{Data: []byte("c")}},
	}
	for _, s := range steps {
		s.apply()
		got := r.next(t)
		if got.Missing != s.want.Missing || string(got.Data) != string(s.want.Data) || got.Err != nil {
			t.Fatalf("%s: emit %+v, want %+v", s.name, got, s.want)
		}
		if !got.Missing && got.Data == nil {
			t.Fatalf("%s: set variable must have non-nil Data", s.name)
		}
	}
	// No change: no emit.
	select {
	case got := <-r.ch:
		t.Fatalf("emit without change: %+v", got)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestWatchSeesChangeBetweenReadAndWatch(t *testing.T) {
	t.Parallel()
	e := newFakeEnv()
	e.set("VAR", "old")
	d := openDriver(t, e)
	tg := target("VAR", time.Hour)
	last := d.Read(t.Context(), tg)
	e.set("VAR", "new")
	r := newRecorder()
	stop, err := d.Watch(tg, last, r.emit)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if got := r.next(t); string(got.Data) != "new" {
		t.Fatalf("emit %+v, want new", got)
	}
}

func TestWatchIntervalsAreIndependent(t *testing.T) {
	t.Parallel()
	e := newFakeEnv()
	e.set("FAST", "0")
	e.set("SLOW", "x")
	d := openDriver(t, e)

	fast, slow := newRecorder(), newRecorder()
	stopSlow, err := d.Watch(target("SLOW", time.Hour), sources.Result{Data: []byte("x")}, slow.emit)
	if err != nil {
		t.Fatal(err)
	}
	defer stopSlow()
	stopFast, err := d.Watch(target("FAST", 10*time.Millisecond), sources.Result{Data: []byte("0")}, fast.emit)
	if err != nil {
		t.Fatal(err)
	}
	defer stopFast()

	for i := 1; i <= 10; i++ {
		want := string(rune('0' + i%10))
		e.set("FAST", want)
		if got := fast.next(t); string(got.Data) != want {
			t.Fatalf("change %d: emit %q, want %q", i, got.Data, want)
		}
	}
	// The slow target is checked once right after Watch, then not for an hour.
	if n := e.count("SLOW"); n != 1 {
		t.Fatalf("SLOW looked up %d times, want 1", n)
	}
	if n := e.count("FAST"); n < 10 {
		t.Fatalf("FAST looked up %d times, want >= 10", n)
	}
	select {
	case got := <-slow.ch:
		t.Fatalf("unexpected emit for SLOW: %+v", got)
	default:
	}
}

func TestStopOneKeepsOthers(t *testing.T) {
	t.Parallel()
	e := newFakeEnv()
	d := openDriver(t, e)
	a, b := newRecorder(), newRecorder()
	stopA, err := d.Watch(target("A", 10*time.Millisecond), sources.Result{Missing: true}, a.emit)
	if err != nil {
		t.Fatal(err)
	}
	stopB, err := d.Watch(target("B", 10*time.Millisecond), sources.Result{Missing: true}, b.emit)
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()

	stopA()
	stopA() // idempotent
	e.set("A", "1")
	e.set("B", "1")
	if got := b.next(t); string(got.Data) != "1" {
		t.Fatalf("B emit %+v, want 1", got)
	}
	e.set("B", "2")
	if got := b.next(t); string(got.Data) != "2" {
		t.Fatalf("B emit %+v, want 2", got)
	}
	select {
	case got := <-a.ch:
		t.Fatalf("emit after stop: %+v", got)
	default:
	}
}

func TestRestartAfterLastStop(t *testing.T) {
	t.Parallel()
	e := newFakeEnv()
	d := openDriver(t, e)
	for i := range 3 {
		r := newRecorder()
		stop, err := d.Watch(target("V", 10*time.Millisecond), sources.Result{Missing: true}, r.emit)
		if err != nil {
			t.Fatal(err)
		}
		want := string(rune('a' + i))
		e.set("V", want)
		r.until(t, func(res sources.Result) bool { return string(res.Data) == want })
		stop()
		e.unset("V")
	}
}

// TestCloseLeaksNothing is not parallel: it checks the goroutine count.
func TestCloseLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := newFakeEnv()
	s, _ := sources.Lookup("env")
	d, err := s.Open(sources.Config{LookupEnv: e.LookupEnv})
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
	e.set("A", "1")
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
	e := newFakeEnv()
	d := openDriver(t, e)

	// Keep another target alive so the poll goroutine keeps running.
	stopOther, err := d.Watch(target("OTHER", time.Millisecond), sources.Result{Missing: true}, func(sources.Result) {})
	if err != nil {
		t.Fatal(err)
	}
	defer stopOther()

	done := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			e.set("HOT", string(rune('a'+i%26)))
			time.Sleep(100 * time.Microsecond)
		}
	})
	defer writer.Wait()
	defer close(done)

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
	d := openDriver(t, newFakeEnv())
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
