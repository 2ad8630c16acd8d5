package livebind

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livebind/livebind/internal/throttle"
	"github.com/livebind/livebind/sources"

	// The core sources, registered on import.
	_ "github.com/livebind/livebind/sources/env"
	_ "github.com/livebind/livebind/sources/file"
	_ "github.com/livebind/livebind/sources/http"
	_ "github.com/livebind/livebind/sources/sse"
)

// snapshot is one published generation.
type snapshot[T any] struct {
	v   *T
	gen uint64
}

// Binding keeps a struct of type T in step with its sources. Create one with
// [Bind]. All methods are safe for concurrent use.
//
// A Binding holds three things: the immutable plan computed at Bind (which
// fields, which targets, in which order), the published snapshot (one
// atomic pointer, so Get never locks), and its lifecycle. Everything that
// changes while it runs belongs to the embedded applier.
type Binding[T any] struct {
	cur atomic.Pointer[snapshot[T]] // written only by publish

	// The plan: set by Bind, read-only afterwards.
	plan      *typePlan
	fields    []*boundField
	byPath    map[string]*boundField
	targets   []*target
	order     []*boundField // fields in dependency order
	conds     []*target     // targets with a when= condition
	copyIdx   [][]int       // index paths of tagged fields whose values can alias (slices, maps, pointers)
	editors   bool          // Validate or an update= method receives candidates: give them their own copies
	drivers   map[string]sources.Driver
	opts      options
	log       *slog.Logger
	hasSecret bool

	// The lifecycle.
	ctx      context.Context // canceled by Close
	cancel   context.CancelFunc
	closeMu  sync.Mutex
	stopCtx  func() bool // unregisters the Bind context's AfterFunc; guarded by closeMu
	wg       sync.WaitGroup
	closing  atomic.Bool   // set by the first Close
	closed   chan struct{} // closed when the first Close is done
	closeErr error         // written before closed is closed

	applier[T]
}

// applier owns all mutable state of the pipeline (see docs/design.md, "One
// applier"). Only the applier goroutine (and Bind's start, before that
// goroutine exists) writes it, except where a field says otherwise:
// sources hand results to the inbox, callers hand requests to the two
// channels, and Status, History and subscribers read under the books' own
// locks. Per-target observation state (what a target last saw) lives in
// target, per-field source values in boundField; the applier is their only
// writer too.
type applier[T any] struct {
	inbox                            // results from the watches, latest per target
	reloads   chan reloadRequest     // from Reload
	rollbacks chan rollbackRequest   // from Rollback
	desired   map[*boundField]change // accepted values not yet published
	rejected  error                  // why desired values were not published
	cacheBook                        // WithCache bookkeeping
	stat      statusBook             // counters for Status; own lock
	hist      history[T]             // kept generations; own lock
	subs      subscribers            // fan-out and replay log; own lock
	self      applierSelf            // which goroutine the applier is, to refuse re-entrant calls
	work      workNote               // what the applier is doing, reported if user code ends its goroutine
	condRun   conditionRunner[T]     // runs when= expressions (graph.go)
}

// inbox holds the latest unapplied result of each target; a burst costs
// one generation.
type inbox struct {
	pmu     sync.Mutex
	pending map[*target]stamped
	queued  []*target
	wake    chan struct{}
}

// cacheBook is the applier's WithCache bookkeeping.
type cacheBook struct {
	cache        *diskCache // WithCache's checked directory and key, or nil
	cachedAtBind []*target
	failedAtBind map[*target]sources.Result // the real results of targets started from the cache
	toCache      map[*target]sources.Result // results to save once published
}

// Bind loads every tagged field of *dst from its source, writes the values
// into *dst and keeps watching. From then on *dst is never written again;
// read the live values with [Binding.Get].
//
// Bind checks every tag first and returns all problems at once, joined
// [*FieldError] values. It then reads every source, bounded by
// [WithStartTimeout]: a required field whose source or key is missing, a
// value that does not decode, a source that fails, or a Validate error fails
// Bind. Fields whose source is missing keep their default= or the value *dst
// already held.
//
// Canceling ctx has the same effect as [Binding.Close].
func Bind[T any](ctx context.Context, dst *T, opts ...Option) (*Binding[T], error) {
	if dst == nil {
		return nil, errors.New("livebind: Bind needs a non-nil pointer to a struct")
	}
	rt := reflect.TypeFor[T]()
	if rt.Kind() != reflect.Struct {
		return nil, fmt.Errorf("livebind: Bind needs a pointer to a struct, got *%s", rt)
	}
	o := defaultOptions()
	for i, opt := range opts {
		if !opt.apply(&o) {
			return nil, fmt.Errorf("livebind: Bind: option %d configures a subscription (Fields, Kinds, Buffer, Coalesce, From): pass it to Subscribe or WatchField", i+1)
		}
	}
	if (o.cacheSeal == nil) != (o.cacheOpen == nil) {
		return nil, errCacheNeedsOpen
	}
	plan := planFor(rt)
	res, err := resolveFields(plan, o.lookupEnv)
	byPath := make(map[string]*boundField, len(res.fields))
	for _, f := range res.fields {
		byPath[f.plan.path] = f
	}
	order, gerr := resolveGraph(rt, res.fields, byPath)
	if err := errors.Join(plan.err, err, gerr); err != nil {
		return nil, err
	}
	b := &Binding[T]{
		plan:    plan,
		fields:  res.fields,
		byPath:  byPath,
		order:   order,
		targets: res.targets,
		drivers: map[string]sources.Driver{},
		opts:    o,
		log:     o.logger,
		closed:  make(chan struct{}),
		applier: applier[T]{
			inbox:     inbox{pending: map[*target]stamped{}, wake: make(chan struct{}, 1)},
			reloads:   make(chan reloadRequest),
			rollbacks: make(chan rollbackRequest),
			desired:   map[*boundField]change{},
			cacheBook: cacheBook{failedAtBind: map[*target]sources.Result{}, toCache: map[*target]sources.Result{}},
		},
	}
	b.stat.init(res.targets, res.fields)
	b.hist.max = o.history
	if err := b.openCache(); err != nil {
		return nil, err
	}
	b.editors = plan.hasValidate
	for _, f := range res.fields {
		b.hasSecret = b.hasSecret || f.secret
		b.editors = b.editors || f.update.IsValid()
		if typeNeedsCopy(f.plan.typ) {
			b.copyIdx = append(b.copyIdx, f.plan.index)
		}
	}
	b.subs.init(b.log, b.hasSecret)
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	started := false
	defer func() {
		if !started {
			// start never returned: user code it called (Validate, an
			// update= method, UnmarshalText) ran runtime.Goexit, which
			// ends the caller's goroutine. What start opened is closed.
			_ = b.shutdown(0, ctx.Done())
		}
	}()
	// Until start returns, ctx ending ends the Binding's context too, as
	// Close would later: what start waits for on it (a when= evaluation,
	// which otherwise waits conditionTimeout per condition) gives up, and
	// Bind fails with ctx's error below.
	stopEarly := context.AfterFunc(ctx, b.cancel)
	defer stopEarly() // also when start never returns (runtime.Goexit)
	first, err := b.start(ctx, dst)
	stopEarly()
	started = true
	if err != nil {
		return nil, errors.Join(err, b.shutdown(0, ctx.Done()))
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.Join(fmt.Errorf("livebind: Bind: %w", err), b.shutdown(0, ctx.Done()))
	}
	// The only write to *dst, once nothing can fail any more: a failed Bind
	// leaves *dst untouched.
	b.copyConfig(reflect.ValueOf(dst).Elem(), reflect.ValueOf(first).Elem())
	stop := context.AfterFunc(ctx, func() { _ = b.Close() })
	b.closeMu.Lock()
	b.stopCtx = stop
	b.closeMu.Unlock()
	return b, nil
}

