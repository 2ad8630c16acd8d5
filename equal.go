package livebind

import "reflect"

// sameValue reports whether two values of one field are the same for the
// purpose of deciding what counts as a change. A field type with an
// Equal(T) bool method (the convention of time.Time and netip.Addr) decides
// for itself, on the value or its pointer; every other type is compared
// with reflect.DeepEqual.
func sameValue(a, b any) bool {
	if eq, ok := equalMethod(a, b); ok {
		return eq
	}
	return reflect.DeepEqual(a, b)
}

// equalMethod calls a's Equal(T) bool method with b, where T is a's own
// type. It reports false in its second result when there is no such method
// or the two values differ in type.
func equalMethod(a, b any) (equal, ok bool) {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if !va.IsValid() || !vb.IsValid() || va.Type() != vb.Type() {
		return false, false
	}
	m := va.MethodByName("Equal")
	if !m.IsValid() {
		// A method on *T: call it through a copy.
		p := reflect.New(va.Type())
		p.Elem().Set(va)
		m = p.MethodByName("Equal")
	}
	if !m.IsValid() {
		return false, false
	}
	mt := m.Type()
	if mt.NumIn() != 1 || mt.NumOut() != 1 || mt.Out(0).Kind() != reflect.Bool || mt.In(0) != va.Type() {
		return false, false
	}
	return m.Call([]reflect.Value{vb})[0].Bool(), true
}
