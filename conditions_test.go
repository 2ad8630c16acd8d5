package livebind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
)

type modal struct {
	Mode string      `live:"env=APP_MODE; default=production; poll=5ms"`
	Dev  *devConfig  `live:"file=${DIR}/dev.toml; when=Mode == \"development\""`
	Prod *prodConfig `live:"http=${PROD_URL}; poll=20ms; format=json; when=Mode == \"production\""`
}

type devConfig struct {
	Debug bool `toml:"debug"`
}

type prodConfig struct {
	Replicas int `json:"replicas"`
}

// goroutinesIn counts goroutines running code of fn (not merely created
// by it).
func goroutinesIn(fn string) int {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	n := 0
	for _, g := range strings.Split(buf.String(), "\n\n") {
		lines := strings.Split(g, "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "created by ") || i > 0 && strings.HasPrefix(lines[i-1], "created by ") {
				continue
			}
			if strings.Contains(l, fn) {
				n++
				break
			}
		}
	}
	return n
}

// wantGoroutines waits up to 2s for exactly want goroutines running fn.
func wantGoroutines(t *testing.T, fn string, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := goroutinesIn(fn)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines in %s, want %d", got, fn, want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConditionsStartAndStopWatchers flips APP_MODE and checks that only the
// watcher whose condition holds runs: the HTTP server gets no request while
// the mode is development, and its goroutine is gone.
func TestConditionsStartAndStopWatchers(t *testing.T) {
	dir := dirWith(t, "dev.toml", "debug = true\n")
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"replicas": 3}`))
	}))
	defer srv.Close()
	env := newEnv("DIR", dir, "PROD_URL", srv.URL+"/prod")
	var cfg modal
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	rec := record(t, b)
	require.NotNil(t, b.Get().Prod)
	assert.Equal(t, 3, b.Get().Prod.Replicas)
	assert.Nil(t, b.Get().Dev, "no watcher, no value while the condition is false")
	wantGoroutines(t, "sources/file.(*follower)", 0)
	wantGoroutines(t, "sources/http.(*poller)", 1)

	env.set("APP_MODE", "development")
	_, seen := rec.until(t, wait, func(u Update) bool { return u.Field == "Dev" && u.Kind == Added })
	kinds := map[string]Kind{}
	for _, u := range seen {
		kinds[u.Field] = u.Kind
	}
	assert.Equal(t, map[string]Kind{"Mode": Added, "Prod": Removed}, kinds) // Mode had its default
	assert.Nil(t, b.Get().Prod, "reset to zero when the condition turns false")
	assert.True(t, b.Get().Dev.Debug)
	wantGoroutines(t, "sources/http.(*poller)", 0)
	wantGoroutines(t, "sources/file.(*follower)", 1)
	n := requests.Load()
	time.Sleep(200 * time.Millisecond) // ten poll intervals
	assert.Equal(t, n, requests.Load(), "the stopped source receives no requests")

	env.set("APP_MODE", "production")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Prod" && u.Kind == Added })
	assert.Nil(t, b.Get().Dev)
	assert.Equal(t, 3, b.Get().Prod.Replicas)
	wantGoroutines(t, "sources/file.(*follower)", 0)
}

func TestConditionCompileAndRuntimeErrors(t *testing.T) {
	t.Parallel()
	type cfgT struct {
		Mode string `live:"env=M"`
		X    int    `live:"env=X; when=Nope == 1"`
	}
	var c cfgT
	wantBindErr(t, &c, newEnv(), ErrTag, "field X: option when: ")
}

// C turns on in Bind's first round (B is still zero), off in the second
// (B loaded as "stop"). Later B changes so C's condition holds.
type flipAtBind struct {
	A string `live:"env=A; poll=5ms"`
	B string `live:"env=B; poll=5ms; when=A == \"x\""`
	C string `live:"env=C; poll=5ms; when=B != \"stop\""`
}

// Regression (second review, fixed in 2e9fdf7): a field whose condition went
// on and then off during Bind's own rounds was never started again when the
// condition later held.
func TestConditionOffAtBindComesBack(t *testing.T) {
	env := newEnv("A", "x", "B", "stop", "C", "hello")
	var cfg flipAtBind
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	assert.Equal(t, "", b.Get().C)
	env.set("B", "go")
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && b.Get().C == "" {
		time.Sleep(10 * time.Millisecond)
	}
	for _, s := range b.Status().Sources {
		t.Logf("%s active=%v present=%v obs=%d", s.Source, s.Active, s.Present, s.Observations)
	}
	assert.Equal(t, "go", b.Get().B)
	assert.Equal(t, "hello", b.Get().C, "C's condition holds and its source has a value")
}

type preset struct {
	Mode string `live:"env=MODE"`
	Dev  string `live:"env=DEV; when=Mode == \"dev\""`
}

// Regression (second review, fixed in 2e9fdf7): a field inactive at Bind
// kept the value *dst held before Bind, against the documented rule that an
// inactive field is zero.
func TestInactiveAtBindIsZero(t *testing.T) {
	env := newEnv("MODE", "prod", "DEV", "devvalue")
	cfg := preset{Dev: "from-dst"}
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	assert.Equal(t, "", b.Get().Dev, "docs: while false the field is zero")
}

type appMode string

const modeDev appMode = "development"

type namedConds struct {
	Mode    appMode       `live:"env=MODE"`
	Level   int8          `live:"env=LEVEL; default=0"`
	Timeout time.Duration `live:"env=TIMEOUT; default=1s"`
	Typed   struct {
		Rank rank `live:"env=RANK; default=0"`
	}
	ByString string `live:"env=A; default=a; when=Mode == \"development\""`
	ByIn     string `live:"env=B; default=b; when=Mode in [\"staging\", \"development\"]"`
	ByRank   string `live:"env=C; default=c; when=Typed.Rank > 2"`
	ByMethod string `live:"env=D; default=d; when=Dev()"`
	ByDur    string `live:"env=E; default=e; when=Timeout > duration(\"500ms\")"`
	Never    string `live:"env=F; default=f; when=Mode == \"production\""`
}

type rank int

// Dev is how a condition refers to a Go constant: constants do not exist at
// run time, so the struct offers a method that uses it.
func (c *namedConds) Dev() bool { return c.Mode == modeDev }

// TestConditionsOnNamedTypes: a field of a named type with a basic
// underlying kind compares with a literal of that kind, as in Go (issue 14,
// item 2); Go constants are reached through a method of the struct.
func TestConditionsOnNamedTypes(t *testing.T) {
	t.Parallel()
	var c namedConds
	b := mustBind(t, &c, WithLookupEnv(newEnv("MODE", "development", "RANK", "3").lookup))
	got := b.Get()
	assert.Equal(t, "a", got.ByString)
	assert.Equal(t, "b", got.ByIn)
	assert.Equal(t, "c", got.ByRank)
	assert.Equal(t, "d", got.ByMethod)
	assert.Equal(t, "e", got.ByDur)
	assert.Empty(t, got.Never, "a false condition keeps the field zero")
}

// TestConditionTypeErrorsStillFail: comparing a named string with a number
// is still a Bind error naming the field and when=.
func TestConditionTypeErrorsStillFail(t *testing.T) {
	t.Parallel()
	var c struct {
		Mode appMode `live:"env=MODE"`
		X    string  `live:"env=X; when=Mode > 3"`
	}
	wantBindErr(t, &c, newEnv("MODE", "dev"), ErrTag, "when", "X")
}

// allAllowed has a condition whose cost is the product of two lists'
// lengths, and the lists come from the configuration.
type allAllowed struct {
	Hosts   []string `live:"env=HOSTS; poll=1h"`
	Allowed []string `live:"env=ALLOWED; poll=1h"`
	Extra   string   `live:"env=EXTRA; poll=1h; when=all(Hosts, {# in Allowed})"`
}

// TestSlowConditionDoesNotHoldTheApplier: a when= expression runs on the
// applier (on Bind's goroutine at Bind), and expr cannot be interrupted,
// so an expression whose cost grows with the square of the lists it reads
// (all(Hosts, {# in Allowed}): 20,000 names each take about 30 s) held Bind,
// every later generation and Close for as long as it ran. An evaluation
// that outlives conditionTimeout now counts as a failed condition (false,
// logged) and goes on alone in the background; the condition is
// evaluated again once it has ended. In a child process, as it sets
// conditionTimeout.
func TestSlowConditionDoesNotHoldTheApplier(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 120 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		conditionTimeout = 50 * time.Millisecond
		env := slowHostsEnv(4000)
		start := time.Now()
		b := mustBind(t, &allAllowed{}, WithLookupEnv(env.lookup))
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("Bind took %v with a condition bounded by %v", took.Round(time.Millisecond), conditionTimeout)
		}
		assert.Empty(t, b.Get().Extra, "a condition that did not finish counts as false")
		assert.Equal(t, 1, goroutinesIn("livebind.runCondition"), "the abandoned evaluation goes on")

		// Once the abandoned evaluation has ended, small lists turn the
		// condition on.
		deadline := time.Now().Add(90 * time.Second)
		for goroutinesIn("livebind.runCondition") > 0 {
			require.True(t, time.Now().Before(deadline), "the abandoned evaluation never ended")
			time.Sleep(10 * time.Millisecond)
		}
		env.set("HOSTS", "a")
		env.set("ALLOWED", "a,b")
		require.NoError(t, b.Reload(t.Context()))
		for b.Get().Extra != "x" { // the started watch reports EXTRA in a later generation
			require.True(t, time.Now().Before(deadline), "the condition did not turn on")
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// padded reads a condition that repeats a configured string a configured
// number of times.
type padded struct {
	Pad   string `live:"env=PAD; poll=1h"`
	Width int    `live:"env=WIDTH; poll=1h"`
	Extra string `live:"env=EXTRA; poll=1h; when=len(repeat(Pad, Width)) < 100"`
}

// TestConditionRepeatIsBounded: expr's repeat refuses a count over a
// million but not a result of len(s) times the count, so a 1 MiB string
// repeated a million times asked the runtime for 1 TB, a fatal error no
// recover stops: the configuration killed the process. livebind's repeat
// refuses a result over 16 MiB before it allocates. In a child process:
// the old behavior kills it.
func TestConditionRepeatIsBounded(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		env := newEnv("PAD", "ab", "WIDTH", "3", "EXTRA", "x")
		b := mustBind(t, &padded{}, WithLookupEnv(env.lookup))
		require.Equal(t, "x", b.Get().Extra)
		env.set("PAD", strings.Repeat("p", 1<<20))
		env.set("WIDTH", "1000000")
		_ = b.Reload(t.Context())
		assert.Empty(t, b.Get().Extra, "a condition that fails counts as false")
	})
}

// goexitCond's condition calls a method that ends its goroutine, as
// t.FailNow does from a require in a test's method.
type goexitCond struct {
	Mode  string `live:"env=MODE; poll=1h"`
	Extra string `live:"env=EXTRA; poll=1h; when=Quits()"`
}

func (c *goexitCond) Quits() bool {
	if c.Mode == "quit" {
		runtime.Goexit()
	}
	return true
}

// TestConditionMethodGoexit: a method called by a when= expression that
// calls runtime.Goexit ends the evaluation's goroutine without a result.
// The condition counts as failed at once, not after conditionTimeout
// (which the applier waited out before), and at Bind it no longer ends
// Bind's goroutine.
func TestConditionMethodGoexit(t *testing.T) {
	t.Parallel()
	env := newEnv("MODE", "quit", "EXTRA", "x")
	start := time.Now()
	b := mustBind(t, &goexitCond{}, WithLookupEnv(env.lookup))
	if took := time.Since(start); took > conditionTimeout/2 {
		t.Errorf("Bind took %v", took.Round(time.Millisecond))
	}
	assert.Empty(t, b.Get().Extra)
	env.set("MODE", "stay")
	require.NoError(t, b.Reload(t.Context()))
	deadline := time.Now().Add(5 * time.Second)
	for b.Get().Extra != "x" {
		require.True(t, time.Now().Before(deadline), "the condition did not turn on")
		time.Sleep(5 * time.Millisecond)
	}
}

// reachEmbedded is promoted into reachCfg.
type reachEmbedded struct {
	Inner string
}

// reachCfg has fields a when= expression may name in several ways.
type reachCfg struct {
	Mode    string
	Hosts   []string
	Allowed []string
	Limits  map[string]int
	Renamed string `expr:"alias"`
	reachEmbedded
	Other []int
}

func (c *reachCfg) IsDev() bool { return c.Mode == "dev" }

// TestConditionReach: an evaluation copies deeply only the fields its
// expression can read (conditionReach); one that names a method of the
// struct or $env can read every field, and so can a name it does not
// know.
func TestConditionReach(t *testing.T) {
	t.Parallel()
	rt := reflect.TypeFor[reachCfg]()
	for _, c := range []struct {
		name, src string
		reads     []string // field names; nil: all
	}{
		{"field", `Mode == "x"`, []string{"Mode"}},
		{"none", `true`, []string{}},
		{"predicate", `all(Hosts, {# in Allowed})`, []string{"Hosts", "Allowed"}},
		{"map-member", `Limits.max > 2 || Limits["min"] < 1`, []string{"Limits"}},
		{"let", `let h = Hosts; len(h) > 0`, []string{"Hosts"}},
		{"expr-tag", `alias == "a"`, []string{"Renamed"}},
		{"promoted", `Inner == "i"`, []string{"reachEmbedded"}},
		{"builtins", `len(repeat(Mode, 2)) > 1 && upper(Mode) != ""`, []string{"Mode"}},
		// expr's optimizer folds map(filter(...), f) into one filter node
		// that keeps f aside (BuiltinNode.Map), where ast.Walk does not go.
		{"filter-map", `all(map(filter(Hosts, true), len(Allowed) > 0), #)`, []string{"Hosts", "Allowed"}},
		{"filter-map-first", `map(filter(Hosts, true), Limits.max)[0] > 0`, []string{"Hosts", "Limits"}},
		{"predicate-member", `any(Hosts, # != "") || reduce(Other, #acc + #, 0) > 0`, []string{"Hosts", "Other"}},
		{"optional-member", `(Limits?.max ?? 0) > 1 && Mode == ""`, []string{"Limits", "Mode"}},
		{"method", `IsDev()`, nil},
		{"method-and-field", `Mode == "x" && IsDev()`, nil},
		{"env", `$env.Mode == "x"`, nil},
		{"env-index", `$env["Other"] != nil`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cond, err := newCondition(c.src, rt)
			require.NoError(t, err)
			if c.reads == nil {
				assert.True(t, cond.readsAll, "reads every field")
				return
			}
			assert.False(t, cond.readsAll, "reads every field")
			var got []string
			for i := range rt.NumField() {
				if cond.canRead(i) {
					got = append(got, rt.Field(i).Name)
				}
			}
			assert.ElementsMatch(t, c.reads, got)
		})
	}
}