// start opens drivers, loads every target, publishes generation 1 and starts
// the watches and the applier. It returns generation 1's value; it does not
// write *dst.
func (b *Binding[T]) start(ctx context.Context, dst *T) (*T, error) {
	var errs []error
	for _, t := range b.targets {
		if t.unwatched != "" {
			continue // nothing to read or watch: no driver
		}
		d, ok := b.drivers[t.scheme.Name]
		if !ok {
			var err error
			d, err = t.scheme.Open(sources.Config{
				Logger:    sources.ScrubLogger(b.log.With("source", t.scheme.Name), secretLocations(b.targets, t.scheme.Name)),
				LookupEnv: b.opts.lookupEnv,
				Value:     b.opts.sourceConfig[t.scheme.Name],
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("livebind: open %s source: %w", t.scheme.Name, err))
				continue
			}
			b.drivers[t.scheme.Name] = d
		}
		t.driver = d
		if f := t.staticFormat(); f != "" && f != formatText {
			t.spec.Check = t.check
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	loadCtx, cancel := context.WithTimeout(ctx, b.opts.startTimeout)
	defer cancel()
	var initial []*target
	for _, t := range b.targets {
		switch {
		case t.unwatched != "":
			b.unwatchedDefaults(t) // never read, never active
		case t.when == nil:
			t.active.Store(true)
			initial = append(initial, t)
		default:
			b.conds = append(b.conds, t)
		}
	}
	results := map[*target]sources.Result{}
	if err := b.load(loadCtx, initial, results); err != nil {
		return nil, err
	}

	// Conditions see the unconditional fields first; targets whose condition
	// holds are loaded and conditions evaluated again, until they settle.
	cur := new(T)
	b.copyConfig(reflect.ValueOf(cur).Elem(), reflect.ValueOf(dst).Elem()) // tagged fields share nothing with *dst
	for _, t := range b.conds {
		for _, f := range t.fields {
			reflect.ValueOf(cur).Elem().FieldByIndex(f.plan.index).SetZero()
		}
	}
	var discarded []*T // candidates never published, released when Bind fails
	var kept *T        // what they are released against (else cur)
	defer func() {
		for _, c := range discarded {
			b.release(cmp.Or(kept, cur), c)
		}
	}()
	// The last round's candidate is the initial generation once conditions
	// settle: it is not built again, so update= methods run once per round
	// (once in all when no field has a when= condition).
	var p genPlan[T]
	settled := false
	for range len(b.conds) + 1 {
		var err error
		p, err = b.candidate(cur, nil, false)
		if err != nil {
			discarded = append(discarded, p.next)
			return nil, err
		}
		for _, t := range p.stop {
			t.active.Store(false)
			t.present, t.lastData, t.failing, t.failData = false, nil, nil, nil
			delete(results, t)
			for _, f := range t.fields {
				f.present = false
				delete(b.desired, f)
			}
		}
		var more []*target
		for _, t := range p.start {
			if !t.active.Load() {
				t.active.Store(true)
				more = append(more, t)
			}
		}
		if len(more) == 0 {
			settled = true
			break
		}
		discarded = append(discarded, p.next) // only evaluated conditions
		if err := b.load(loadCtx, more, results); err != nil {
			return nil, err
		}
	}
	var err error
	if !settled { // conditions kept turning on targets: build from all that loaded
		p, err = b.candidate(cur, nil, false)
	}
	if err == nil && !p.empty() {
		if verr := b.validate(p.next); verr != nil {
			err = fmt.Errorf("%w: %w", ErrValidation, verr)
		}
	}
	if err != nil {
		discarded = append(discarded, p.next)
		return nil, fmt.Errorf("livebind: initial configuration: %w", err)
	}
	b.commitSources(p)
	now := time.Now()
	b.publish(p.next, nil, nil, 0, now) // generation 1, which no update describes
	kept = p.next
	for t, r := range results {
		b.stat.noteResult(t, r, now)
	}
	for _, t := range b.cachedAtBind {
		b.stat.noteCached(t)
	}

	for _, t := range b.targets {
		if !t.active.Load() {
			continue
		}
		last := results[t]
		if failed, ok := b.failedAtBind[t]; ok {
			last = failed // so the first good answer is reported and clears FromCache
		}
		if err := b.watch(t, last); err != nil {
			errs = append(errs, &FieldError{Field: t.fields[0].plan.path, Source: t.String(), Err: fmt.Errorf("%w: %w", ErrSource, err)})
		}
	}
	if len(errs) > 0 {
		discarded, kept = append(discarded, p.next), nil // Bind fails: nothing stays published
		return nil, errors.Join(errs...)
	}
	for _, c := range discarded { // before the applier starts: it owns Release from then on
		b.release(p.next, c)
	}
	discarded = nil
	b.wg.Add(1)
	go b.run()
	return p.next, nil
}

// load reads targets at Bind and turns what they hold into desired values;
// missing required fields, failing sources and bad values are errors.
func (b *Binding[T]) load(ctx context.Context, targets []*target, results map[*target]sources.Result) error {
	var errs []error
	for i, r := range readAll(ctx, targets) {
		t := targets[i]
		failed := r
		r, cached := b.fromCache(t, r)
		if cached {
			b.cachedAtBind = append(b.cachedAtBind, t)
			b.failedAtBind[t] = failed
		}
		results[t] = r
		for _, c := range t.observe(r) {
			switch c.kind {
			case Error:
				errs = append(errs, c.err)
			case Updated, Added:
				b.desired[c.f] = c
			}
		}
		if !cached {
			b.cacheLater(t, r) // saved once Bind publishes it
		}
		if !t.present && t.failing == nil {
			for _, f := range t.fields {
				switch {
				case f.required:
					errs = append(errs, t.fieldErr(f, ErrRequired, errors.New("source is missing")))
				case f.hasDefault:
					b.desired[f] = change{f: f, kind: Updated, val: f.def}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// unwatchedDefaults gives the fields of an optional target whose location
// is empty their default= values; the others keep what *dst holds.
func (b *Binding[T]) unwatchedDefaults(t *target) {
	for _, f := range t.fields {
		if f.hasDefault {
			b.desired[f] = change{f: f, kind: Updated, val: f.def}
		}
	}
}

// readAll reads every target concurrently, at most 8 at a time.
func readAll(ctx context.Context, targets []*target) []sources.Result {
	results := make([]sources.Result, len(targets))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = t.hideResult(t.driver.Read(ctx, &t.spec))
		}()
	}
	wg.Wait()
	return results
}

// watch starts the driver's watch for t, behind a gate when livebind itself
// must debounce or throttle.
func (b *Binding[T]) watch(t *target, last sources.Result) error {
	deliver := func(s stamped) { b.enqueue(t, s) }
	gc := throttle.Config{Every: t.throttle, Burst: t.burst}
	if !t.scheme.NativeDebounce {
		gc.Debounce, gc.MaxWait = t.spec.Debounce, t.spec.MaxWait
	}
	emit := deliver
	if gc != (throttle.Config{}) {
		t.gate = throttle.New(gc, deliver)
		emit = t.gate.Push
	}
	stop, err := t.driver.Watch(&t.spec, last, func(r sources.Result) {
		emit(stamped{r: t.hideResult(r), seq: t.seq.Add(1)})
	})
	if err != nil {
		return t.hideErr(err)
	}
	t.stop = stop
	return nil
}

// enqueue records the latest result of t for the applier; results that the
// applier has not taken yet are replaced, so a burst costs one generation.
func (b *Binding[T]) enqueue(t *target, r stamped) {
	b.pmu.Lock()
	if _, ok := b.pending[t]; !ok {
		b.queued = append(b.queued, t)
	}
	b.pending[t] = r
	b.pmu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// reloadRequest asks the applier to apply freshly read results.
type reloadRequest struct {
	targets []*target
	results []sources.Result
	seqs    []uint64 // each target's seq when the reload began
	done    chan error
}

// run is the applier goroutine, the only writer of snapshots. If user
// code it calls ends the goroutine with runtime.Goexit, which cannot be
// recovered, run reports that and continues on a new goroutine.
func (b *Binding[T]) run() {
	stopped := false
	defer func() {
		if !stopped && b.ctx.Err() == nil {
			b.afterGoexit() // the new goroutine holds this one's place in wg
			return
		}
		b.wg.Done()
	}()
	b.self.gid.Store(goid())
	for {
		b.work = workNote{buf: b.work.buf}
		select {
		case <-b.ctx.Done():
			stopped = true
			return
		case <-b.wake:
			b.self.busy.Store(true)
			b.applyPending()
			b.self.busy.Store(false)
		case req := <-b.reloads:
			b.self.busy.Store(true)
			b.work.reply = req.done
			b.applyPending()
			var changes []change
			now := time.Now()
			for i, t := range req.targets {
				if t.applied > req.seqs[i] || !t.active.Load() {
					continue // the watch reported something newer meanwhile
				}
				// Results the watch emitted before the reload began are older
				// than what it read: drop them if a gate still holds one.
				t.applied = req.seqs[i]
				b.doing(workNote{fields: t.fields, sentinel: ErrDecode, what: "decoding its value", target: t, data: req.results[i].Data})
				changes = append(changes, t.observe(req.results[i])...)
				b.doing(workNote{})
				b.stat.noteResult(t, req.results[i], now)
				b.cacheLater(t, req.results[i])
			}
			changes = append(changes, b.rewatch(now)...)
			_ = b.apply(changes)
			b.stat.mu.Lock()
			b.stat.reloads++
			b.stat.mu.Unlock()
			req.done <- b.currentErrors()
			b.self.busy.Store(false)
		case req := <-b.rollbacks:
			b.self.busy.Store(true)
			b.work.reply = req.done
			b.applyPending()
			req.done <- b.rollback(req.gen)
			b.self.busy.Store(false)
		}
	}
}

// currentErrors reports every target that is failing now and a validation
// error that keeps accepted values from being published.
func (b *Binding[T]) currentErrors() error {
	var errs []error
	for _, t := range b.targets {
		if t.failing == nil {
			continue
		}
		var fe *FieldError
		if errors.As(t.failing, &fe) {
			errs = append(errs, fe)
			continue
		}
		errs = append(errs, t.fieldErr(t.fields[0], nil, t.failing))
	}
	if len(b.desired) > 0 && b.rejected != nil {
		errs = append(errs, fmt.Errorf("livebind: held back: %w", b.rejected))
	}
	return errors.Join(errs...)
}

// applyPending takes every queued result and applies them as one generation.
func (b *Binding[T]) applyPending() {
	b.pmu.Lock()
	queued := b.queued
	results := make([]stamped, len(queued))
	for i, t := range queued {
		results[i] = b.pending[t]
		delete(b.pending, t)
	}
	b.queued = nil
	b.pmu.Unlock()
	var changes []change
	now := time.Now()
	for i, t := range queued {
		if results[i].seq <= t.applied || !t.active.Load() {
			continue // older than what a Reload applied, or its condition turned false
		}
		t.applied = results[i].seq
		b.doing(workNote{fields: t.fields, sentinel: ErrDecode, what: "decoding its value", target: t, data: results[i].r.Data})
		changes = append(changes, t.observe(results[i].r)...)
		b.doing(workNote{})
		b.stat.noteResult(t, results[i].r, now)
		b.cacheLater(t, results[i].r)
	}
	_ = b.apply(changes)
}

// apply builds, validates and publishes one generation from changes, then
// hands the updates to subscribers. It returns the errors it reported.
func (b *Binding[T]) apply(changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	cur := b.cur.Load()
	now := time.Now()
	var notes []event // Error and Removed updates that change no value
	var errs []error
	fresh := map[*boundField]bool{} // fields with a value new in this batch
	for _, c := range changes {
		switch c.kind {
		case Updated, Added:
			b.desired[c.f] = c
			fresh[c.f] = true
		case Removed:
			delete(b.desired, c.f)
			v := reflect.ValueOf(cur.v).Elem().FieldByIndex(c.f.plan.index).Interface()
			notes = append(notes, b.event(c.f, Removed, v, v, nil))
		case Error:
			delete(b.desired, c.f)
			v := reflect.ValueOf(cur.v).Elem().FieldByIndex(c.f.plan.index).Interface()
			notes = append(notes, b.event(c.f, Error, v, v, c.err))
			errs = append(errs, c.err)
		}
	}

	var next *T
	var values []event
	if len(fresh) > 0 {
		b.validating(fresh)
		// Values held back by Validate earlier are tried again together with
		// the new ones, so that related edits to several sources converge.
		// If that fails, the new values are tried alone, so that one rejected
		// source does not block every other field.
		p, err := b.candidate(cur.v, nil, true)
		if err != nil && p.holdsOld(fresh) {
			b.release(cur.v, p.next)
			p, err = b.candidate(cur.v, fresh, true)
		}
		switch {
		case err != nil:
			b.release(cur.v, p.next)
			b.tellRefused(p.refused, err)
			b.rejected = err
			b.stat.mu.Lock()
			b.stat.rejected++
			b.stat.mu.Unlock()
			for _, f := range b.fields {
				if !fresh[f] {
					continue
				}
				v := reflect.ValueOf(cur.v).Elem().FieldByIndex(f.plan.index).Interface()
				fe := &FieldError{Field: f.plan.path, Source: f.target.String(), Key: f.key, Err: err}
				if own := fieldErrorOf(err, f.plan.path); own != nil {
					fe = own // the field's own update= error names it already
				}
				notes = append(notes, b.event(f, Error, v, v, fe))
				errs = append(errs, fe)
			}
		case p.empty():
			b.commitSources(p) // accepted values that change nothing
			b.release(cur.v, p.next)
		default:
			b.commitSources(p)
			if len(b.desired) == 0 {
				b.rejected = nil
			}
			next, values = p.next, p.vals
			notes = append(notes, b.switchWatches(p)...)
		}
	}
	b.publish(next, values, notes, 0, now)
	if next != nil {
		b.release(next, cur.v)
	}
	return errors.Join(errs...)
}

// publish is the one place where a generation becomes visible, used by
// Bind (generation 1), apply (watch results and Reload) and Rollback. With
// next set it stores next as the following generation and keeps it in the
// history; with next nil (a rejected or empty batch) the generation stays.
// Then it stamps vals (the value updates the generation made) and notes
// (Error and Removed updates reported with it) with the generation and
// time, logs and counts them, and hands them to subscribers, in that order:
// a subscriber never hears of a snapshot it cannot Get yet. It runs on the
// applier (or in Bind before the applier starts) and returns the current
// generation.
func (b *Binding[T]) publish(next *T, vals, notes []event, rollbackOf uint64, now time.Time) uint64 {
	var gen uint64
	if cur := b.cur.Load(); cur != nil {
		gen = cur.gen
	}
	if next != nil {
		gen++
		b.cur.Store(&snapshot[T]{v: next, gen: gen})
		b.recordHistory(gen, now, next, vals, rollbackOf)
	}
	all := append(vals, notes...)
	for i := range all {
		all[i].u.Gen, all[i].u.Time = gen, now
		b.logUpdate(all[i].u)
	}
	b.stat.noteEvents(all, now)
	b.subs.publish(all, next != nil)
	return gen
}

// genPlan is a candidate generation.
type genPlan[T any] struct {
	next  *T
	vals  []event   // Updated, Added, and Removed by a condition
	src   []srcVal  // source values accepted by this generation, a field at most once
	start []*target // conditions that turned true
	stop  []*target // conditions that turned false

	refused *boundField // the field whose update= method refused its value
}

// srcVal is a source value a generation accepts for one field.
type srcVal struct {
	f *boundField
	v reflect.Value
}

func (p *genPlan[T]) empty() bool { return len(p.vals) == 0 && len(p.start) == 0 && len(p.stop) == 0 }

// holdsOld reports whether the plan uses a desired value older than this
// batch.
func (p *genPlan[T]) holdsOld(fresh map[*boundField]bool) bool {
	for _, s := range p.src {
		if !fresh[s.f] {
			return true
		}
	}
	return false
}

// commitSources records the plan's source values as published, and saves
// the results that produced them to the cache.
func (b *Binding[T]) commitSources(p genPlan[T]) {
	for _, s := range p.src {
		s.f.srcVal = s.v
		delete(b.desired, s.f)
	}
	b.flushCache()
}

// candidate builds the next snapshot from cur and the desired values (only
// those in only, if not nil). Fields are visited in dependency order: a
// field whose dependency changed runs its update= function again with its
// source value. Then when= conditions are evaluated until they settle;
// a condition that turns false resets its fields to zero. Finally Validate
// runs, if validate is set. The error says why the candidate is rejected.
func (b *Binding[T]) candidate(cur *T, only map[*boundField]bool, validate bool) (genPlan[T], error) {
	p := genPlan[T]{next: new(T)}
	if len(b.desired) > 0 {
		p.src = make([]srcVal, 0, len(b.desired))
	}
	*p.next = *cur
	rv := reflect.ValueOf(p.next).Elem()
	b.ownCandidate(rv)
	touched := map[*boundField]bool{}
	for _, f := range b.order {
		c, has := b.desired[f]
		if has && only != nil && !only[f] {
			has = false
		}
		if !has && !slices.ContainsFunc(f.deps, func(d *boundField) bool { return touched[d] }) {
			continue
		}
		val, kind := f.srcVal, Updated
		if has {
			val, kind = c.val, c.kind
			p.src = append(p.src, srcVal{f, val})
		}
		if !val.IsValid() {
			continue // a dependant whose own source has not provided a value
		}
		if err := b.applyField(&p, rv, f, val, kind, touched); err != nil {
			return p, err
		}
	}
	if err := b.settleConditions(&p, rv); err != nil {
		return p, err
	}
	if validate && !p.empty() {
		if err := b.validate(p.next); err != nil {
			return p, fmt.Errorf("%w: %w", ErrValidation, err)
		}
	}
	return p, nil
}

// applyField puts val, f's source value, into the candidate p (through f's
// update= method when it has one) and records the change as an update of
// kind. A field whose value changed joins touched, so that the fields that
// depend on it run again.
func (b *Binding[T]) applyField(p *genPlan[T], rv reflect.Value, f *boundField, val reflect.Value, kind Kind, touched map[*boundField]bool) error {
	fv := rv.FieldByIndex(f.plan.index)
	old := fv.Interface()
	if f.update.IsValid() {
		if err := b.callUpdate(f, p.next, deepCopy(val)); err != nil {
			p.refused = f
			return &FieldError{Field: f.plan.path, Source: f.target.String(), Key: f.key, Err: err}
		}
		if typeNeedsCopy(f.plan.typ) { // the method may keep what it set (a buffer it reuses)
			fv.Set(deepCopy(fv))
		}
	} else {
		if b.editors && typeNeedsCopy(f.plan.typ) {
			// Validate edits its candidate: not the desired value, kept
			// for a retry, nor the default=, which every generation that
			// takes it would share.
			val = deepCopy(val)
		}
		fv.Set(val)
	}
	nv := fv.Interface()
	if kind == Updated && sameValue(old, nv) {
		return nil
	}
	touched[f] = true
	p.vals = append(p.vals, b.event(f, kind, old, nv, nil))
	return nil
}

// settleConditions evaluates the when= conditions on the candidate until
// none changes (at most once per conditional target), planning watch starts
// and stops and zeroing the fields of targets that turn off. A zeroed field
// is a changed dependency: once the conditions hold still, the fields that
// depend on it run their update= method again, as they do when its source
// changes, and the conditions are evaluated again on the result. Waiting
// for the conditions first leaves alone a dependant that the zeroing turns
// off too, whatever the order of the fields. The error is such a method's
// refusal.
func (b *Binding[T]) settleConditions(p *genPlan[T], rv reflect.Value) error {
	if len(b.conds) == 0 {
		return nil
	}
	planned := map[*target]bool{}
	zeroed := map[*boundField]bool{} // whose dependants have not run again yet
	// Each pass either changes a condition or re-runs dependants.
	for range 2 * (len(b.conds) + 1) {
		changed := false
		for _, t := range b.conds {
			on, ok := planned[t]
			if !ok {
				on = t.active.Load()
			}
			want, err := b.evalCondition(t, p.next)
			if err != nil {
				if b.hasSecret { // the expression's error can quote the values it used
					b.log.Warn("livebind: when= condition failed; treated as false (details hidden: the configuration holds secrets)", "field", t.fields[0].plan.path)
				} else {
					b.log.Warn("livebind: when= condition failed; treated as false", "field", t.fields[0].plan.path, "error", err)
				}
			}
			if want == on {
				continue
			}
			changed = true
			planned[t] = want
			if want {
				p.start = append(p.start, t)
				continue
			}
			p.stop = append(p.stop, t)
			for _, f := range t.fields {
				fv := rv.FieldByIndex(f.plan.index)
				old := fv.Interface()
				fv.SetZero()
				p.src = slices.DeleteFunc(p.src, func(s srcVal) bool { return s.f == f })
				if !reflect.DeepEqual(old, fv.Interface()) {
					zeroed[f] = true
					p.vals = append(p.vals, b.event(f, Removed, old, fv.Interface(), nil))
				}
			}
		}
		if changed {
			continue
		}
		if len(zeroed) == 0 {
			return nil
		}
		if err := b.rerunDependants(p, rv, zeroed, planned); err != nil {
			return err
		}
		zeroed = map[*boundField]bool{}
	}
	if len(zeroed) > 0 { // the conditions did not settle: dependants still follow
		return b.rerunDependants(p, rv, zeroed, planned)
	}
	return nil
}

// rerunDependants applies again, in dependency order, every field that
// depends on a touched field (and, through touched, on those it changes),
// with the source value the candidate holds for it. Fields whose condition
// turned off in this candidate, and fields with no source value yet, are
// left alone. A field that changed earlier in this candidate keeps one
// update, from its published value to its final one.
func (b *Binding[T]) rerunDependants(p *genPlan[T], rv reflect.Value, touched map[*boundField]bool, planned map[*target]bool) error {
	for _, f := range b.order {
		if on, ok := planned[f.target]; ok && !on {
			continue
		}
		if !slices.ContainsFunc(f.deps, func(d *boundField) bool { return touched[d] }) {
			continue
		}
		val := f.srcVal
		if i := slices.IndexFunc(p.src, func(s srcVal) bool { return s.f == f }); i >= 0 {
			val = p.src[i].v
		}
		if !val.IsValid() {
			continue
		}
		first := slices.IndexFunc(p.vals, func(ev event) bool { return ev.f == f && ev.u.Kind != Removed })
		n := len(p.vals)
		if err := b.applyField(p, rv, f, val, Updated, touched); err != nil {
			return err
		}
		if first >= 0 && len(p.vals) > n {
			b.foldEvents(p, first, n)
		}
	}
	return nil
}

// foldEvents merges p.vals[later], a field's second update in one
// candidate, into p.vals[first], its first: subscribers hear of one change
// from the published value to the final one (none if they are the same),
// never of a value that no snapshot held.
func (b *Binding[T]) foldEvents(p *genPlan[T], first, later int) {
	a, z := p.vals[first], p.vals[later]
	merged := b.event(a.f, a.u.Kind, a.old, z.new, nil)
	merged.u.Source = a.u.Source // a rollback's names the rollback
	p.vals = slices.Delete(p.vals, later, later+1)
	p.vals = slices.Delete(p.vals, first, first+1)
	if merged.u.Kind == Updated && sameValue(a.old, z.new) {
		return
	}
	p.vals = append(p.vals, merged)
}

// switchWatches starts and stops the watches of targets whose condition
// changed in a published generation. A watch that fails to start is
// reported as an Error update.
func (b *Binding[T]) switchWatches(p genPlan[T]) []event {
	var notes []event
	for _, t := range p.stop {
		if !slices.Contains(p.start, t) {
			b.unwatch(t)
		}
	}
	for _, t := range p.start {
		if slices.Contains(p.stop, t) {
			continue
		}
		t.active.Store(true)
		if err := b.watch(t, sources.Result{Missing: true}); err != nil {
			// Recorded as the target's failure, so Status, Ready and Reload
			// report it; Reload retries the watch.
			r := sources.Result{Err: fmt.Errorf("cannot watch: %w", err)}
			for _, c := range t.observe(r) {
				v := reflect.ValueOf(p.next).Elem().FieldByIndex(c.f.plan.index).Interface()
				notes = append(notes, b.event(c.f, Error, v, v, c.err))
			}
			b.stat.noteResult(t, r, time.Now())
		}
	}
	return notes
}

// rewatch retries the watches of active targets that failed to start, and
// reports those that still cannot start as failing.
func (b *Binding[T]) rewatch(now time.Time) []change {
	var changes []change
	for _, t := range b.targets {
		if !t.active.Load() || t.stop != nil {
			continue
		}
		if err := b.watch(t, sources.Result{Missing: true}); err != nil {
			r := sources.Result{Err: fmt.Errorf("cannot watch: %w", err)}
			t.failData = nil
			changes = append(changes, t.observe(r)...)
			b.stat.noteResult(t, r, now)
		}
	}
	return changes
}

// unwatch stops t's watch and forgets what it observed, for a condition that
// turned false: when it turns true again, its fields are Added afresh.
func (b *Binding[T]) unwatch(t *target) {
	t.active.Store(false)
	if t.stop != nil {
		t.stop()
		t.stop = nil
	}
	if t.gate != nil {
		t.gate.Stop()
		t.gate = nil
	}
	b.pmu.Lock()
	delete(b.pending, t)
	b.pmu.Unlock()
	t.present, t.lastData, t.failing, t.failData, t.cached = false, nil, nil, nil, nil
	for _, f := range t.fields {
		f.present = false
		f.srcVal = reflect.Value{}
		delete(b.desired, f)
	}
	b.stat.reset(t)
}

// validate runs the struct's Validate method, if any, turning a panic into
// an error: user code must not crash the applier.
func (b *Binding[T]) validate(c *T) (err error) {
	v, ok := any(c).(validator)
	if !ok {
		return nil
	}
	prev := b.work
	b.work.sentinel, b.work.what = ErrValidation, "the Validate method"
	defer func() {
		if p := recover(); p != nil {
			b.work = prev
			if b.hasSecret {
				err = errors.New("the Validate method panicked (value hidden: the configuration holds secrets)")
			} else {
				err = fmt.Errorf("the Validate method panicked: %v", p)
			}
		}
	}()
	err = v.Validate()
	b.work = prev // not on a runtime.Goexit, whose report says it was Validate
	return b.scrubSecrets(c, err)
}

// event builds the update for f with raw values kept for typed watchers.
func (b *Binding[T]) event(f *boundField, kind Kind, oldV, newV any, err error) event {
	u := Update{Kind: kind, Field: f.plan.path, Source: f.target.String(), Old: oldV, New: newV, Err: err, Secret: f.secret}
	if f.secret {
		u.Old, u.New = redacted, redacted
	}
	return event{u: u, f: f, old: oldV, new: newV}
}

func (b *Binding[T]) logUpdate(u Update) {
	if u.Kind == Error {
		b.log.Warn("livebind: update failed", "update", u)
		return
	}
	// Boxing u for slog allocates: ask first, as apply runs on every change.
	if b.log.Enabled(context.Background(), slog.LevelDebug) {
		b.log.Debug("livebind: update applied", "update", u)
	}
}

// Get returns the current snapshot. It never blocks and never allocates. The
// snapshot is shared and immutable: read it, do not modify it. Two calls may
// return different generations; keep one pointer to read fields consistently.
func (b *Binding[T]) Get() *T { return b.cur.Load().v }

// Snapshot returns the current snapshot together with its generation
// number (1 after Bind), read atomically: the pair always belongs together.
// Like [Binding.Get] it never blocks; the snapshot is shared and immutable.
// Pass the generation to [From] to subscribe to every later change.
func (b *Binding[T]) Snapshot() (*T, uint64) {
	s := b.cur.Load()
	return s.v, s.gen
}

// Done returns a channel that is closed when the Binding closes (by Close
// or by the end of Bind's context), like [context.Context.Done]. A consumer
// that forwards updates elsewhere (a channel, a stream to a browser) uses it
// to learn that no more will come.
func (b *Binding[T]) Done() <-chan struct{} { return b.ctx.Done() }

// Reload reads every source again now and applies what changed as one
// generation, bypassing debounce and throttle. It then returns nil if every
// source is healthy and every accepted value is published; otherwise the
// current problems (also delivered as Error updates), joined. It returns
// ctx's error if ctx ends first, and [ErrClosed] after Close.
//
// Reload may be called from a callback. Called from Validate or an update=
// method (which run on the goroutine that applies reloads) it fails at once
// with an error wrapping [ErrReentrant].
func (b *Binding[T]) Reload(ctx context.Context) error {
	if b.ctx.Err() != nil {
		return ErrClosed
	}
	if b.onApplier() {
		return fmt.Errorf("livebind: Reload called from Validate or an update= method: %w", ErrReentrant)
	}
	// Close ends a Reload under way, so a callback's Reload does not keep
	// Close waiting for a slow source.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(b.ctx, cancel)()

	var active []*target
	for _, t := range b.targets {
		if t.active.Load() {
			active = append(active, t)
		}
	}
	req := reloadRequest{targets: active, seqs: make([]uint64, len(active)), done: make(chan error, 1)}
	for i, t := range active {
		req.seqs[i] = t.seq.Load()
	}
	req.results = readAll(ctx, active)
	if b.ctx.Err() != nil {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return ask(ctx, b.ctx, b.reloads, req, req.done)
}

// ask hands req to the applier through ch and waits for its answer on done,
// giving up when ctx ends or the Binding (life) closes.
func ask[R any](ctx, life context.Context, ch chan<- R, req R, done <-chan error) error {
	select {
	case ch <- req:
	case <-life.Done():
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// applierSelf tells the applier goroutine from others, so that Reload,
// Rollback and Close called from Validate or an update= method are refused
// (ErrReentrant) instead of waiting for themselves.
type applierSelf struct {
	gid  atomic.Uint64 // the applier goroutine's id
	busy atomic.Bool   // the applier is handling something (so a caller may be running on it)
}

// onApplier reports whether the caller runs on the applier goroutine, in
// Validate or an update= method. It asks for the goroutine's id only while
// the applier is busy.
func (b *Binding[T]) onApplier() bool {
	if !b.self.busy.Load() {
		return false
	}
	return goid() == b.self.gid.Load()
}

// Close stops every watch and goroutine of the binding and waits for them;
// undelivered updates are discarded and the [Binding.Updates] channel is
// closed. Get keeps returning the last snapshot. Close is idempotent and
// safe to call concurrently; every call returns the first call's result.
//
// Close waits for running callbacks, and for when= evaluations that the
// applier gave up on and that still run, at most the time set by
// [WithCloseTimeout] ([DefaultCloseTimeout]); those still running then
// are abandoned (logged at Error level, reported by an error wrapping
// [ErrCloseTimeout]). Close may be called from a callback: it then returns
// once everything else has stopped, and that callback's goroutine ends when
// the callback returns (if another Close is under way, it returns at once).
// Called from Validate or an update= method it fails at once with an error
// wrapping [ErrReentrant] and closes nothing: cancel the Bind context there.
func (b *Binding[T]) Close() error {
	if b.onApplier() {
		return fmt.Errorf("livebind: Close called from Validate or an update= method: %w", ErrReentrant)
	}
	self := goid()
	if !b.closing.CompareAndSwap(false, true) {
		if b.subs.delivering(self) {
			return nil // the Close under way waits for this callback to return
		}
		<-b.closed
		return b.closeErr
	}
	b.closeMu.Lock()
	stop := b.stopCtx
	b.closeMu.Unlock()
	if stop != nil {
		stop()
	}
	b.closeErr = b.shutdown(self, nil)
	close(b.closed)
	return b.closeErr
}

// shutdown stops everything started so far, in dependency order. self is
// the calling goroutine's id when it may be a delivery goroutine (Close from
// a callback), whose end shutdown does not wait for. It waits for running
// callbacks and abandoned when= evaluations until the close timeout, or
// until giveUp is closed (Bind's context, when Bind fails: it was told to
// stop waiting), and reports those still running then.
func (b *Binding[T]) shutdown(self uint64, giveUp <-chan struct{}) error {
	start := time.Now()
	deadline := start.Add(b.opts.closeTimeout)
	b.cancel()
	b.wg.Wait()              // the applier starts and stops watches: let it finish first
	b.stopEvaluator()        // idle now: only the applier (or Bind) evaluates conditions
	subs := b.subs.stopAll() // stopped before the drivers so they end meanwhile
	for _, t := range b.targets {
		if t.stop != nil {
			t.stop()
		}
		if t.gate != nil {
			t.gate.Stop()
		}
	}
	var errs []error
	for name, d := range b.drivers {
		if err := d.Close(); err != nil {
			errs = append(errs, fmt.Errorf("livebind: close %s source: %w", name, err))
		}
	}
	if n := b.subs.wait(subs, self, deadline); n > 0 {
		b.log.Error("livebind: Close abandoned callbacks that did not return in time", "callbacks", n, "waited", b.opts.closeTimeout)
		errs = append(errs, fmt.Errorf("livebind: close: %d callbacks still running after %v, abandoned: %w", n, b.opts.closeTimeout, ErrCloseTimeout))
	}
	if err := b.waitAbandoned(start, deadline, giveUp); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// copyConfig sets dst to a copy of src under the rule for the two kinds of
// fields: tagged fields hold values the library built, and are deep copied,
// so no snapshot shares a slice, map or pointer with *dst or another
// snapshot; untagged fields belong to the caller (a client, a logger, a
// parent pointer) and are copied as they are, shallowly: the library never
// reads through them, so it cannot race with their owner's goroutines or
// loop on a cycle (a when= expression that would is refused at Bind:
// untaggedAliases).
func (b *Binding[T]) copyConfig(dst, src reflect.Value) {
	dst.Set(src)
	for _, idx := range b.copyIdx {
		dst.FieldByIndex(idx).Set(deepCopy(src.FieldByIndex(idx)))
	}
}

// ownCandidate gives the candidate rv its own copies of the tagged fields
// that can alias when user code (Validate, update= methods) receives it:
// one that edits a map or slice in place must change neither the
// published snapshot nor the history, even when the candidate is rejected.
func (b *Binding[T]) ownCandidate(rv reflect.Value) {
	if !b.editors {
		return
	}
	for _, idx := range b.copyIdx {
		fv := rv.FieldByIndex(idx)
		fv.Set(deepCopy(fv))
	}
}

// ownCopy returns v, deep copied if it can alias what it came from.
func ownCopy(v any) any {
	if v == nil || !typeNeedsCopy(reflect.TypeOf(v)) {
		return v
	}
	return deepCopy(reflect.ValueOf(v)).Interface()
}

var needsCopyCache sync.Map // reflect.Type -> bool

// typeNeedsCopy reports whether a value of type t can share memory with a
// copy made by assignment: it holds a slice, map, pointer or interface.
// Scalars and strings answer without a lookup.
func typeNeedsCopy(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return false
	case reflect.Struct, reflect.Array:
		if v, ok := needsCopyCache.Load(t); ok {
			return v.(bool)
		}
		v := needsCopyWalk(t, map[reflect.Type]bool{})
		needsCopyCache.Store(t, v)
		return v
	}
	return true
}

func needsCopyWalk(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false // a recursive struct reaches itself through a reference: counted there
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Struct:
		if clonerOf(t) != nil {
			return true
		}
		for i := range t.NumField() {
			// deepCopy copies unexported fields as they are, so only
			// exported ones decide (time.Time needs no copy).
			if t.Field(i).IsExported() && needsCopyWalk(t.Field(i).Type, seen) {
				return true
			}
		}
		return false
	case reflect.Array:
		return t.Len() > 0 && needsCopyWalk(t.Elem(), seen)
	}
	return typeNeedsCopy(t)
}

// deepCopy returns a copy of v that shares no maps, slices or pointers with
// it. Shared and cyclic references are copied once and stay shared and
// cyclic in the copy, so a ring or a parent link cannot recurse forever.
// Unexported struct fields are copied as they are, so a type that keeps
// references there is copied by its own means (see [clonerOf]) when it has
// some.
func deepCopy(v reflect.Value) reflect.Value {
	var c copier
	return c.copy(v)
}

// copier remembers what it copied, by address, type and length.
type copier struct {
	seen map[copyKey]reflect.Value
}

type copyKey struct {
	ptr uintptr
	typ reflect.Type
	n   int
}

func (c *copier) remember(k copyKey, v reflect.Value) {
	if c.seen == nil {
		c.seen = map[copyKey]reflect.Value{}
	}
	c.seen[k] = v
}

func (c *copier) copy(v reflect.Value) reflect.Value {
	kind := v.Kind()
	var k copyKey // what a pointer, slice or map refers to, to copy it once
	switch kind {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if v.IsNil() {
			return v
		}
		k = copyKey{ptr: v.Pointer(), typ: v.Type()}
		if kind == reflect.Slice {
			k.n = v.Len() // two slices of one array that differ in length are copied apart
		}
		if done, ok := c.seen[k]; ok {
			return done
		}
	}
	if kind == reflect.Pointer || kind == reflect.Struct {
		if clone := clonerOf(v.Type()); clone != nil {
			if cv, ok := callClone(clone, v); ok {
				if kind == reflect.Pointer {
					c.remember(k, cv)
				}
				return cv
			}
		}
	}
	switch kind {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		c.remember(k, p)
		p.Elem().Set(c.copy(v.Elem()))
		return p
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		if !typeNeedsCopy(v.Type().Elem()) { // holds no reference: no cycle can pass through it
			reflect.Copy(s, v)
			return s
		}
		c.remember(k, s)
		for i := range v.Len() {
			s.Index(i).Set(c.copy(v.Index(i)))
		}
		return s
	case reflect.Map:
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		if typeNeedsCopy(v.Type().Elem()) {
			c.remember(k, m)
		}
		iter := v.MapRange()
		for iter.Next() {
			m.SetMapIndex(iter.Key(), c.copy(iter.Value())) // keys are compared by value: kept
		}
		return m
	case reflect.Array:
		if !typeNeedsCopy(v.Type()) {
			return v
		}
		a := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			a.Index(i).Set(c.copy(v.Index(i)))
		}
		return a
	case reflect.Struct:
		if !typeNeedsCopy(v.Type()) {
			return v
		}
		s := reflect.New(v.Type()).Elem()
		s.Set(v)
		for i := range v.NumField() {
			if s.Field(i).CanSet() {
				s.Field(i).Set(c.copy(v.Field(i)))
			}
		}
		return s
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		e := c.copy(v.Elem())
		i := reflect.New(v.Type()).Elem()
		i.Set(e)
		return i
	}
	return v
}
