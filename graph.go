package livebind

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

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
//
// expr cannot be interrupted, and an expression's cost can grow with the
// square of the values it reads (all(Hosts, {# in Allowed})), which come
// from the sources. So the expression runs on a goroutine of its own and
// the applier waits for it at most conditionTimeout: one that takes longer
// counts as failed and is left to finish alone (it reads a copy of c, so
// the applier goes on with the candidate); until it has finished, t's
// condition fails at once instead of starting another.
func (b *Binding[T]) evalCondition(t *target, c *T) (bool, error) {
	if t.runaway != nil {
		select {
		case <-t.runaway:
			t.runaway = nil
		default:
			return false, fmt.Errorf("an evaluation that took longer than %v is still running", conditionTimeout)
		}
	}
	env := new(T)
	if b.editors { // Validate and update= methods edit maps and slices of c in place
		b.copyConfig(reflect.ValueOf(env).Elem(), reflect.ValueOf(c).Elem())
	} else { // the applier only sets c's fields
		*env = *c
	}
	type result struct {
		out any
		err error
	}
	done := make(chan result, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended) // also on a runtime.Goexit in a method the expression calls
		var m vm.VM
		out, err := m.Run(t.when.program, env)
		done <- result{out, err}
	}()
	timer := time.NewTimer(conditionTimeout)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
	case <-ended: // sent to done first, unless the goroutine ended without a result
		select {
		case r = <-done:
		default:
			return false, errors.New("a method it called ended the evaluation's goroutine (runtime.Goexit)")
		}
	case <-timer.C:
		t.runaway = ended
		return false, fmt.Errorf("its evaluation took longer than %v and goes on in the background", conditionTimeout)
	case <-b.ctx.Done(): // Close does not wait for the timeout
		t.runaway = ended
		return false, ErrClosed
	}
	if r.err != nil {
		return false, r.err
	}
	v, _ := r.out.(bool)
	return v, nil
}

// conditionTimeout bounds how long the applier waits for one evaluation of
// a when= expression (see evalCondition). A variable for tests.
var conditionTimeout = time.Second
