package livebind

import (
	"errors"
	"fmt"
	"slices"
	"strings"
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
	return bindFiles[layered](t, "base.toml", "region = \"eu\"\ntimeout = \"1s\"\n", "derived.toml", "name = \"api\"\n")
}

// bindFiles writes the files named in nameData (name, data, name, data...)
// into a new directory, binds a T with DIR set to it, and returns the
// Binding and the directory.
func bindFiles[T any](t *testing.T, nameData ...string) (*Binding[T], string) {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i+1 < len(nameData); i += 2 {
		writeFile(t, dir, nameData[i], nameData[i+1])
	}
	var cfg T
	return bindDir(t, &cfg, dir), dir
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
	u := rec.want(t, Error)
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

type mapLayered struct {
	Base    map[string]string `live:"file=${DIR}/base.json"`
	Derived map[string]string `live:"file=${DIR}/derived.json; depends_on=Base; update=Merge"`
}

// Merge fills keys missing from Derived with Base's values: the natural way
// to write it.
func (c *mapLayered) Merge(next map[string]string) error {
	for k, v := range c.Base {
		if _, ok := next[k]; !ok {
			next[k] = v
		}
	}
	c.Derived = next
	return nil
}

// Regression (second review, fixed in 2e9fdf7): the value handed to an
// update= function aliased the map in the published snapshot, so an in-place
// merge changed generation 1 under its readers.
func TestUpdateFunctionDoesNotAliasSnapshot(t *testing.T) {
	dir := dirWith(t, "base.json", `{"region":"eu"}`)
	writeFile(t, dir, "derived.json", `{"name":"api"}`)
	var cfg mapLayered
	b := bindDir(t, &cfg, dir)
	gen1 := b.Get()
	assert.Equal(t, map[string]string{"name": "api", "region": "eu"}, gen1.Derived)
	rec := record(t, b)
	stopReaders := make(chan struct{})
	go func() { // a reader of the published snapshot
		for {
			select {
			case <-stopReaders:
				return
			default:
				_ = len(gen1.Derived["region"])
				for range gen1.Derived {
				}
			}
		}
	}()
	writeFile(t, dir, "base.json", `{"region":"us","tier":"gold"}`)
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Base" })
	time.Sleep(100 * time.Millisecond)
	close(stopReaders)
	t.Logf("gen %d Derived=%v gen1.Derived=%v", gen(b), b.Get().Derived, gen1.Derived)
	assert.Equal(t, map[string]string{"name": "api", "region": "us", "tier": "gold"}, b.Get().Derived, "Derived must follow Base")
	assert.Equal(t, map[string]string{"name": "api", "region": "eu"}, gen1.Derived, "generation 1 must not change")
	time.Sleep(10 * time.Millisecond)
}

type gatedLayered struct {
	On      bool          `live:"file=${DIR}/on.txt"`
	Base    baseConfig    `live:"file=${DIR}/base.toml; when=On"`
	Derived derivedConfig `live:"file=${DIR}/derived.toml; depends_on=Base; update=MergeDerived"`
}

// MergeDerived fills the derived region from Base, and refuses a Derived
// named "strict" without a Base region so tests can see a rejected
// generation.
func (c *gatedLayered) MergeDerived(next derivedConfig) error {
	if next.Name == "strict" && c.Base.Region == "" {
		return errors.New("strict needs a base region")
	}
	if next.Region == "" {
		next.Region = c.Base.Region
	}
	c.Derived = next
	return nil
}

// bindGated binds a gatedLayered with On true, Base region "eu" and
// Derived name "api", and returns it with its directory.
func bindGated(t *testing.T) (*Binding[gatedLayered], string) {
	t.Helper()
	return bindFiles[gatedLayered](t, "on.txt", "true", "base.toml", "region = \"eu\"\n", "derived.toml", "name = \"api\"\n")
}

// A field that a when= condition zeroes is a changed dependency: its
// dependants run their update= method again in the same generation, as
// they do when its source changes. (Before, Derived kept the region of a
// Base that was gone.)
func TestDependantRerunsWhenConditionZeroesDependency(t *testing.T) {
	t.Parallel()
	b, dir := bindGated(t)
	require.Equal(t, derivedConfig{Name: "api", Region: "eu"}, b.Get().Derived)
	rec := record(t, b)

	writeFile(t, dir, "on.txt", "false")
	u, seen := rec.until(t, wait, func(u Update) bool { return u.Field == "Derived" })
	assert.Equal(t, Updated, u.Kind)
	require.Len(t, seen, 2, "On, Base, then Derived: %v", seen)
	assert.Equal(t, []string{"On", "Base"}, []string{seen[0].Field, seen[1].Field})
	assert.Equal(t, Removed, seen[1].Kind)
	assert.Equal(t, u.Gen, seen[1].Gen, "one generation")
	assert.Equal(t, derivedConfig{Name: "api"}, b.Get().Derived, "Derived no longer holds the removed Base's region")

	// The condition turns true again: Base is Added and Derived follows it.
	writeFile(t, dir, "on.txt", "true")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Derived" })
	assert.Equal(t, derivedConfig{Name: "api", Region: "eu"}, b.Get().Derived)
}

// A dependant that refuses the zeroed dependency rejects the generation:
// the condition does not turn off, and the last good snapshot stays.
func TestDependantRefusesConditionZeroingKeepsSnapshot(t *testing.T) {
	t.Parallel()
	b, dir := bindGated(t)
	rec := record(t, b)
	writeFile(t, dir, "derived.toml", "name = \"strict\"\n") // needs a Base
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Derived" })
	before := *b.Get()
	require.Equal(t, derivedConfig{Name: "strict", Region: "eu"}, before.Derived)

	writeFile(t, dir, "on.txt", "false")
	u := rec.want(t, Error)
	assert.Equal(t, "On", u.Field, "the change that was rejected")
	require.ErrorIs(t, u.Err, ErrUpdate)
	assert.Contains(t, u.Err.Error(), "field Derived")
	assert.Contains(t, u.Err.Error(), "strict needs a base region")
	assert.Equal(t, before, *b.Get(), "the condition did not turn off: Base and Derived kept")
}

// envGated: Derived depends on Base, which a when= condition on On gates.
// All sources are env polled hourly, so one Reload is one generation.
type envGated struct {
	On      string `live:"env=ON; poll=1h"`
	Base    string `live:"env=BASE; poll=1h; when=On == \"yes\""`
	Derived string `live:"env=DERIVED; poll=1h; depends_on=Base; update=MergeDerived"`
}

func (c *envGated) MergeDerived(next string) error {
	c.Derived = next + "@" + c.Base
	return nil
}

// A generation in which a dependant's own source changes and a condition
// zeroes its dependency reports the dependant once, from its published old
// value to its published new one: not also an intermediate value (derived
// from the removed field) that no snapshot ever held, and its Status and
// History count one change per generation. (Usually Reload takes both
// changes in one generation; under load the DERIVED watch's first poll can
// see its change before Reload, so it comes in a generation of its own:
// the checks hold either way.)
func TestDependantRerunReportsOneUpdatePerGeneration(t *testing.T) {
	t.Parallel()
	e := newEnv("ON", "yes", "BASE", "eu", "DERIVED", "api")
	var cfg envGated
	b := mustBind(t, &cfg, WithLookupEnv(e.lookup), WithHistory(4))
	require.Equal(t, "api@eu", b.Get().Derived)
	rec := record(t, b)

	e.set("ON", "no")
	e.set("DERIVED", "web")
	require.NoError(t, b.Reload(t.Context()))
	require.Equal(t, "web@", b.Get().Derived)
	last, seen := rec.until(t, wait, func(u Update) bool { return u.Field == "Derived" && u.New == "web@" })
	var derived []Update
	perGen := map[uint64]int{}
	prev := any("api@eu")
	for _, u := range append(seen, last) {
		if u.Field != "Derived" {
			continue
		}
		derived = append(derived, u)
		perGen[u.Gen]++
		assert.Equal(t, prev, u.Old, "each update starts from the published value: %v", u)
		prev = u.New
	}
	for g, n := range perGen {
		assert.Equal(t, 1, n, "one update of Derived in generation %d: %v", g, derived)
	}
	for _, h := range b.History() {
		if h.Gen == 1 {
			continue // Bind's
		}
		assert.Equal(t, perGen[h.Gen], countOf(h.Changed, "Derived"), "gen %d lists Derived once if it changed it: %v", h.Gen, h.Changed)
		if slices.Contains(h.Changed, "On") {
			assert.Equal(t, []string{"On", "Base"}, h.Changed[:2], "gen %d: dependency first", h.Gen)
		}
	}
	for _, fs := range b.Status().Fields {
		if fs.Field == "Derived" {
			assert.Equal(t, uint64(len(derived)), fs.Updates, "one change of Derived per generation that changed it")
		}
	}
}

// countOf counts s in list.
func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// derivedFirst and baseFirst differ only in the order of their fields:
// Derived is gated on Base being set, Base on On, and Derived refuses
// "strict" without a Base. Turning On off must zero both in either order.
type derivedFirst struct {
	On      string `live:"env=ON; poll=1h"`
	Derived string `live:"env=DERIVED; poll=1h; depends_on=Base; update=MergeDerived; when=Base != \"\""`
	Base    string `live:"env=BASE; poll=1h; when=On == \"yes\""`
}

func (c *derivedFirst) MergeDerived(next string) error { return mergeStrict(&c.Derived, c.Base, next) }

type baseFirst struct {
	On      string `live:"env=ON; poll=1h"`
	Base    string `live:"env=BASE; poll=1h; when=On == \"yes\""`
	Derived string `live:"env=DERIVED; poll=1h; depends_on=Base; update=MergeDerived; when=Base != \"\""`
}

func (c *baseFirst) MergeDerived(next string) error { return mergeStrict(&c.Derived, c.Base, next) }

func mergeStrict(dst *string, base, next string) error {
	if next == "strict" && base == "" {
		return errors.New("strict needs a base")
	}
	*dst = next + "@" + base
	return nil
}

// A dependant whose own when= condition the zeroing turns off is zeroed,
// not re-run first: whether its update= method sees the removed field must
// not depend on the order in which the fields are declared.
func TestConditionalDependantZeroedNotRerunInAnyFieldOrder(t *testing.T) {
	t.Parallel()
	t.Run("derived first", func(t *testing.T) {
		t.Parallel()
		turnOffGate(t, &derivedFirst{}, func(c *derivedFirst) [3]string { return [3]string{c.On, c.Base, c.Derived} })
	})
	t.Run("base first", func(t *testing.T) {
		t.Parallel()
		turnOffGate(t, &baseFirst{}, func(c *baseFirst) [3]string { return [3]string{c.On, c.Base, c.Derived} })
	})
}

// turnOffGate binds cfg with On set and Derived "strict", turns On off,
// and checks that the generation is accepted with Base and Derived zeroed.
func turnOffGate[T any](t *testing.T, cfg *T, fields func(*T) [3]string) {
	t.Helper()
	e := newEnv("ON", "yes", "BASE", "eu", "DERIVED", "strict")
	b := mustBind(t, cfg, WithLookupEnv(e.lookup))
	require.Equal(t, [3]string{"yes", "eu", "strict@eu"}, fields(b.Get()))
	e.set("ON", "no")
	require.NoError(t, b.Reload(t.Context()), "Derived's condition turns off with Base: nothing to refuse")
	assert.Equal(t, [3]string{"no", "", ""}, fields(b.Get()))
}

// envChain: A is gated on On; B depends on A, C (secret) on B.
type envChain struct {
	On string `live:"env=ON; poll=1h"`
	A  string `live:"env=A; poll=1h; when=On == \"yes\""`
	B  string `live:"env=B; poll=1h; depends_on=A; update=MergeB"`
	C  string `live:"env=C; poll=1h; depends_on=B; update=MergeC; secret"`
}

func (c *envChain) MergeB(next string) error { c.B = next + "<" + c.A; return nil }

// MergeC refuses a C of "strict" when B holds no A, quoting its value.
func (c *envChain) MergeC(next string) error {
	if strings.HasPrefix(next, "strict") && strings.HasSuffix(c.B, "<") {
		return fmt.Errorf("%s needs an A", next)
	}
	c.C = next + "<" + c.B
	return nil
}

// Zeroing A re-runs B, and through B's change C, each once; a refusal by
// the secret C rejects the generation without showing C's value.
func TestConditionZeroingRerunsChain(t *testing.T) {
	t.Parallel()
	e := newEnv("ON", "yes", "A", "a", "B", "b", "C", "c")
	var cfg envChain
	b := mustBind(t, &cfg, WithLookupEnv(e.lookup))
	require.Equal(t, envChain{On: "yes", A: "a", B: "b<a", C: "c<b<a"}, *b.Get())
	rec := record(t, b)
	e.set("ON", "no")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, envChain{On: "no", B: "b<", C: "c<b<"}, *b.Get())
	last, seen := rec.until(t, wait, func(u Update) bool { return u.Field == "C" })
	var fields []string
	for _, u := range append(seen, last) {
		fields = append(fields, u.Field)
	}
	assert.Equal(t, []string{"On", "A", "B", "C"}, fields)

	e.set("ON", "yes")
	require.NoError(t, b.Reload(t.Context()))
	require.Eventually(t, func() bool { return b.Get().C == "c<b<a" }, wait, time.Millisecond, "A is Added again, B and C follow")
	e.set("C", "strict-hunter2")
	require.NoError(t, b.Reload(t.Context()))
	before := *b.Get()
	require.Equal(t, "strict-hunter2<b<a", before.C)
	e.set("ON", "no")
	err := b.Reload(t.Context())
	require.ErrorIs(t, err, ErrUpdate)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Equal(t, before, *b.Get(), "the last good snapshot stays")
}