// TestConditionEvaluatorIsReused: conditions run on one evaluator
// goroutine per Binding, not one goroutine per evaluation, and Close ends
// it.
func TestConditionEvaluatorIsReused(t *testing.T) {
	env := newEnv("MODE", "on", "X", "x")
	b := mustBind(t, &struct {
		Mode string `live:"env=MODE; poll=1h"`
		X    string `live:"env=X; poll=1h; when=len(Mode) > 1"` // a builtin: not inline
	}{}, WithLookupEnv(env.lookup))
	require.False(t, b.conds[0].when.inline)
	for range 50 {
		ok, err := b.evalCondition(b.conds[0], b.Get())
		require.NoError(t, err)
		require.True(t, ok)
	}
	wantGoroutines(t, "livebind.(*evaluator[...]).loop", 1)
	require.NoError(t, b.Close())
	assert.Zero(t, goroutinesIn("livebind.(*evaluator[...]).loop"), "Close waits for the idle evaluator")
}

// editedHosts has a slow condition over Hosts and a Validate that edits
// Hosts in place.
type editedHosts struct {
	Hosts   []string `live:"env=HOSTS; poll=1h"`
	Allowed []string `live:"env=ALLOWED; poll=1h"`
	Extra   string   `live:"env=EXTRA; poll=1h; when=all(Hosts, {# in Allowed})"`
}

