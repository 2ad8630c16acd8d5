package livebind

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type baseConfig struct {
	Region  string `toml:"region"`
	Timeout string `toml:"timeout"`
}

type derivedConfig struct {
	Name    string `toml:"name"`
	Region  string `toml:"region"`  // from Base unless set
	Timeout string `toml:"timeout"` // from Base unless set
}

type layered struct {
	Base    baseConfig    `live:"file=${DIR}/base.toml"`
	Derived derivedConfig `live:"file=${DIR}/derived.toml; depends_on=Base; update=MergeDerived"`
}

// MergeDerived fills the derived settings from Base, and refuses a region
// named "bad" so tests can see a rejected generation.
func (c *layered) MergeDerived(next derivedConfig) error {
	if next.Region == "" {
		next.Region = c.Base.Region
	}
	if next.Timeout == "" {
		next.Timeout = c.Base.Timeout
	}
	if next.Region == "bad" {
		return fmt.Errorf("region %q is not allowed", next.Region)
	}
	c.Derived = next
	return nil
}

func bindLayered(t *testing.T) (*Binding[layered], string) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "base.toml", "region = \"eu\"\ntimeout = \"1s\"\n")
	writeFile(t, dir, "derived.toml", "name = \"api\"\n")
	var cfg layered
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DIR", dir).lookup))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b, dir
}

func TestUpdateFunctionMergesAtBind(t *testing.T) {
	t.Parallel()
	b, _ := bindLayered(t)
	assert.Equal(t, derivedConfig{Name: "api", Region: "eu", Timeout: "1s"}, b.Get().Derived)
}

func TestDependantRerunsWhenDependencyChanges(t *testing.T) {
	t.Parallel()
	b, dir := bindLayered(t)
	rec := record(t, b)
	writeFile(t, dir, "base.toml", "region = \"us\"\ntimeout = \"1s\"\n")
	u1, u2 := rec.next(t, wait), rec.next(t, wait)
	assert.Equal(t, []string{"Base", "Derived"}, []string{u1.Field, u2.Field}, "dependency first")
	assert.Equal(t, u1.Gen, u2.Gen, "one generation")
	assert.Equal(t, derivedConfig{Name: "api", Region: "us", Timeout: "1s"}, b.Get().Derived)

	// Its own source changes: merged with the current Base.
	writeFile(t, dir, "derived.toml", "name = \"api2\"\ntimeout = \"5s\"\n")
	u := rec.next(t, wait)
	assert.Equal(t, "Derived", u.Field)
	assert.Equal(t, derivedConfig{Name: "api2", Region: "us", Timeout: "5s"}, b.Get().Derived)
	rec.quiet(t, 100*time.Millisecond)
}

func TestUpdateFunctionErrorKeepsBothFields(t *testing.T) {
	t.Parallel()
	b, dir := bindLayered(t)
	rec := record(t, b)
	before := *b.Get()
	writeFile(t, dir, "base.toml", "region = \"bad\"\ntimeout = \"2s\"\n")
	u := rec.next(t, wait)
	require.Equal(t, Error, u.Kind)
	assert.Equal(t, "Base", u.Field, "the change that was rejected")
	require.ErrorIs(t, u.Err, ErrUpdate)
	assert.Contains(t, u.Err.Error(), `field Derived`)
	assert.Contains(t, u.Err.Error(), `region "bad" is not allowed`)
	assert.Equal(t, before, *b.Get(), "last good snapshot kept for both fields")
	require.ErrorIs(t, b.Reload(t.Context()), ErrUpdate)

	writeFile(t, dir, "base.toml", "region = \"ap\"\ntimeout = \"2s\"\n")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Derived" && u.Kind == Updated })
	assert.Equal(t, derivedConfig{Name: "api", Region: "ap", Timeout: "2s"}, b.Get().Derived)
	require.NoError(t, b.Reload(t.Context()))
}

