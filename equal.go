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
// otherwise change in every generation that reads its document.
func deepEqual(a, b any) bool {
	return reflect.DeepEqual(a, b) || nanEqual(reflect.ValueOf(a), reflect.ValueOf(b), 0)
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