func (c *editedHosts) Validate() error {
	for i := range c.Hosts {
		c.Hosts[i] = strings.Clone(c.Hosts[i]) // a write of every element, as an in-place sort would do
	}
	return nil
}

// TestAbandonedConditionReadsItsOwnCopy: an evaluation abandoned after
// conditionTimeout reads a copy of what its expression can reach, so the
// Validate that runs on the candidate afterwards, editing Hosts in place,
// does not race with it (run with -race: the child is built with it).
func TestAbandonedConditionReadsItsOwnCopy(t *testing.T) {
	abandonedReadsOwnCopy[editedHosts](t)
}

// abandonedReadsOwnCopy binds a T whose when= condition outlives
// conditionTimeout and whose Validate edits Hosts in place, and waits for
// the abandoned evaluation to end: with -race (the child is built with
// it), a field the evaluation shares with the candidate is a reported race.
func abandonedReadsOwnCopy[T any](t *testing.T) {
	t.Helper()
	childtest.Require(t, childtest.Limits{Timeout: 120 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		conditionTimeout = 20 * time.Millisecond
		env := slowHostsEnv(2000)
		b := mustBind(t, new(T), WithLookupEnv(env.lookup))
		require.False(t, b.conds[0].when.inline)
		extra := reflect.ValueOf(b.Get()).Elem().FieldByName("Extra").String()
		assert.Empty(t, extra, "a condition that did not finish counts as false")
		deadline := time.Now().Add(90 * time.Second)
		for goroutinesIn("livebind.runCondition") > 0 {
			require.True(t, time.Now().Before(deadline), "the abandoned evaluation never ended")
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestConditionInline: an expression of literals, fields, comparisons of
// numbers, strings and booleans, and logic runs on the applier at once,
// on the candidate (conditionInline); one that can call user code, loop
// or compare values of unbounded cost goes to the evaluator, under
// conditionTimeout.
func TestConditionInline(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, src string
		typ       reflect.Type
		want      bool
	}{
		{"compare", `Mode == "x" && Hosts != nil`, reflect.TypeFor[reachCfg](), false},
		{"string", `Mode == "x" || Mode < "m" && !(Mode != "y")`, reflect.TypeFor[reachCfg](), true},
		{"in-literals", `Mode in ["a", "b"] && Mode not in ["c"]`, reflect.TypeFor[reachCfg](), true},
		{"ternary", `Mode == "a" ? true : Inner == "b"`, reflect.TypeFor[reachCfg](), true},
		{"promoted", `Inner == "i"`, reflect.TypeFor[reachCfg](), true},
		{"expr-tag", `alias == "a"`, reflect.TypeFor[reachCfg](), true},
		{"graph-bench", `Mode == "on" && Base >= 0`, reflect.TypeFor[graphBench](), true},
		{"named-kinds", `Mode == "development" && Level > 2 && Typed.Rank > 2`, reflect.TypeFor[namedConds](), true},
		{"method", `IsDev()`, reflect.TypeFor[reachCfg](), false},
		{"method-named", `Dev()`, reflect.TypeFor[namedConds](), false},
		{"builtin", `len(Mode) > 0`, reflect.TypeFor[reachCfg](), false},
		{"duration", `Timeout > duration("500ms")`, reflect.TypeFor[namedConds](), false},
		{"predicate", `all(Hosts, {# in Allowed})`, reflect.TypeFor[reachCfg](), false},
		{"in-field", `Mode in Hosts`, reflect.TypeFor[reachCfg](), false},
		{"concat", `Mode + Mode == "xx"`, reflect.TypeFor[reachCfg](), false},
		{"slices", `Hosts == Allowed`, reflect.TypeFor[reachCfg](), false},
		{"map-member", `Limits.max > 2`, reflect.TypeFor[reachCfg](), false},
		{"env", `$env.Mode == "x"`, reflect.TypeFor[reachCfg](), false},
		{"repeat", `repeat(Mode, 2) == ""`, reflect.TypeFor[reachCfg](), false},
		{"matches", `Mode matches "a.*"`, reflect.TypeFor[reachCfg](), false},
		{"let", `let m = Mode; m == ""`, reflect.TypeFor[reachCfg](), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cond, err := newCondition(c.src, c.typ)
			require.NoError(t, err)
			assert.Equal(t, c.want, cond.inline)
		})
	}
}

// slowHostsEnv gives HOSTS and ALLOWED the same list of n names, and EXTRA
// a value: all(Hosts, {# in Allowed}) then takes time that grows with n².
func slowHostsEnv(n int) *testEnv {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint("host-", i)
	}
	list := strings.Join(names, ",")
	return newEnv("HOSTS", list, "ALLOWED", list, "EXTRA", "x")
}

// editedHostsMapped reads Hosts only inside the function of a map over a
// filter, which expr's optimizer keeps in BuiltinNode.Map.
type editedHostsMapped struct {
	Hosts   []string `live:"env=HOSTS; poll=1h"`
	Allowed []string `live:"env=ALLOWED; poll=1h"`
	Extra   string   `live:"env=EXTRA; poll=1h; when=all(map(filter(Allowed, # == 'host-0'), all(Hosts, {# in Allowed})), #)"`
}

func (c *editedHostsMapped) Validate() error {
	for i := range c.Hosts {
		c.Hosts[i] = strings.Clone(c.Hosts[i])
	}
	return nil
}

// TestAbandonedConditionCopiesWhatMapReads: as
// TestAbandonedConditionReadsItsOwnCopy, for a field the expression reads
// only in the function of map(filter(...), f), which the optimizer folds
// into the filter node: the evaluation reads its own copy of it too.
func TestAbandonedConditionCopiesWhatMapReads(t *testing.T) {
	abandonedReadsOwnCopy[editedHostsMapped](t)
}

// slowConds has three targets whose conditions call a method that takes
// longer than conditionTimeout.
type slowConds struct {
	A string `live:"env=A; poll=1h; when=Slow()"`
	B string `live:"env=B; poll=1h; when=Slow()"`
	C string `live:"env=C; poll=1h; when=Slow()"`
}

func (*slowConds) Slow() bool { time.Sleep(600 * time.Millisecond); return true }

// TestSlowConditionsHonourBindContext: Bind gives up on a condition
// evaluation when its context ends, as Close does, instead of waiting
// conditionTimeout for each slow condition in turn.
func TestSlowConditionsHonourBindContext(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		conditionTimeout = 400 * time.Millisecond
		env := newEnv("A", "a", "B", "b", "C", "c")
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := Bind(ctx, &slowConds{}, WithLookupEnv(env.lookup))
		took := time.Since(start)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, took, 350*time.Millisecond, "Bind waited for the conditions after its context ended")
		deadline := time.Now().Add(30 * time.Second)
		for goroutinesIn("livebind.runCondition") > 0 {
			require.True(t, time.Now().Before(deadline), "an abandoned evaluation never ended")
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// gatedCond's condition calls a method that blocks until the test closes
// gatedRelease (or 30 s pass, so that a regression cannot hang the child).
type gatedCond struct {
	Mode  string `live:"env=MODE; poll=1h"`
	Extra string `live:"env=EXTRA; poll=1h; when=Gated()"`
}

// gatedRelease is what Gated waits for; set by the child-process test that
// uses gatedCond before it binds.
var gatedRelease chan struct{}

// gatedInvalid is a gatedCond that Validate refuses.
type gatedInvalid struct{ gatedCond }

func (*gatedInvalid) Validate() error { return errors.New("never valid") }

func (*gatedCond) Gated() bool {
	select {
	case <-gatedRelease:
	case <-time.After(30 * time.Second):
	}
	return true
}

// TestCloseWaitsForAbandonedCondition: Close returned while an abandoned
// when= evaluation still ran, so the evaluation's goroutine outlived the
// Binding (a user's goleak check failed, and it held its copy of the
// candidate). Close now waits for abandoned evaluations too, within the
// same WithCloseTimeout as callbacks, and reports one still running then
// as it does a callback: an error wrapping ErrCloseTimeout and an Error
// log. In a child process: it sets conditionTimeout, and a Close that
// never returned would hang the test binary.
func TestCloseWaitsForAbandonedCondition(t *testing.T) {
	t.Run("released", func(t *testing.T) {
		childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
			conditionTimeout = 20 * time.Millisecond
			gatedRelease = make(chan struct{})
			env := newEnv("MODE", "a", "EXTRA", "x")
			b, err := Bind(t.Context(), &gatedCond{}, WithLookupEnv(env.lookup), WithCloseTimeout(10*time.Second))
			require.NoError(t, err)
			assert.Empty(t, b.Get().Extra, "a condition that did not finish counts as false")
			require.Equal(t, 1, goroutinesIn("livebind.runCondition"), "the abandoned evaluation goes on")
			// The applier goes on meanwhile.
			env.set("MODE", "b")
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			require.NoError(t, b.Reload(ctx))
			require.Equal(t, "b", b.Get().Mode)

			time.AfterFunc(200*time.Millisecond, func() { close(gatedRelease) })
			start := time.Now()
			require.NoError(t, b.Close())
			took := time.Since(start)
			assert.Zero(t, goroutinesIn("livebind.runCondition"), "Close returned before the abandoned evaluation ended (after %v)", took.Round(time.Millisecond))
			assert.Zero(t, goroutinesIn("livebind.(*evaluator[...]).loop"), "Close returned before the abandoned evaluator ended")
			assert.Less(t, took, 5*time.Second)
		})
	})
	t.Run("bind-fails", func(t *testing.T) {
		// A Bind that fails ends what it started as Close does, abandoned
		// evaluations included.
		childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
			conditionTimeout = 20 * time.Millisecond
			gatedRelease = make(chan struct{})
			env := newEnv("MODE", "a", "EXTRA", "x")
			time.AfterFunc(200*time.Millisecond, func() { close(gatedRelease) })
			_, err := Bind(t.Context(), &gatedInvalid{}, WithLookupEnv(env.lookup), WithCloseTimeout(10*time.Second))
			require.ErrorIs(t, err, ErrValidation)
			assert.NotErrorIs(t, err, ErrCloseTimeout)
			assert.Zero(t, goroutinesIn("livebind.runCondition"), "Bind returned before the abandoned evaluation ended")
		})
	})
	t.Run("stuck", func(t *testing.T) {
		childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
			conditionTimeout = 20 * time.Millisecond
			gatedRelease = make(chan struct{})
			var logs logBuffer
			env := newEnv("MODE", "a", "EXTRA", "x")
			b, err := Bind(t.Context(), &gatedCond{}, WithLookupEnv(env.lookup),
				WithCloseTimeout(300*time.Millisecond), WithLogger(logs.logger()))
			require.NoError(t, err)
			require.Equal(t, 1, goroutinesIn("livebind.runCondition"), "the abandoned evaluation goes on")
			start := time.Now()
			err = b.Close()
			took := time.Since(start)
			require.ErrorIs(t, err, ErrCloseTimeout)
			assert.Contains(t, err.Error(), "Extra", "the error names the field")
			assert.GreaterOrEqual(t, took, 250*time.Millisecond)
			assert.Less(t, took, 3*time.Second)
			assert.Contains(t, logs.String(), "Close abandoned when= evaluations")
			close(gatedRelease)
			deadline := time.Now().Add(5 * time.Second)
			for goroutinesIn("livebind.runCondition") > 0 {
				require.True(t, time.Now().Before(deadline), "the released evaluation never ended")
				time.Sleep(5 * time.Millisecond)
			}
		})
	})
}

