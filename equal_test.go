package livebind

import (
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// caseless is equal to another caseless when they differ only in case.
type caseless string

func (c caseless) Equal(o caseless) bool { return strings.EqualFold(string(c), string(o)) }

// ptrEqual has its Equal method on the pointer.
type ptrEqual struct{ N, Noise int }

func (p *ptrEqual) Equal(o ptrEqual) bool { return p.N == o.N }

// wrongEqual has an Equal method of another shape: it is ignored.
type wrongEqual struct{ N int }

func (wrongEqual) Equal(any) bool { return true }

// firstEqual compares first elements only: its Equal panics on an empty
// slice (a source that sends "[]").
type firstEqual []int

func (s firstEqual) Equal(o firstEqual) bool { return s[0] == o[0] }

// nilPanics has an Equal on its pointer that dereferences the receiver:
// called on a nil *nilPanics it panics.
type nilPanics struct{ N int }

func (p *nilPanics) Equal(o *nilPanics) bool { return p.N == o.N }

// An Equal method that panics must not crash the applier, which calls
// sameValue from applyField outside any recover (before, "[1]" then "[]"
// from a file killed the process): the values are deep-compared instead.
func TestSameValueEqualPanics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a, b any
		want bool
	}{
		{"index out of range", firstEqual{1}, firstEqual{}, false},
		{"both empty", firstEqual{}, firstEqual{}, true},
		{"nil receiver", (*nilPanics)(nil), &nilPanics{N: 1}, false},
		{"both nil", (*nilPanics)(nil), (*nilPanics)(nil), true},
	} {
		var got bool
		require.NotPanics(t, func() { got = sameValue(tc.a, tc.b) }, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

// TestSameValue: a type's own Equal(T) bool decides (issue 14, item 5);
// others are deep-compared.
func TestSameValue(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a, b any
		want bool
	}{
		{"time same instant, other zone", t0, t0.In(time.FixedZone("x", 3600)), true},
		{"time other instant", t0, t0.Add(time.Second), false},
		{"netip same", netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.1"), true},
		{"value method", caseless("Blue"), caseless("BLUE"), true},
		{"value method differs", caseless("Blue"), caseless("red"), false},
		{"pointer method", ptrEqual{1, 2}, ptrEqual{1, 3}, true},
		{"pointer method differs", ptrEqual{1, 2}, ptrEqual{2, 2}, false},
		{"wrong signature deep-compared", wrongEqual{1}, wrongEqual{2}, false},
		{"no method", []int{1}, []int{1}, true},
		{"nil", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, sameValue(tc.a, tc.b))
		})
	}
}

// TestEqualMethodDecidesChanges: a new value that the field type's Equal
// method calls equal to the current one publishes nothing; a different one
// is an update.
func TestEqualMethodDecidesChanges(t *testing.T) {
	t.Parallel()
	e := newEnv("COLOR", "Blue", "N", "1")
	var c struct {
		Color caseless `live:"env=COLOR; poll=1h"`
		N     int      `live:"env=N; poll=1h"`
	}
	b := mustBind(t, &c, WithLookupEnv(e.lookup))
	_, g0 := b.Snapshot()
	e.set("COLOR", "BLUE")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, g0, gen(b), "equal by its Equal method: no new generation")
	assert.Equal(t, caseless("Blue"), b.Get().Color)
	e.set("COLOR", "red")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, g0+1, gen(b))
	assert.Equal(t, caseless("red"), b.Get().Color)
}

type nanDoc struct {
	Rate   float64            `live:"env=DOC; format=toml; key=rate; poll=1h"`
	Limits map[string]float64 `live:"env=DOC; format=toml; key=limits; poll=1h"`
	Name   string             `live:"env=DOC; format=toml; key=name; poll=1h"`
}

// TestNaNIsNotAChange: reflect.DeepEqual says NaN differs from NaN, so a
// field holding NaN (TOML nan, YAML .nan) was reported as Updated, NaN ->
// NaN, whenever anything else in its document changed, and so was a
// map or struct holding one; a dependant re-ran each time.
func TestNaNIsNotAChange(t *testing.T) {
	t.Parallel()
	assert.True(t, sameValue(math.NaN(), math.NaN()))
	assert.True(t, sameValue(float32(math.NaN()), float32(math.NaN())))
	assert.True(t, sameValue(map[string]float64{"a": math.NaN()}, map[string]float64{"a": math.NaN()}))
	assert.True(t, sameValue([]any{1.0, math.NaN()}, []any{1.0, math.NaN()}))
	assert.True(t, sameValue(struct{ F *float64 }{ptrTo(math.NaN())}, struct{ F *float64 }{ptrTo(math.NaN())}))
	assert.False(t, sameValue(math.NaN(), 1.0))
	assert.False(t, sameValue(map[string]float64{"a": math.NaN()}, map[string]float64{"b": math.NaN()}))
	assert.False(t, sameValue([]float64{math.NaN()}, []float64{math.NaN(), 1}))

	env := newEnv("DOC", "rate = nan\nname = \"a\"\n[limits]\nx = nan\n")
	b := mustBind(t, &nanDoc{}, WithLookupEnv(env.lookup))
	rec := record(t, b)
	env.set("DOC", "rate = nan\nname = \"b\"\n[limits]\nx = nan\n")
	require.NoError(t, b.Reload(t.Context()))
	u := rec.next(t, 5*time.Second)
	assert.Equal(t, "Name", u.Field)
	rec.quiet(t, 50*time.Millisecond)
}