// bufferedUpper's update= method upper-cases TAGS into a buffer it reuses
// from call to call, kept in an untagged field (shared by every snapshot).
type bufferedUpper struct {
	Tags []string `live:"env=TAGS; poll=1h; update=SetTags"`
	Buf  *[]string
}

func (c *bufferedUpper) SetTags(next []string) error {
	buf := (*c.Buf)[:0]
	for _, s := range next {
		buf = append(buf, strings.ToUpper(s))
	}
	*c.Buf = buf
	c.Tags = buf
	return nil
}

// TestUpdateFunctionKeepsNoReference: the value an update= method sets is
// published as it is, so a method that keeps a reference to it (a buffer
// it reuses) rewrote, on its next call, the generation readers held and
// the history. The value the method sets is now copied once it returns.
func TestUpdateFunctionKeepsNoReference(t *testing.T) {
	t.Parallel()
	env := newEnv("TAGS", "a,b")
	buf := make([]string, 0, 8)
	b := mustBind(t, &bufferedUpper{Buf: &buf}, WithLookupEnv(env.lookup), WithHistory(4))
	g1 := b.Get()
	require.Equal(t, []string{"A", "B"}, g1.Tags)

	env.set("TAGS", "x,y")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, []string{"X", "Y"}, b.Get().Tags)
	assert.Equal(t, []string{"A", "B"}, g1.Tags, "generation 1, held by a reader")
	assert.Equal(t, []string{"A", "B"}, b.History()[0].Value.Tags, "generation 1 in the history")
}