// untaggedFlags' slow condition reads Flags, an untagged map, which
// Validate edits in place.
type untaggedFlags struct {
	Hosts   []string `live:"env=HOSTS; poll=1h"`
	Allowed []string `live:"env=ALLOWED; poll=1h"`
	Flags   map[string]bool
	Extra   string `live:"env=EXTRA; poll=1h; when=all(Hosts, {Flags[#] || # in Allowed})"`
}

func (c *untaggedFlags) Validate() error {
	for i := range 100 {
		c.Flags[fmt.Sprint("validated-", i)] = true
	}
	return nil
}

// TestConditionReadingUntaggedAliasIsRefused: untagged fields belong to
// the caller and are copied shallowly, so a when= expression that read
// through an untagged map (or slice, or pointer) read the caller's memory:
// an evaluation abandoned after conditionTimeout read Flags while
// Validate wrote it in the candidate, a data race (and possibly a fatal
// concurrent map access). Bind now refuses such an expression with a tag
// error naming the field. In a child process, built with -race: the old
// behavior reports the race or crashes.
func TestConditionReadingUntaggedAliasIsRefused(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 120 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		conditionTimeout = 20 * time.Millisecond
		env := slowHostsEnv(2000)
		b, err := Bind(t.Context(), &untaggedFlags{Flags: map[string]bool{}}, WithLookupEnv(env.lookup))
		if err == nil {
			deadline := time.Now().Add(90 * time.Second)
			for goroutinesIn("livebind.runCondition") > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			_ = b.Close()
		}
		require.ErrorIs(t, err, ErrTag)
		assert.Contains(t, err.Error(), "Extra")
		assert.Contains(t, err.Error(), "Flags")
	})
}

