package livebind

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/vm"

	"github.com/livebind/livebind/internal/deps"
)

// condition is a compiled when= expression of a target.
type condition struct {
	src     string
	program *vm.Program
}

var errorType = reflect.TypeFor[error]()

// resolveGraph wires depends_on=, update= and when= for the fields of t:
// update methods are looked up on *T, dependencies ordered topologically
// (unknown names and cycles are Bind errors) and the conditions compiled with
// the plan attached to their targets. It then decides which fields are secret ([decideSecrecy]) and returns
// the fields in application order.
func resolveGraph(rt reflect.Type, fields []*boundField, byPath map[string]*boundField) ([]*boundField, error) {
	var errs []error
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.plan.path
	}
	dependsOn := map[string][]string{}
	for _, f := range fields {
		for _, d := range f.dependsOn {
			if _, ok := byPath[d]; !ok {
				errs = append(errs, tagError(f.plan.path, "depends_on", fmt.Errorf("unknown field %q (tagged fields: %s)", d, strings.Join(names, ", "))))
				continue
			}
			dependsOn[f.plan.path] = append(dependsOn[f.plan.path], d)
		}
		if f.updateName != "" {
			m, ok := reflect.PointerTo(rt).MethodByName(f.updateName)
			want := fmt.Sprintf("func (c *%s) %s(next %s) error", rt.Name(), f.updateName, f.plan.typ)
			switch {
			case !ok:
				errs = append(errs, tagError(f.plan.path, "update", fmt.Errorf("*%s has no method %s; want %s", rt.Name(), f.updateName, want)))
			case m.Type.NumIn() != 2 || m.Type.In(1) != f.plan.typ || m.Type.NumOut() != 1 || m.Type.Out(0) != errorType:
				errs = append(errs, tagError(f.plan.path, "update", fmt.Errorf("method %s is %s; want %s", f.updateName, m.Type, want)))
			default:
				f.update = m.Func
			}
		}
		if f.target.when == nil {
			f.target.when = f.plan.when // compiled once per type; fields of a target share the source
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sorted, err := deps.Sort(names, dependsOn)
	if err != nil {
		var ce *deps.CycleError
		if errors.As(err, &ce) {
			return nil, tagError(ce.Path[0], "depends_on", err)
		}
		return nil, tagError("", "depends_on", err)
	}
	order := make([]*boundField, len(sorted))
	for i, name := range sorted {
		f := byPath[name]
		order[i] = f
		for _, d := range dependsOn[name] {
			f.deps = append(f.deps, byPath[d])
		}
	}
	decideSecrecy(order)
	return order, nil
}

// callUpdate runs f's update method on the candidate c with the source's
// value, turning an error or a panic into an ErrUpdate.
func (b *Binding[T]) callUpdate(f *boundField, c *T, val reflect.Value) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if b.hasSecret {
				err = fmt.Errorf("%w: %s panicked (value hidden: the configuration holds secrets)", ErrUpdate, f.updateName)
			} else {
				err = fmt.Errorf("%w: %s panicked: %v", ErrUpdate, f.updateName, p)
			}
		}
	}()
	prev := b.work
	b.work.sentinel, b.work.what = ErrUpdate, f.updateName
	out := f.update.Call([]reflect.Value{reflect.ValueOf(c), val})
	b.work = prev
	if e, _ := out[0].Interface().(error); e != nil {
		if f.secret {
			return fmt.Errorf("%w: %s returned an error (hidden: the field is secret)", ErrUpdate, f.updateName)
		}
		return fmt.Errorf("%w: %s: %w", ErrUpdate, f.updateName, b.scrubSecrets(c, e))
	}
	return nil
}

// evalCondition runs t's when= expression against the candidate c. An
// expression that fails at run time (a nil pointer, say) counts as false.
func (b *Binding[T]) evalCondition(t *target, c *T) (bool, error) {
	var m vm.VM
	out, err := m.Run(t.when.program, c)
	if err != nil {
		return false, err
	}
	v, _ := out.(bool)
	return v, nil
}