type badGraph struct {
	A int `live:"env=A; depends_on=B"`
	B int `live:"env=B; depends_on=C"`
	C int `live:"env=C; depends_on=A"`
	D int `live:"env=D; depends_on=Nope"`
	E int `live:"env=E; update=Missing"`
	F int `live:"env=F; update=WrongSig"`
	G int `live:"env=G; update=lower"`
}

func (*badGraph) WrongSig(string) error { return nil }

func TestGraphBindErrors(t *testing.T) {
	t.Parallel()
	var cfg badGraph
	_, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv().lookup))
	require.ErrorIs(t, err, ErrTag)
	msg := err.Error()
	for _, want := range []string{
		`field D: option depends_on: invalid live tag: unknown field "Nope"`,
		"field E: option update: invalid live tag: *badGraph has no method Missing; want func (c *badGraph) Missing(next int) error",
		"field F: option update: invalid live tag: method WrongSig is func(*livebind.badGraph, string) error; want func (c *badGraph) WrongSig(next int) error",
		`field G: option update: invalid live tag: "lower" is not an exported method name`,
	} {
		assert.Contains(t, msg, want)
	}
	type cyc struct {
		A int `live:"env=A; depends_on=B"`
		B int `live:"env=B; depends_on=C"`
		C int `live:"env=C; depends_on=A"`
	}
	var c cyc
	_, err = Bind(t.Context(), &c, WithLookupEnv(newEnv().lookup))
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "dependency cycle: A -> B -> C -> A")
}

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
	dir := t.TempDir()
	writeFile(t, dir, "dev.toml", "debug = true\n")
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"replicas": 3}`))
	}))
	defer srv.Close()
	env := newEnv("DIR", dir, "PROD_URL", srv.URL+"/prod")
	var cfg modal
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	require.NotNil(t, b.Get().Prod)
	assert.Equal(t, 3, b.Get().Prod.Replicas)
	assert.Nil(t, b.Get().Dev, "no watcher, no value while the condition is false")
	wantGoroutines(t, "sources/file.(*runner)", 0)
	wantGoroutines(t, "sources/http.(*watcher)", 1)

	env.set("APP_MODE", "development")
	_, seen := rec.until(t, wait, func(u Update) bool { return u.Field == "Dev" && u.Kind == Added })
	kinds := map[string]Kind{}
	for _, u := range seen {
		kinds[u.Field] = u.Kind
	}
	assert.Equal(t, map[string]Kind{"Mode": Added, "Prod": Removed}, kinds) // Mode had its default
	assert.Nil(t, b.Get().Prod, "reset to zero when the condition turns false")
	assert.True(t, b.Get().Dev.Debug)
	wantGoroutines(t, "sources/http.(*watcher)", 0)
	wantGoroutines(t, "sources/file.(*runner)", 1)
	n := requests.Load()
	time.Sleep(200 * time.Millisecond) // ten poll intervals
	assert.Equal(t, n, requests.Load(), "the stopped source receives no requests")

	env.set("APP_MODE", "production")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Prod" && u.Kind == Added })
	assert.Nil(t, b.Get().Dev)
	assert.Equal(t, 3, b.Get().Prod.Replicas)
	wantGoroutines(t, "sources/file.(*runner)", 0)
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
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	var mu sync.Mutex
	var gens []uint64
	var early atomic.Int64
	b.OnChange(func(u Update) {
		if b.Generation() < u.Gen {
			early.Add(1)
		}
		mu.Lock()
		gens = append(gens, u.Gen)
		mu.Unlock()
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
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, gens)
	for i := 1; i < len(gens); i++ {
		require.LessOrEqual(t, gens[i-1], gens[i], "generation order")
	}
	assert.Zero(t, early.Load(), "an update arrived before its snapshot was visible")
	assert.Equal(t, 100, b.Get().O4)
	t.Logf("%d updates in %d generations", len(gens), gens[len(gens)-1]-1)
}

func TestConditionCompileAndRuntimeErrors(t *testing.T) {
	t.Parallel()
	type cfgT struct {
		Mode string `live:"env=M"`
		X    int    `live:"env=X; when=Nope == 1"`
	}
	var c cfgT
	_, err := Bind(t.Context(), &c, WithLookupEnv(newEnv().lookup))
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "field X: option when: ")
	assert.True(t, errors.Is(err, ErrTag))
}

func TestSubscribeFiltersFieldsAndKinds(t *testing.T) {
	t.Parallel()
	env := newEnv("A", "0", "B", "0")
	var cfg struct {
		A int `live:"env=A; poll=1h"`
		B int `live:"env=B; poll=1h"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	_, err = b.Subscribe(func(Update) {}, Fields("C"))
	require.ErrorIs(t, err, ErrUnknownField)

	onlyA := make(chan Update, 10)
	unsubA, err := b.Subscribe(func(u Update) { onlyA <- u }, Fields("A"))
	require.NoError(t, err)
	defer unsubA()
	errorsOnly := make(chan Update, 10)
	unsubE, err := b.Subscribe(func(u Update) { errorsOnly <- u }, Kinds(Error))
	require.NoError(t, err)
	defer unsubE()

	env.set("A", "1")
	env.set("B", "1")
	require.NoError(t, b.Reload(t.Context()))
	env.set("B", "x")
	require.Error(t, b.Reload(t.Context()))
	select {
	case u := <-onlyA:
		assert.Equal(t, "A", u.Field)
	case <-time.After(wait):
		t.Fatal("no update for A")
	}
	select {
	case u := <-errorsOnly:
		assert.Equal(t, "B", u.Field)
		assert.Equal(t, Error, u.Kind)
	case <-time.After(wait):
		t.Fatal("no error update")
	}
	time.Sleep(30 * time.Millisecond)
	assert.Empty(t, onlyA)
	assert.Empty(t, errorsOnly)
}