// aliasPool stands for a client or pool an untagged field points to.
type aliasPool struct{ Size int }

func (p *aliasPool) Ready() bool { return p != nil && p.Size > 0 }

// aliasDB mixes tagged values with untagged ones that alias.
type aliasDB struct {
	Host  string   `live:"env=DB_HOST"`
	Hosts []string `live:"env=DB_HOSTS"`
	Pool  *aliasPool
	Name  string
}

// AliasEmbedded is promoted through a pointer.
type AliasEmbedded struct{ Deep string }

// aliasCfg has untagged fields of every kind a when= expression can name.
type aliasCfg struct {
	Mode    string         `live:"env=MODE"`
	Tagged  []string       `live:"env=TAGGED"`
	Limits  map[string]int `live:"env=LIMITS"`
	Flags   map[string]bool
	Names   []string
	Opts    *aliasPool
	Any     any
	Region  string
	Renamed map[string]bool `expr:"flags2"`
	DB      aliasDB
	Plain   struct{ A, B int }
	*AliasEmbedded
}

func (c *aliasCfg) Beta() bool { return c.Flags["beta"] }

// TestConditionUntaggedAliases: which untagged fields an expression reads
// through (untaggedAliases): Bind refuses those.
func TestConditionUntaggedAliases(t *testing.T) {
	t.Parallel()
	rt := reflect.TypeFor[aliasCfg]()
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"tagged", `Mode == "x" && len(Tagged) > 0 && Limits.max > 1 && "a" in Tagged`, nil},
		{"untagged-scalar", `Region == "eu"`, nil},
		{"untagged-struct-member", `DB.Name == "x" && DB.Host != "" && Plain.A > 1`, nil},
		{"untagged-struct-whole", `Plain == Plain`, nil},
		{"tagged-in-untagged", `len(DB.Hosts) > 0`, nil},
		{"nil", `Opts != nil && nil != Flags && Any == nil && DB.Pool != nil`, nil},
		{"method", `Beta()`, nil},
		{"method-on-field", `DB.Pool.Ready() && Opts.Ready()`, nil},
		{"env-member", `$env.Mode == "x" && $env["Region"] == "y"`, nil},
		{"map-index", `Flags["beta"]`, []string{"Flags"}},
		{"map-member", `Flags.beta`, []string{"Flags"}},
		{"map-in", `"beta" in Flags`, []string{"Flags"}},
		{"slice-len", `len(Names) > 0`, []string{"Names"}},
		{"slice-predicate", `any(Tagged, {# in Names})`, []string{"Names"}},
		{"pointer-member", `Opts.Size > 1`, []string{"Opts"}},
		{"interface", `Any.x == 1`, []string{"Any"}},
		{"expr-tag", `flags2["x"]`, []string{"Renamed"}},
		{"nested-pointer", `DB.Pool.Size > 0`, []string{"DB.Pool"}},
		{"struct-whole", `toJSON(DB) != ""`, []string{"DB"}},
		{"promoted-through-pointer", `Deep == "x"`, []string{"Deep"}},
		{"let", `let f = Flags; f.x`, []string{"Flags"}},
		{"env-member-alias", `$env.Flags.beta`, []string{"Flags"}},
		{"env-whole", `len($env) > 0`, []string{"$env"}},
		{"env-concat", `$env["Mo" + "de"] != ""`, []string{"$env"}}, // + is a call (boundedConcat), not folded
		{"env-dynamic", `$env[Region] != nil`, []string{"$env"}},
		{"map-filter", `all(map(filter(Tagged, true), Names[0]), # != "")`, []string{"Names"}},
		{"two", `Flags.x && len(Names) > 0 && Flags.y`, []string{"Flags", "Names"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			prog, err := compileCondition(c.src, rt)
			require.NoError(t, err)
			assert.Equal(t, c.want, untaggedAliases(prog.Node(), rt))
		})
	}
}