func ptrTo[V any](v V) *V { return &v }

// TestRemovedNaNCountsNoUpdate: Status counts a Removed update as an
// update only when it changed the value; a Removed that keeps NaN was
// counted, as DeepEqual says NaN differs from NaN.
func TestRemovedNaNCountsNoUpdate(t *testing.T) {
	t.Parallel()
	env := newEnv("RATE", "NaN")
	b := mustBind(t, &struct {
		Rate float64 `live:"env=RATE; poll=1h"`
	}{}, WithLookupEnv(env.lookup))
	rec := record(t, b)
	env.unset("RATE")
	_ = b.Reload(t.Context())
	rec.want(t, Removed)
	assert.Zero(t, b.Status().Fields[0].Updates, "a Removed that keeps the value")
}

// floatList is a recursive type that holds a float on its second level.
type floatList struct {
	Next *floatList
	V    float64
}

// intTree is a recursive type without a float anywhere.
type intTree struct {
	Kids  []intTree
	ByKey map[string]*intTree
	N     int
}

// hiddenFloat holds its float in an unexported field, which nanEqual reads.
type hiddenFloat struct {
	name string
	rate float32
}

// TestCanHoldFloat: deepEqual runs its second walk, nanEqual, only for a
// type canHoldFloat says can hold a float; one that says no where a float
// can hide would bring back the NaN changes TestNaNIsNotAChange checks.
func TestCanHoldFloat(t *testing.T) {
	t.Parallel()
	type named float64
	for _, c := range []struct {
		name string
		typ  reflect.Type
		want bool
	}{
		{"scalar/float64", reflect.TypeFor[float64](), true},
		{"scalar/named", reflect.TypeFor[named](), true},
		{"scalar/complex64", reflect.TypeFor[complex64](), true},
		{"scalar/int", reflect.TypeFor[int](), false},
		{"scalar/string", reflect.TypeFor[string](), false},
		{"scalar/duration", reflect.TypeFor[time.Duration](), false},
		{"interface/any", reflect.TypeFor[any](), true},
		{"interface/error", reflect.TypeFor[error](), true},
		{"interface/in-slice", reflect.TypeFor[[]any](), true},
		{"interface/in-map", reflect.TypeFor[map[string]any](), true},
		{"map/float-key", reflect.TypeFor[map[float64]string](), true},
		{"map/float-value", reflect.TypeFor[map[string]float32](), true},
		{"map/no-float", reflect.TypeFor[map[string][]int](), false},
		{"pointer/float", reflect.TypeFor[*float64](), true},
		{"pointer/pointer/float", reflect.TypeFor[**complex128](), true},
		{"array/float", reflect.TypeFor[[3]float64](), true},
		{"array/string", reflect.TypeFor[[3]string](), false},
		{"slice/bytes", reflect.TypeFor[[]byte](), false},
		{"struct/unexported-float", reflect.TypeFor[hiddenFloat](), true},
		{"struct/time", reflect.TypeFor[time.Time](), false},
		{"struct/netip", reflect.TypeFor[netip.Addr](), false},
		{"recursive/float", reflect.TypeFor[floatList](), true},
		{"recursive/pointer-float", reflect.TypeFor[*floatList](), true},
		{"recursive/no-float", reflect.TypeFor[intTree](), false},
		{"recursive/map-of-float-list", reflect.TypeFor[map[string]floatList](), true},
		{"chan/float", reflect.TypeFor[chan float64](), false},
		{"func/float", reflect.TypeFor[func(float64) float64](), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, c.want, canHoldFloat(c.typ), "first answer (walk)")
			assert.Equal(t, c.want, canHoldFloat(c.typ), "second answer (cache)")
		})
	}
}

// TestDeepEqualSkipsOnlyFloatlessTypes: values whose type cannot hold a
// float are compared once; NaN inside an interface, a map key's type or a
// recursive type still counts as equal to NaN.
func TestDeepEqualSkipsOnlyFloatlessTypes(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	assert.True(t, deepEqual(any(nan), any(nan)))
	assert.True(t, deepEqual(map[string]any{"x": []any{nan}}, map[string]any{"x": []any{nan}}))
	assert.True(t, deepEqual(floatList{Next: &floatList{V: nan}}, floatList{Next: &floatList{V: nan}}))
	assert.True(t, deepEqual(hiddenFloat{"a", float32(nan)}, hiddenFloat{"a", float32(nan)}))
	assert.False(t, deepEqual(floatList{Next: &floatList{V: nan}}, floatList{Next: &floatList{V: 1}}))
	assert.False(t, deepEqual(intTree{N: 1}, intTree{N: 2}))
	assert.False(t, deepEqual(1.0, 1))
	assert.False(t, deepEqual(nil, nan))
	assert.True(t, deepEqual(nil, nil))
}
