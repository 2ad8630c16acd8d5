// Package sourcetest is the conformance kit for livebind sources. A source
// package, built in or third party, runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		sourcetest.Run(t, sourcetest.Harness{
//			Scheme: "mem",
//			Target: func(t *testing.T) *sources.Target { ... a fresh location ... },
//			Set:    func(t *testing.T, tg *sources.Target, v []byte) { ... },
//			Remove: func(t *testing.T, tg *sources.Target) { ... },
//		})
//	}
//
// Run checks, each in its own subtest, what livebind relies on from every
// [sources.Driver]:
//
//   - lifecycle: Open, Read, Watch, stop and Close leave no goroutine behind;
//     stop and Close are idempotent; Watch after Close fails.
//   - context: Read returns once its context is done, also when the source
//     does not answer (with [Harness.Stall]: then with an error wrapping
//     [sources.ErrUnreachable]); a canceled Read is not ErrUnreachable;
//     Close ends a watch stalled in its request within 2 s.
//   - read: a value reads back as data, an absent location as Missing (not
//     as an error, not as empty data).
//   - changes: a watch reports a change, a removal (Missing, no error) and a
//     re-creation, in order, each once.
//   - read-then-watch: a change between Read and Watch is reported.
//   - fan-out: two watches of one location both see a change; stopping one
//     leaves the other working.
//   - dedupe: writing the same value again emits nothing.
//   - stop: no emit once stop has returned, nor once Close has returned,
//     while the value keeps changing.
//   - errors: (with [Harness.Failing]) a failure is reported as Result.Err,
//     of the source's own type ([Harness.ErrorAs]), naming the location (as
//     the scheme's Redact shows it) and holding none of [Harness.Secrets].
//   - oversize: (with [Harness.Oversize]) a value over the source's limit is
//     an error wrapping [sources.ErrTooLarge], read in bounded memory.
//
// Checks whose harness hook is nil are skipped with a message that says so.
// Run must not be called from a parallel test: it counts goroutines.
package sourcetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// Harness tells the kit how to drive one source.
type Harness struct {
	// Scheme is the registered scheme name. Open defaults to its Open.
	Scheme string
	// Open opens a driver; nil means the registered scheme's Open.
	Open func(cfg sources.Config) (sources.Driver, error)
	// Config returns the config handed to Open, for example one whose Value
	// is a client of the test server. Nil means a config with a discarding
	// logger and os.LookupEnv. A nil Logger or LookupEnv is filled in.
	Config func(t *testing.T) sources.Config
	// Target returns a fresh target at a location no other check uses. The
	// location need not exist yet. Required.
	Target func(t *testing.T) *sources.Target
	// Set writes value at tg's location, creating it. Required.
	Set func(t *testing.T, tg *sources.Target, value []byte)
	// Remove deletes tg's location. Required.
	Remove func(t *testing.T, tg *sources.Target)
	// Failing, when set, returns a config and a target whose observation
	// fails (a server that refuses the credentials, an unreachable address).
	Failing func(t *testing.T) (sources.Config, *sources.Target)
	// ErrorAs reports whether err is the source's typed error (typically an
	// errors.As to its *Error). Nil accepts any non-nil error.
	ErrorAs func(err error) bool
	// Secrets lists strings that must never appear in an error: tokens,
	// passwords, secret values the harness wrote.
	Secrets []string
	// Stall, when set, returns a config and a target whose observation
	// never answers until release is called (a server that hangs). A Read
	// of it cut short by its context must fail with an error wrapping
	// sources.ErrUnreachable: no answer in time ([sources.Unreachable]).
	Stall func(t *testing.T) (cfg sources.Config, tg *sources.Target, release func())
	// Oversize, when set, writes at tg's location a value larger than
	// MaxSize, the most the source accepts.
	Oversize func(t *testing.T, tg *sources.Target)
	// MaxSize is the source's size limit in bytes, for the oversize check.
	// A Read of an oversized value may allocate at most 3·MaxSize + 1 MiB,
	// counted over the whole process: an in-process test server's own
	// allocations count too, so serve a prepared body (io.WriteString of a
	// string built before the check), not one marshaled per request.
	MaxSize int
	// Settle bounds how long a change may take to be reported (default 10 s).
	Settle time.Duration
	// Quiet is how long the kit watches for an emit that must not come
	// (default 300 ms). It must exceed the poll interval of Target's targets.
	Quiet time.Duration
	// IgnoreLeaks lists goroutines the harness itself leaves running, for
	// the lifecycle check: its test server's, and the keep-alive
	// connections of a client the harness hands the driver (a driver closes
	// only the idle connections of clients it built itself).
	IgnoreLeaks []goleak.Option
}