// concatenated builds a string step by step in its condition.
type concatenated struct {
	Pad   string   `live:"env=PAD; poll=1h"`
	Items []string `live:"env=ITEMS; poll=1h"`
	Extra string   `live:"env=EXTRA; poll=1h; when=len(reduce(Items, #acc + Pad, '')) < 100"`
}

// TestConditionConcatIsBounded: expr charges its memory budget for
// ranges and some builtins, not for +, so reduce(Items, #acc + Pad, "")
// with a 4 MiB Pad and 200 items grew a string without bound (800 MiB,
// and the square of that copied on the way). livebind's + refuses a
// string over 16 MiB. In a child process under a 160 MiB heap watchdog:
// the old behavior passes it.
func TestConditionConcatIsBounded(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second, Heap: 160 << 20}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		env := newEnv("PAD", "ab", "ITEMS", "a,b", "EXTRA", "x")
		b := mustBind(t, &concatenated{}, WithLookupEnv(env.lookup))
		require.Equal(t, "x", b.Get().Extra)
		env.set("PAD", strings.Repeat("p", 4<<20))
		env.set("ITEMS", strings.TrimSuffix(strings.Repeat("i,", 200), ","))
		_ = b.Reload(t.Context())
		assert.Empty(t, b.Get().Extra, "a condition that fails counts as false")
		ok, err := b.evalCondition(b.conds[0], b.Get())
		assert.False(t, ok)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "limit")
	})
}

