package livebind

import (
	"math"
	"reflect"
	"sync"
)

// sameValue reports whether two values of one field are the same for the
// purpose of deciding what counts as a change. A field type with an
// Equal(T) bool method (the convention of time.Time and netip.Addr) decides
// for itself, on the value or its pointer; every other type is compared
// with reflect.DeepEqual, as are values whose Equal method panics: it runs
// on the applier, which user code must not crash.
func sameValue(a, b any) bool {
	if eq, ok := equalMethod(a, b); ok {
		return eq
	}
	return deepEqual(a, b)
}

// deepEqual is reflect.DeepEqual, except that NaN equals NaN: a field that
// holds NaN (TOML nan, YAML .nan), or a map or struct holding one, would
// otherwise change in every generation that reads its document. The
// second walk, nanEqual, runs only for a type that can hold a float
// (canHoldFloat): a real change of any other value is compared once.
func deepEqual(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	t := reflect.TypeOf(a)
	if t == nil || t != reflect.TypeOf(b) || !canHoldFloat(t) {
		return false // nanEqual would say no too
	}
	return nanEqual(reflect.ValueOf(a), reflect.ValueOf(b), 0)
}

// floatHolders caches canHoldFloat by type.
var floatHolders sync.Map // reflect.Type -> bool

// canHoldFloat reports whether a value of type t can hold a float or
// complex number anywhere nanEqual looks: in itself, or through struct
// fields (unexported ones too), array and slice elements, map keys and
// values, and pointers. An interface type can hold anything, so it
// counts. Channels and functions do not: nanEqual does not look into
// them. Map keys count although a NaN key is never found again (DeepEqual
// and nanEqual both say no then): a type that answers yes only costs the
// second walk. Scalars and strings answer without a lookup.
func canHoldFloat(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
	default:
		return holdsFloat(t, nil) // answers without a walk
	}
	if v, ok := floatHolders.Load(t); ok {
		return v.(bool)
	}
	v := holdsFloat(t, map[reflect.Type]bool{})
	floatHolders.Store(t, v)
	return v
}

// holdsFloat is canHoldFloat's walk; seen holds the types on the way
// down, so a recursive type (type node struct{ Next *node }) ends: a type
// met again adds nothing the first meeting does not already look at.
func holdsFloat(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
	default:
		return false
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Map:
		return holdsFloat(t.Key(), seen) || holdsFloat(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsFloat(t.Field(i).Type, seen) {
				return true
			}
		}
		return false
	default: // pointer, slice, array
		return holdsFloat(t.Elem(), seen)
	}
}

// nanEqual compares like reflect.DeepEqual with NaN equal to NaN. It is
// asked only after DeepEqual said no, so it may answer no where it cannot
// tell (unexported fields that are not numbers, a structure deeper than 64
// levels, a cycle).
func nanEqual(a, b reflect.Value, depth int) bool {
	if !a.IsValid() || !b.IsValid() || a.Type() != b.Type() || depth > 64 {
		return false
	}
	depth++
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	case reflect.Complex64, reflect.Complex128:
		x, y := a.Complex(), b.Complex()
		same := func(p, q float64) bool { return p == q || (math.IsNaN(p) && math.IsNaN(q)) }
		return same(real(x), real(y)) && same(imag(x), imag(y))
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() && b.IsNil()
		}
		return nanEqual(a.Elem(), b.Elem(), depth)
	case reflect.Slice, reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.Kind() == reflect.Map {
			iter := a.MapRange()
			for iter.Next() {
				if !nanEqual(iter.Value(), b.MapIndex(iter.Key()), depth) {
					return false
				}
			}
			return true
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !nanEqual(a.Index(i), b.Index(i), depth) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !nanEqual(a.Field(i), b.Field(i), depth) {
				return false
			}
		}
		return true
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.String:
		return a.String() == b.String()
	}
	return a.CanInterface() && b.CanInterface() && reflect.DeepEqual(a.Interface(), b.Interface())
}

// equalMethod calls a's Equal(T) bool method with b, where T is a's own
// type. It reports false in its second result when there is no such method,
// the two values differ in type, or the method panics.
func equalMethod(a, b any) (equal, ok bool) {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if !va.IsValid() || !vb.IsValid() || va.Type() != vb.Type() {
		return false, false
	}
	m := equalerOf(va.Type())
	if m.index < 0 {
		return false, false
	}
	recv := va
	if m.ptr { // a method on *T: call it through a copy
		recv = reflect.New(va.Type())
		recv.Elem().Set(va)
	}
	// Only a call of user code needs the recovery: types without an Equal
	// method (most fields) do not pay for it.
	defer func() {
		if recover() != nil {
			equal, ok = false, false
		}
	}()
	return recv.Method(m.index).Call([]reflect.Value{vb})[0].Bool(), true
}

// equaler locates a type's Equal(T) bool method: its index in the method
// set of T, or of *T when ptr is set; index is -1 when there is none.
type equaler struct {
	index int
	ptr   bool
}

// equalers caches equalerOf by type: the method lookup is by name, and a
// field's type is compared on every change.
var equalers sync.Map // reflect.Type -> equaler

// equalerOf finds t's Equal(T) bool method, on T first, then on *T.
func equalerOf(t reflect.Type) equaler {
	if e, ok := equalers.Load(t); ok {
		return e.(equaler)
	}
	e := equaler{index: -1}
	// A method value's type has no receiver; reflect.Type.Method's has.
	fits := func(m reflect.Method, ok bool) bool {
		mt := m.Type
		return ok && mt.NumIn() == 2 && mt.In(1) == t && mt.NumOut() == 1 && mt.Out(0).Kind() == reflect.Bool
	}
	if m, ok := t.MethodByName("Equal"); fits(m, ok) {
		e.index = m.Index
	} else if m, ok := reflect.PointerTo(t).MethodByName("Equal"); fits(m, ok) {
		e = equaler{index: m.Index, ptr: true}
	}
	equalers.Store(t, e)
	return e
}