// Run runs every conformance check against h, each as a subtest.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Target == nil || h.Set == nil || h.Remove == nil {
		t.Fatal("sourcetest: Harness needs Target, Set and Remove")
	}
	if h.Open == nil {
		s, ok := sources.Lookup(h.Scheme)
		if !ok {
			t.Fatalf("sourcetest: scheme %q is not registered (import its package) and Harness.Open is nil", h.Scheme)
		}
		h.Open = s.Open
	}
	if h.Settle <= 0 {
		h.Settle = 10 * time.Second
	}
	if h.Quiet <= 0 {
		h.Quiet = 300 * time.Millisecond
	}
	k := &kit{h: h}
	t.Run("lifecycle", k.lifecycle)
	t.Run("context", k.context)
	t.Run("read", k.readCheck)
	t.Run("changes", k.changes)
	t.Run("read-then-watch", k.readThenWatch)
	t.Run("fan-out", k.fanOut)
	t.Run("dedupe", k.dedupe)
	t.Run("stop", k.stop)
	t.Run("errors", k.errors)
	t.Run("oversize", k.oversize)
}

type kit struct{ h Harness }

func (k *kit) config(t *testing.T, cfg func(*testing.T) sources.Config) sources.Config {
	t.Helper()
	var c sources.Config
	if cfg != nil {
		c = cfg(t)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.LookupEnv == nil {
		c.LookupEnv = os.LookupEnv
	}
	return c
}

// open opens a driver closed at the end of the test.
func (k *kit) open(t *testing.T) sources.Driver {
	t.Helper()
	return k.openWith(t, k.config(t, k.h.Config))
}

func (k *kit) openWith(t *testing.T, cfg sources.Config) sources.Driver {
	t.Helper()
	d, err := k.h.Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// read reads tg with the settle bound.
func (k *kit) read(t *testing.T, d sources.Driver, tg *sources.Target) sources.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), k.h.Settle)
	defer cancel()
	return d.Read(ctx, tg)
}

// watch starts a watch recorded by a fresh recorder, stopped at the end.
func (k *kit) watch(t *testing.T, d sources.Driver, tg *sources.Target, last sources.Result) (*recorder, func()) {
	t.Helper()
	r := &recorder{k: k, wake: make(chan struct{}, 1)}
	stop, err := d.Watch(tg, last, r.emit)
	if err != nil {
		t.Fatalf("Watch %s: %v", tg, err)
	}
	t.Cleanup(stop)
	return r, stop
}

// recorder collects what one watch emits.
type recorder struct {
	k    *kit
	mu   sync.Mutex
	rs   []sources.Result
	next int // the first result not yet taken
	wake chan struct{}
}

func (r *recorder) emit(res sources.Result) {
	r.mu.Lock()
	r.rs = append(r.rs, res)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// take returns the next emitted result, failing the test after Settle.
func (r *recorder) take(t *testing.T, what string) sources.Result {
	t.Helper()
	deadline := time.NewTimer(r.k.h.Settle)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		if r.next < len(r.rs) {
			res := r.rs[r.next]
			r.next++
			r.mu.Unlock()
			return res
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-deadline.C:
			t.Fatalf("%s: nothing emitted within %s", what, r.k.h.Settle)
		}
	}
}

// takeData takes the next emitted result and fails unless it is exactly
// the value v.
func (r *recorder) takeData(t *testing.T, what string, v []byte) {
	t.Helper()
	wantData(t, what, r.take(t, what), v)
}

// takeMissing takes the next emitted result and fails unless it reports an
// absent location.
func (r *recorder) takeMissing(t *testing.T, what string) {
	t.Helper()
	wantMissing(t, what, r.take(t, what))
}

// quiet fails the test if anything more is emitted within Quiet.
func (r *recorder) quiet(t *testing.T, what string) {
	t.Helper()
	time.Sleep(r.k.h.Quiet)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next < len(r.rs) {
		t.Errorf("%s: unexpected emit %s", what, show(r.rs[r.next]))
	}
}

// show describes a result for a failure message, with long data clipped.
func show(r sources.Result) string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("{Err: %v}", r.Err)
	case r.Missing:
		return fmt.Sprintf("{Missing, Data: %s}", clip(r.Data))
	}
	return fmt.Sprintf("{Data: %s}", clip(r.Data))
}