// plusCfg has operands of every kind + takes.
type plusCfg struct {
	Mode    appMode
	Name    string
	Nums    []int
	Words   []string
	Timeout time.Duration
	At      time.Time
	Any     any
}

// TestConditionPlus: + on strings goes through addBounded, and means what
// expr's + means on every operand: numbers, durations, times, operands
// known only at run time; a + of mismatched known types is still a
// compile error, and one found at run time an evaluation error.
func TestConditionPlus(t *testing.T) {
	t.Parallel()
	rt := reflect.TypeFor[plusCfg]()
	env := &plusCfg{
		Mode: "dev", Name: "n", Nums: []int{1, 2, 3}, Words: []string{"a", "b"},
		Timeout: time.Second, At: time.Unix(0, 0).UTC(), Any: 4,
	}
	for _, c := range []struct {
		name, src string
		want      any // bool, or an error's text
	}{
		{"strings", `Name + "x" == "nx" && upper(Name + Name) == "NN"`, true},
		{"named", `Mode + "-" + Name == "dev-n"`, true},
		{"reduce-strings", `reduce(Words, #acc + #, "") == "ab"`, true},
		{"reduce-acc", `reduce(Words, #acc + #acc + #, "") == "aab"`, true},
		{"reduce-ints", `reduce(Nums, #acc + #, 0) == 6 && reduce(Nums, #acc + #acc, 1) == 8`, true},
		{"numbers", `Nums[0] + 1 == 2 && 1.5 + 1 == 2.5`, true},
		{"duration", `Timeout + Timeout == duration("2s")`, true},
		{"time", `(At + Timeout).Unix() == 1`, true},
		{"any", `Any + 1 == 5`, true},
		{"literals", `"a" + "b" == "ab"`, true},
		{"mismatch-compile", `Name + 1 == "n1"`, "mismatched types"},
		{"mismatch-run", `reduce(Nums, #acc + #, "") == ""`, "invalid operation"},
		{"limit", `len(reduce(1..20, #acc + repeat("p", 1048576), "")) > 0`, "limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			prog, err := compileCondition(c.src, rt)
			if want, ok := c.want.(string); ok && strings.Contains(c.name, "compile") {
				require.Error(t, err)
				assert.Contains(t, err.Error(), want)
				return
			}
			require.NoError(t, err)
			var m vm.VM
			out, err := m.Run(prog, env)
			if want, ok := c.want.(string); ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, out)
		})
	}
}