// TestStreamCoalescesForSlowConsumer maps updates to ints for a consumer
// that does not read while 50 generations apply: it then gets one notice
// counting what was merged and one value per field, the latest.
func TestStreamCoalescesForSlowConsumer(t *testing.T) {
	t.Parallel()
	env := newEnv("A", "0", "B", "0")
	var cfg struct {
		A int `live:"env=A; poll=1h"`
		B int `live:"env=B; poll=1h"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	type item struct {
		field string
		value int
		note  *DroppedError
	}
	ch, stop, err := Stream(b, func(u Update) (item, bool) {
		var de *DroppedError
		if errors.As(u.Err, &de) {
			return item{note: de}, true
		}
		return item{field: u.Field, value: u.New.(int)}, true
	}, Coalesce())
	require.NoError(t, err)
	defer stop()
	first := true
	for i := 1; i <= 50; i++ {
		env.set("A", fmt.Sprint(i))
		env.set("B", fmt.Sprint(i))
		start := time.Now()
		require.NoError(t, b.Reload(t.Context()))
		require.Less(t, time.Since(start), time.Second, "the consumer does not stall the applier")
		if first {
			// The first update is taken by the delivery goroutine and blocks
			// on the unread channel; let it get there.
			time.Sleep(20 * time.Millisecond)
			first = false
		}
	}
	var got []item
	deadline := time.After(wait)
	for len(got) < 4 {
		select {
		case it := <-ch:
			got = append(got, it)
		case <-deadline:
			t.Fatalf("got %+v", got)
		}
	}
	assert.Equal(t, item{field: "A", value: 1}, got[0], "already in delivery")
	require.NotNil(t, got[1].note)
	assert.Equal(t, 0, got[1].note.Count)
	assert.Equal(t, 97, got[1].note.Coalesced, "99 updates folded into 2")
	assert.Equal(t, []item{{field: "A", value: 50}, {field: "B", value: 50}}, got[2:], "in generation order")
	stop()
	for range ch { // closed by stop
	}
}
