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
// from the sources. So the expression runs on the Binding's evaluator
// goroutine and the applier waits for it at most conditionTimeout: one
// that takes longer counts as failed and is left to finish alone with its
// evaluator, which reads its own copy of c (so the applier goes on with
// the candidate), and the next evaluation starts a fresh evaluator. Until
// the abandoned one has finished, t's condition fails at once instead of
// starting another.
func (b *Binding[T]) evalCondition(t *target, c *T) (bool, error) {
	if t.runaway != nil {
		select {
		case <-t.runaway:
			t.runaway = nil
		default:
			return false, fmt.Errorf("an evaluation that took longer than %v is still running", conditionTimeout)
		}
	}
	if t.when.inline { // bounded, and no user code: see conditionInline
		out, err := b.condRun.inline.Run(t.when.program, c)
		v, _ := out.(bool)
		return v && err == nil, err
	}
	ev := b.condRun.eval
	if ev == nil {
		ev = newEvaluator[T]()
		b.condRun.eval = ev
	}
	*ev.env = *c   // the applier only sets c's fields, so a shallow copy will do...
	if b.editors { // ...but Validate and update= methods edit maps and slices of c in place
		dst, src := reflect.ValueOf(ev.env).Elem(), reflect.ValueOf(c).Elem()
		for _, idx := range b.copyIdx {
			if t.when.canRead(idx[0]) { // what the expression cannot read it may share
				dst.FieldByIndex(idx).Set(deepCopy(src.FieldByIndex(idx)))
			}
		}
	}
	ev.req <- t.when.program // never blocks: an evaluator in b.condRun.eval is idle
	if b.condRun.timer == nil {
		b.condRun.timer = time.NewTimer(conditionTimeout)
	} else {
		b.condRun.timer.Reset(conditionTimeout)
	}
	var r evalResult
	select {
	case r = <-ev.res:
		b.condRun.timer.Stop()
	case <-ev.ended: // the goroutine ended without a result
		b.condRun.timer.Stop()
		b.condRun.eval = nil
		return false, errors.New("a method it called ended the evaluation's goroutine (runtime.Goexit)")
	case <-b.condRun.timer.C:
		b.abandon(t, ev)
		return false, fmt.Errorf("its evaluation took longer than %v and goes on in the background", conditionTimeout)
	case <-b.ctx.Done(): // Close does not wait for the timeout
		b.condRun.timer.Stop()
		b.abandon(t, ev)
		return false, ErrClosed
	}
	var zero T
	*ev.env = zero // keeps nothing of the candidate alive
	if r.err != nil {
		return false, r.err
	}
	v, _ := r.out.(bool)
	return v, nil
}

// conditionRunner is what the applier keeps to run when= expressions
// (see evalCondition). Only the applier, or Bind before the applier
// starts, uses it.
type conditionRunner[T any] struct {
	eval   *evaluator[T] // nil until the first evaluation, or after one is abandoned
	timer  *time.Timer   // bounds each evaluation (conditionTimeout)
	inline vm.VM         // runs the expressions that need no bound (conditionInline)
}

// abandon leaves the evaluator ev, still running t's expression, to finish
// alone: nobody writes its copy of the candidate again, it ends once the
// expression returns, and t's condition fails at once until then.
func (b *Binding[T]) abandon(t *target, ev *evaluator[T]) {
	t.runaway = ev.ended
	close(ev.req)
	b.condRun.eval = nil
}

// stopEvaluator ends the idle evaluator, if there is one, and waits for
// it; shutdown calls it once the applier has stopped. Abandoned ones are
// waited for by waitAbandoned.
func (b *Binding[T]) stopEvaluator() {
	if ev := b.condRun.eval; ev != nil {
		b.condRun.eval = nil
		close(ev.req)
		<-ev.ended
	}
}

// waitAbandoned waits until deadline, or until giveUp is closed, for the
// abandoned evaluations that still run (at most one per condition:
// t.runaway), and reports those still running then as Close reports
// callbacks: an Error log and an error wrapping ErrCloseTimeout, which
// name the fields. shutdown, which started at start, calls it once the
// applier has stopped, so nothing writes t.runaway any more; the applier
// itself never waits for an abandoned evaluation.
func (b *Binding[T]) waitAbandoned(start, deadline time.Time, giveUp <-chan struct{}) error {
	var (
		timer   *time.Timer
		expired bool
		fields  []string
	)
	for _, t := range b.conds {
		if t.runaway == nil {
			continue
		}
		if !expired {
			if timer == nil {
				timer = time.NewTimer(time.Until(deadline))
				defer timer.Stop()
			}
			select {
			case <-t.runaway:
				t.runaway = nil
				continue
			case <-timer.C:
				expired = true
			case <-giveUp:
				expired = true
			}
		}
		select {
		case <-t.runaway:
			t.runaway = nil
		default:
			for _, f := range t.fields {
				fields = append(fields, f.plan.path)
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	waited := time.Since(start).Round(time.Millisecond)
	b.log.Error("livebind: Close abandoned when= evaluations that did not end in time", "fields", fields, "waited", waited)
	return fmt.Errorf("livebind: close: the when= evaluation of %s still running after %v, abandoned: %w",
		strings.Join(fields, ", "), waited, ErrCloseTimeout)
}

// evaluator is a goroutine that runs when= expressions for a Binding, one
// at a time, so that an evaluation starts no goroutine and makes no
// channel or copy of the struct: it reuses its copy of the candidate, env,
// and its vm.VM. The applier (or Bind, before the applier starts) is its
// only user. Abandoned, it is dropped together with env.
type evaluator[T any] struct {
	req   chan *vm.Program // cap 1: a program to run on env; closed to end the goroutine
	res   chan evalResult  // cap 1: an abandoned evaluator's answer waits there for nobody
	ended chan struct{}    // closed when the goroutine ends: req closed, or runtime.Goexit in a method
	env   *T
}

// evalResult is what one evaluation returned.
type evalResult struct {
	out any
	err error
}

// newEvaluator starts an evaluator goroutine.
func newEvaluator[T any]() *evaluator[T] {
	ev := &evaluator[T]{
		req:   make(chan *vm.Program, 1),
		res:   make(chan evalResult, 1),
		ended: make(chan struct{}),
		env:   new(T),
	}
	go ev.loop()
	return ev
}

// loop runs the programs sent to req until req is closed.
func (ev *evaluator[T]) loop() {
	defer close(ev.ended) // also on a runtime.Goexit in a method the expression calls
	var m vm.VM
	for p := range ev.req {
		ev.res <- runCondition(&m, p, ev.env)
	}
}

// runCondition runs p on env with m. vm.Run turns a panic into an error;
// this recovers one it would let through, as the goroutine outlives the
// evaluation.
func runCondition(m *vm.VM, p *vm.Program, env any) (r evalResult) {
	defer func() {
		if v := recover(); v != nil {
			r = evalResult{err: fmt.Errorf("the evaluation panicked: %v", v)}
		}
	}()
	r.out, r.err = m.Run(p, env)
	return r
}

// conditionTimeout bounds how long the applier waits for one evaluation of
// a when= expression (see evalCondition). A variable for tests.
var conditionTimeout = time.Second
