package livebind

import (
	"math/big"
	"reflect"
	"sync"
)

// cloneFunc copies a value of one type by the type's own means.
type cloneFunc func(reflect.Value) reflect.Value

// cloners caches clonerOf by type.
var cloners sync.Map // reflect.Type -> cloneFunc (nil: none)

// bigCloners copy math/big numbers, whose digits sit in an unexported
// slice that a method such as SetInt64 overwrites in place.
var bigCloners = map[reflect.Type]cloneFunc{
	reflect.TypeFor[*big.Int](): func(v reflect.Value) reflect.Value {
		return reflect.ValueOf(new(big.Int).Set(v.Interface().(*big.Int)))
	},
	reflect.TypeFor[*big.Float](): func(v reflect.Value) reflect.Value {
		return reflect.ValueOf(new(big.Float).Copy(v.Interface().(*big.Float)))
	},
	reflect.TypeFor[*big.Rat](): func(v reflect.Value) reflect.Value {
		return reflect.ValueOf(new(big.Rat).Set(v.Interface().(*big.Rat)))
	},
	reflect.TypeFor[big.Int](): func(v reflect.Value) reflect.Value {
		x := v.Interface().(big.Int)
		return reflect.ValueOf(new(big.Int).Set(&x)).Elem()
	},
	reflect.TypeFor[big.Float](): func(v reflect.Value) reflect.Value {
		x := v.Interface().(big.Float)
		return reflect.ValueOf(new(big.Float).Copy(&x)).Elem()
	},
	reflect.TypeFor[big.Rat](): func(v reflect.Value) reflect.Value {
		x := v.Interface().(big.Rat)
		return reflect.ValueOf(new(big.Rat).Set(&x)).Elem()
	},
}

// clonerOf returns how deepCopy copies a pointer or struct type whose
// references it cannot reach (they sit in unexported fields): math/big's
// numbers by their Set or Copy method, and a type with a Clone method that
// returns its own type (the convention of tls.Config and x509.CertPool) by
// calling it. It returns nil for every other type.
func clonerOf(t reflect.Type) cloneFunc {
	if c, ok := cloners.Load(t); ok {
		return c.(cloneFunc)
	}
	c := bigCloners[t]
	if m, ok := t.MethodByName("Clone"); c == nil && ok && m.Type.NumIn() == 1 && m.Type.NumOut() == 1 && m.Type.Out(0) == t {
		c = func(v reflect.Value) reflect.Value { return v.Method(m.Index).Call(nil)[0] }
	}
	cloners.Store(t, c)
	return c
}

// callClone runs clone on v, recovering a panic in a user's Clone method
// (deepCopy runs on the applier too): ok is false then, and deepCopy
// copies v as it would without one.
func callClone(clone cloneFunc, v reflect.Value) (_ reflect.Value, ok bool) {
	if !v.CanInterface() {
		return reflect.Value{}, false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return clone(v), true
}