// clip quotes data, cut to 64 bytes with its length when longer.
func clip(data []byte) string {
	if len(data) <= 64 {
		return fmt.Sprintf("%q", data)
	}
	return fmt.Sprintf("%q... (%d bytes)", data[:64], len(data))
}

// wantData fails unless r is exactly the value v.
func wantData(t *testing.T, what string, r sources.Result, v []byte) {
	t.Helper()
	if r.Err != nil || r.Missing || !bytes.Equal(r.Data, v) {
		t.Fatalf("%s: got %s, want {Data: %q}", what, show(r), v)
	}
}

// wantMissing fails unless r reports an absent location.
func wantMissing(t *testing.T, what string, r sources.Result) {
	t.Helper()
	if r.Err != nil || !r.Missing || r.Data != nil {
		t.Fatalf("%s: got %s, want {Missing} with nil Data and no Err", what, show(r))
	}
}

// begin opens a driver and a fresh target holding value(check, 1), and
// reads it back: it fails unless the Read returns that value.
func (k *kit) begin(t *testing.T, check string) (sources.Driver, *sources.Target, sources.Result) {
	t.Helper()
	tg := k.h.Target(t)
	d := k.open(t)
	k.h.Set(t, tg, value(check, 1))
	last := k.read(t, d, tg)
	wantData(t, "Read", last, value(check, 1))
	return d, tg, last
}

// value returns a distinct value for step n of a check.
func value(check string, n int) []byte { return fmt.Appendf(nil, "%s-%d", check, n) }

func (k *kit) lifecycle(t *testing.T) {
	tg := k.h.Target(t)
	k.h.Set(t, tg, value("lifecycle", 0))
	k.h.Set(t, tg, value("lifecycle", 1)) // warm the harness's own connections
	cfg := k.config(t, k.h.Config)
	opts := append([]goleak.Option{goleak.IgnoreCurrent()}, k.h.IgnoreLeaks...)

	d, err := k.h.Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	last := k.read(t, d, tg)
	wantData(t, "Read", last, value("lifecycle", 1))
	r := &recorder{k: k, wake: make(chan struct{}, 1)}
	stop, err := d.Watch(tg, last, r.emit)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	other := *tg
	stop2, err := d.Watch(&other, last, func(sources.Result) {})
	if err != nil {
		t.Fatalf("second Watch: %v", err)
	}
	k.h.Set(t, tg, value("lifecycle", 2))
	r.takeData(t, "after Set", value("lifecycle", 2))
	stop()
	stop() // idempotent
	stop2()
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if stop3, err := d.Watch(tg, last, func(sources.Result) {}); err == nil {
		stop3()
		t.Error("Watch after Close: no error")
	}
	if err := goleak.Find(opts...); err != nil {
		t.Errorf("goroutines left after stop and Close: %v", err)
	}

	// Close with a watch still running ends it too.
	d, err = k.h.Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	stop, err = d.Watch(tg, last, func(sources.Result) {})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	stop() // after Close: harmless
	if err := goleak.Find(opts...); err != nil {
		t.Errorf("goroutines left after Close with a watch running: %v", err)
	}
}

func (k *kit) context(t *testing.T) {
	tg := k.h.Target(t)
	k.h.Set(t, tg, value("context", 0))
	d := k.open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var canceled sources.Result
	if !returnsWithin(k.h.Settle, func() { canceled = d.Read(ctx, tg) }) {
		t.Fatalf("Read with a canceled context did not return within %s", k.h.Settle)
	}
	if errors.Is(canceled.Err, sources.ErrUnreachable) {
		t.Errorf("Read with a canceled context: got %s; the cancellation is the caller's, not an unreachable source", show(canceled))
	}
	if k.h.Stall == nil {
		t.Log("Harness.Stall is nil: a source that does not answer is not checked")
		return
	}
	cfg, stg, release := k.h.Stall(t)
	defer release()
	sd, err := k.h.Open(k.config(t, func(*testing.T) sources.Config { return cfg }))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	const bound = 200 * time.Millisecond
	ctx, cancel = context.WithTimeout(t.Context(), bound)
	defer cancel()
	var res sources.Result
	start := time.Now()
	if !returnsWithin(bound+5*time.Second, func() { res = sd.Read(ctx, stg) }) {
		t.Fatalf("Read of a stalled source ignored its %s context", bound)
	}
	if !errors.Is(res.Err, sources.ErrUnreachable) {
		t.Errorf("Read of a stalled source cut short by its context: got %s, want an error wrapping sources.ErrUnreachable (no answer in time)", show(res))
	}
	t.Logf("stalled Read returned after %s (context: %s)", time.Since(start).Round(time.Millisecond), bound)
	stop, err := sd.Watch(stg, sources.Result{Missing: true}, func(sources.Result) {})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	// Let the watch reach its stalled request: a Close that comes first
	// may end it before it starts, which proves nothing.
	time.Sleep(300 * time.Millisecond)
	// Close must be prompt (milliseconds); 2 s leaves room for a loaded
	// machine but not for waiting out a request timeout (5 s and more).
	if !returnsWithin(2*time.Second, func() { _ = sd.Close() }) {
		t.Fatal("Close did not end a watch whose request stalls within 2s")
	}
	stop()
}

// returnsWithin reports whether f returns within d. f keeps running if not.
func returnsWithin(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

func (k *kit) readCheck(t *testing.T) {
	tg := k.h.Target(t)
	d := k.open(t)
	k.h.Set(t, tg, value("read", 1))
	wantData(t, "Read after Set", k.read(t, d, tg), value("read", 1))
	k.h.Remove(t, tg)
	wantMissing(t, "Read after Remove", k.read(t, d, tg))
	never := k.h.Target(t)
	wantMissing(t, "Read of a location never written", k.read(t, d, never))
}

func (k *kit) changes(t *testing.T) {
	d, tg, last := k.begin(t, "changes")
	r, _ := k.watch(t, d, tg, last)
	r.quiet(t, "watch of an unchanged value")

	k.h.Set(t, tg, value("changes", 2))
	r.takeData(t, "update", value("changes", 2))
	k.h.Remove(t, tg)
	r.takeMissing(t, "removal")
	k.h.Set(t, tg, value("changes", 3))
	r.takeData(t, "re-creation", value("changes", 3))
	r.quiet(t, "after the re-creation")

	// A watch that starts on an absent location reports its creation.
	tg2 := k.h.Target(t)
	last = k.read(t, d, tg2)
	wantMissing(t, "Read of an absent location", last)
	r2, _ := k.watch(t, d, tg2, last)
	k.h.Set(t, tg2, value("changes", 4))
	r2.takeData(t, "creation", value("changes", 4))
}

func (k *kit) readThenWatch(t *testing.T) {
	d, tg, last := k.begin(t, "gap")
	k.h.Set(t, tg, value("gap", 2))
	r, _ := k.watch(t, d, tg, last)
	r.takeData(t, "change between Read and Watch", value("gap", 2))

	// The same, for a second watch joining a running watch of the location.
	last = k.read(t, d, tg)
	k.h.Set(t, tg, value("gap", 3))
	other := *tg
	r2, _ := k.watch(t, d, &other, last)
	r2.takeData(t, "change before a joining Watch", value("gap", 3))
}

func (k *kit) fanOut(t *testing.T) {
	d, tg, last := k.begin(t, "fanout")
	other := *tg
	a, stopA := k.watch(t, d, tg, last)
	b, _ := k.watch(t, d, &other, last)
	k.h.Set(t, tg, value("fanout", 2))
	a.takeData(t, "first watch", value("fanout", 2))
	b.takeData(t, "second watch", value("fanout", 2))
	stopA()
	k.h.Set(t, tg, value("fanout", 3))
	b.takeData(t, "second watch after the first stopped", value("fanout", 3))
	a.quiet(t, "stopped watch")
}

func (k *kit) dedupe(t *testing.T) {
	d, tg, last := k.begin(t, "dedupe")
	r, _ := k.watch(t, d, tg, last)
	for range 3 {
		k.h.Set(t, tg, value("dedupe", 1))
	}
	r.quiet(t, "the same value written again")
	k.h.Set(t, tg, value("dedupe", 2))
	r.takeData(t, "change", value("dedupe", 2))
	k.h.Set(t, tg, value("dedupe", 2))
	r.quiet(t, "the same value written again")
}

func (k *kit) stop(t *testing.T) {
	tg := k.h.Target(t)
	k.h.Set(t, tg, value("stop", 0))
	defer fixture.Churn(func(i int) { k.h.Set(t, tg, value("stop", i+1)) }, time.Millisecond)()

	d := k.open(t)
	for round := range 5 {
		var stopped atomic.Bool
		stop := k.watchEmitting(t, d, tg, &stopped, fmt.Sprintf("round %d: ", round), "stop")
		stop()
		stopped.Store(true)
	}
	time.Sleep(k.h.Quiet) // late emits would show now

	d2, err := k.h.Open(k.config(t, k.h.Config))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var closed atomic.Bool
	stop := k.watchEmitting(t, d2, tg, &closed, "", "Close")
	if err := d2.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	closed.Store(true)
	time.Sleep(k.h.Quiet)
	stop()
}

// watchEmitting starts a watch of tg, whose value keeps changing, and waits
// for its first emit. The watch fails the test if it emits once ended is
// set: ended is set when endedBy (stop or Close) has returned. where
// prefixes the failure messages.
func (k *kit) watchEmitting(t *testing.T, d sources.Driver, tg *sources.Target, ended *atomic.Bool, where, endedBy string) (stop func()) {
	t.Helper()
	emits := make(chan struct{}, 1)
	stop, err := d.Watch(tg, sources.Result{Missing: true}, func(sources.Result) {
		if ended.Load() {
			t.Errorf("%semit after %s returned", where, endedBy)
		}
		select {
		case emits <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	select {
	case <-emits:
	case <-time.After(k.h.Settle):
		t.Fatalf("%sno emit within %s while the value changes", where, k.h.Settle)
	}
	return stop
}

func (k *kit) errors(t *testing.T) {
	if k.h.Failing == nil {
		t.Skip("Harness.Failing is nil: failures are not checked")
	}
	cfg, tg := k.h.Failing(t)
	d := k.openWith(t, k.config(t, func(*testing.T) sources.Config { return cfg }))
	shown := tg.Location // as the source shows it: with credentials redacted
	if s, ok := sources.Lookup(k.h.Scheme); ok && s.Redact != nil {
		shown = s.Redact(shown)
	}
	check := func(what string, r sources.Result) {
		t.Helper()
		if r.Err == nil {
			t.Fatalf("%s: got %s, want an error", what, show(r))
		}
		if r.Data != nil || r.Missing {
			t.Errorf("%s: an error result with Data %s or Missing %v", what, clip(r.Data), r.Missing)
		}
		if k.h.ErrorAs != nil && !k.h.ErrorAs(r.Err) {
			t.Errorf("%s: error %T (%v) is not the source's typed error", what, r.Err, r.Err)
		}
		for _, text := range []string{r.Err.Error(), fmt.Sprintf("%v", r.Err), fmt.Sprintf("%+v", r.Err), fmt.Sprintf("%#v", r.Err)} {
			for _, s := range k.h.Secrets {
				if s != "" && strings.Contains(text, s) {
					t.Errorf("%s: error text holds a secret: %s", what, text)
				}
			}
		}
		if loc := strings.Trim(shown, "/"); loc != "" && !strings.Contains(r.Err.Error(), loc) {
			t.Errorf("%s: error %q does not name the location %q", what, r.Err, loc)
		}
	}
	check("Read", k.read(t, d, tg))
	r, _ := k.watch(t, d, tg, sources.Result{Missing: true})
	check("Watch", r.take(t, "failure"))
}

func (k *kit) oversize(t *testing.T) {
	if k.h.Oversize == nil || k.h.MaxSize <= 0 {
		t.Skip("Harness.Oversize or MaxSize is not set: oversized values are not checked")
	}
	tg := k.h.Target(t)
	d := k.open(t)
	k.h.Oversize(t, tg)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := k.read(t, d, tg)
	runtime.ReadMemStats(&after)
	if !errors.Is(res.Err, sources.ErrTooLarge) {
		t.Errorf("Read of an oversized value: got %s, want an error wrapping sources.ErrTooLarge", show(res))
	}
	if res.Data != nil {
		t.Errorf("Read of an oversized value returned %d bytes of data", len(res.Data))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	limit := uint64(3*k.h.MaxSize + 1<<20)
	t.Logf("Read of an oversized value allocated %d bytes (limit %d)", alloc, limit)
	if alloc > limit {
		t.Errorf("Read of an oversized value allocated %d bytes; at most %d for a %d-byte limit", alloc, limit, k.h.MaxSize)
	}
	r, _ := k.watch(t, d, tg, sources.Result{Missing: true})
	if got := r.take(t, "oversized value"); !errors.Is(got.Err, sources.ErrTooLarge) {
		t.Errorf("Watch of an oversized value: got %s, want an error wrapping sources.ErrTooLarge", show(got))
	}
}
