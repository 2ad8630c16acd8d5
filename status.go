package livebind

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/livebind/livebind/sources"
)

// Status is a point-in-time report of a Binding's health, safe to log and
// to serve: it holds no configuration values, and error texts are redacted
// like every error livebind produces.
type Status struct {
	// Generation is the current snapshot's number.
	Generation uint64
	// Sources reports every watched location.
	Sources []SourceStatus
	// Fields reports every tagged field.
	Fields []FieldStatus
	// Rejected counts generations rejected by Validate or an update= function.
	Rejected uint64
	// Reloads counts calls of Reload that reached the applier.
	Reloads uint64
	// CallbackPanics counts panics recovered in subscribers' callbacks
	// (Subscribe, WatchField). Each is logged at Error level with its stack
	// and reported to the other subscribers as an Error update wrapping
	// [ErrCallbackPanic].
	CallbackPanics uint64
	// Closed reports that the Binding was closed.
	Closed bool
}

// SourceStatus reports one watched location (several fields may share it).
type SourceStatus struct {
	// Source is scheme:location, with credentials redacted.
	Source string
	// Fields lists the paths of the fields reading this source.
	Fields []string
	// Active is false while the source's when= condition is false (it is
	// then not watched at all), and for an optional field whose location is
	// empty after ${VAR} expansion (never watched; see FieldStatus.State).
	Active bool
	// Healthy is false while the last observation failed.
	Healthy bool
	// Present is false while the location does not exist.
	Present bool
	// LastSuccess is when the source last delivered a good observation
	// (data, or a clean "missing"). Event-driven sources deliver only on
	// change, so an old LastSuccess is not by itself a problem.
	LastSuccess time.Time
	// FailingSince is when the current run of failures began; zero when
	// healthy. time.Since(FailingSince) is how stale the field values are.
	FailingSince time.Time
	// LastError is the last failure's message; LastErrorTime when it happened.
	LastError     string
	LastErrorTime time.Time
	// Version is the remote version of the last good observation: an ETag,
	// a Consul index, a Vault version or lease, a content hash. Empty for
	// sources that hold a secret (a hash of a short secret can be reversed).
	Version string
	// Observations and Errors count what the source delivered.
	Observations, Errors uint64
	// FromCache reports that the values come from WithCache's copy because
	// the source failed at Bind; it clears when the source answers.
	FromCache bool
	// CacheError says why WithCache's entry for this source was refused at
	// Bind (not owned by this user, writable by others, changed, or copied
	// from another source's entry); empty if none was. A refused entry is
	// never used.
	CacheError string
	// NextPoll is when a polling source (env, http, vault) observes next;
	// zero for event-driven sources (file, Consul blocking queries) and
	// inactive ones.
	NextPoll time.Time
	// LeaseExpires is when the lease behind the value (Vault's dynamic
	// credentials) ends unless renewed; LeaseRenewal is when the source
	// renews it next, zero when it will not renew it again (new credentials
	// are read before LeaseExpires, at NextPoll). Both are zero without a
	// lease.
	LeaseExpires, LeaseRenewal time.Time
}

// FieldStatus reports one tagged field.
type FieldStatus struct {
	// Field is the field's path; Source its source as in SourceStatus.
	Field, Source string
	// Secret reports a secret field.
	Secret bool
	// Required reports a required field; Optional a field tagged optional.
	Required, Optional bool
	// State says where the field's value comes from now:
	//
	//	"present"            the source provides it
	//	"absent"             the source or key is missing: the field holds its
	//	                     default=, else the value it had (Removed)
	//	"absent (optional)"  the same for an optional field, as expected; the
	//	                     location is still watched and its appearance is
	//	                     an Added update
	//	"not watched (optional): <why>"
	//	                     an optional field whose location is empty after
	//	                     ${VAR} expansion: nothing is read or watched, the
	//	                     field keeps its default for the Binding's life
	//	"failing"            the source fails: the field keeps its last good value
	//	"inactive"           its when= condition is false (the field is zero)
	State string
	// Updates counts published changes of the field's value (Updated, Added,
	// and Removed by a condition); Errors counts Error updates.
	Updates, Errors uint64
	// LastUpdate is when the field's value last changed.
	LastUpdate time.Time
}

// targetStat and fieldStat are the applier's running figures; guarded by
// statusBook.mu, which is held only to update or copy them.
type targetStat struct {
	present, failed, cache    bool
	lastOK, failing, lastErrT time.Time
	lastErr, version          string
	cacheErr                  string
	observations, errors      uint64
}

type fieldStat struct {
	updates, errors uint64
	lastUpdate      time.Time
	present         bool // the source provides the field's value
}

type statusBook struct {
	mu       sync.Mutex
	targets  map[*target]*targetStat
	fields   map[*boundField]*fieldStat
	rejected uint64
	reloads  uint64
}

func (s *statusBook) init(targets []*target, fields []*boundField) {
	s.targets = make(map[*target]*targetStat, len(targets))
	for _, t := range targets {
		s.targets[t] = &targetStat{}
	}
	s.fields = make(map[*boundField]*fieldStat, len(fields))
	for _, f := range fields {
		s.fields[f] = &fieldStat{}
	}
}

// noteResult records what observing r did to t.
func (s *statusBook) noteResult(t *target, r sources.Result, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.targets[t]
	st.observations++
	st.present = t.present
	for _, f := range t.fields {
		s.fields[f].present = f.present
	}
	if t.failing != nil {
		st.errors++
		if !st.failed {
			st.failed, st.failing = true, now
		}
		st.lastErr, st.lastErrT = t.failing.Error(), now
		return
	}
	st.failed, st.failing, st.lastOK, st.cache = false, time.Time{}, now, false
	if !r.Missing && !t.spec.Secret { // a content hash of a secret can be brute-forced
		st.version = r.Version
	}
}

// reset forgets t's health, for a target whose condition turned false.
func (s *statusBook) reset(t *target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.targets[t] = targetStat{observations: s.targets[t].observations, errors: s.targets[t].errors}
	for _, f := range t.fields {
		s.fields[f].present = false
	}
}

// noteCached marks t as serving its cached value.
func (s *statusBook) noteCached(t *target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.targets[t].cache = true
}

// noteCacheError records why t's cache entry was refused.
func (s *statusBook) noteCacheError(t *target, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.targets[t].cacheErr = err.Error()
}

// noteEvents counts published and error updates per field.
func (s *statusBook) noteEvents(evs []event, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range evs {
		fs := s.fields[ev.f]
		if fs == nil {
			continue
		}
		switch ev.u.Kind {
		case Error:
			fs.errors++
		case Updated, Added:
			fs.updates++
			fs.lastUpdate = now
		case Removed:
			if !deepEqual(ev.old, ev.new) {
				fs.updates++
				fs.lastUpdate = now
			}
		}
	}
}

// Status reports the health of every source and field. It copies counters
// under a lock the applier holds only to update them, never while it
// decodes or validates.
func (b *Binding[T]) Status() Status {
	st := Status{Generation: b.cur.Load().gen, Closed: b.ctx.Err() != nil, CallbackPanics: b.subs.panics.Load()}
	next := make(map[*target]time.Time) // asked before taking the lock: drivers lock too
	leases := make(map[*target][2]time.Time)
	for _, t := range b.targets {
		if np, ok := t.driver.(sources.NextPoller); ok && t.active.Load() {
			next[t] = np.NextPoll(&t.spec)
		}
		if lr, ok := t.driver.(sources.LeaseReporter); ok && t.active.Load() {
			exp, ren := lr.Lease(&t.spec)
			leases[t] = [2]time.Time{exp, ren}
		}
	}
	b.stat.mu.Lock()
	defer b.stat.mu.Unlock()
	st.Rejected, st.Reloads = b.stat.rejected, b.stat.reloads
	st.Sources = make([]SourceStatus, 0, len(b.targets))
	for _, t := range b.targets {
		ts := b.stat.targets[t]
		ss := SourceStatus{
			Source: t.String(), Active: t.active.Load(), Healthy: !ts.failed, Present: ts.present,
			LastSuccess: ts.lastOK, FailingSince: ts.failing, LastError: ts.lastErr, LastErrorTime: ts.lastErrT,
			Version: ts.version, Observations: ts.observations, Errors: ts.errors, FromCache: ts.cache,
			CacheError: ts.cacheErr,
		}
		for _, f := range t.fields {
			ss.Fields = append(ss.Fields, f.plan.path)
		}
		ss.NextPoll = next[t]
		ss.LeaseExpires, ss.LeaseRenewal = leases[t][0], leases[t][1]
		st.Sources = append(st.Sources, ss)
	}
	st.Fields = make([]FieldStatus, 0, len(b.fields))
	for _, f := range b.fields {
		fs := b.stat.fields[f]
		st.Fields = append(st.Fields, FieldStatus{
			Field: f.plan.path, Source: f.target.String(), Secret: f.secret, Required: f.required,
			Optional: f.optional, State: fieldState(f, b.stat.targets[f.target], fs),
			Updates: fs.updates, Errors: fs.errors, LastUpdate: fs.lastUpdate,
		})
	}
	return st
}

// fieldState is FieldStatus.State; the caller holds the status lock.
func fieldState(f *boundField, ts *targetStat, fs *fieldStat) string {
	switch {
	case f.target.unwatched != "":
		return "not watched (optional): " + f.target.unwatched
	case !f.target.active.Load():
		return "inactive"
	case ts.failed:
		return "failing"
	case fs.present:
		return "present"
	case f.optional:
		return "absent (optional)"
	}
	return "absent"
}

// Ready reports whether the Binding can serve: it is not closed, and no
// source of a required field has been failing for longer than maxFailing
// (every required field loaded at Bind, or Bind failed). It returns nil when
// ready, else an error wrapping [ErrNotReady] that names the sources.
func (b *Binding[T]) Ready(maxFailing time.Duration) error {
	if b.ctx.Err() != nil {
		return fmt.Errorf("livebind: %w: %w", ErrNotReady, ErrClosed)
	}
	now := time.Now()
	var errs []error
	b.stat.mu.Lock()
	defer b.stat.mu.Unlock()
	for _, t := range b.targets {
		ts := b.stat.targets[t]
		if !t.active.Load() || !ts.failed || now.Sub(ts.failing) <= maxFailing {
			continue
		}
		for _, f := range t.fields {
			if f.required {
				errs = append(errs, fmt.Errorf("livebind: %w: required field %s: %s failing for %v: %s",
					ErrNotReady, f.plan.path, t, now.Sub(ts.failing).Round(time.Millisecond), ts.lastErr))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// HistoryEntry is one published generation kept by [WithHistory].
type HistoryEntry[T any] struct {
	// Gen and Time identify the generation.
	Gen  uint64
	Time time.Time
	// Value is a copy of the snapshot as published: its tagged fields share
	// nothing with the snapshot or the history (untagged fields are copied
	// as they are, like every snapshot's). It holds secret fields' real
	// values: redact before showing it.
	Value *T
	// Changed lists the fields whose value this generation changed; the
	// slice is the caller's.
	Changed []string
	// RollbackOf is the generation this one restored, or 0.
	RollbackOf uint64
}

// history is a bounded ring of generations.
type history[T any] struct {
	mu      sync.Mutex
	max     int
	entries []HistoryEntry[T]
}

func (h *history[T]) add(e HistoryEntry[T]) {
	if h.max <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.entries) == h.max {
		copy(h.entries, h.entries[1:])
		h.entries = h.entries[:h.max-1]
	}
	h.entries = append(h.entries, e)
}

func (h *history[T]) find(gen uint64) (HistoryEntry[T], bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.entries {
		if e.Gen == gen {
			return e, true
		}
	}
	return HistoryEntry[T]{}, false
}

// History returns the generations kept by [WithHistory], oldest first, the
// current one last. Without WithHistory it returns nil. The entries are
// copies: changing them changes neither the history nor any snapshot.
func (b *Binding[T]) History() []HistoryEntry[T] {
	b.hist.mu.Lock()
	entries := append([]HistoryEntry[T](nil), b.hist.entries...)
	b.hist.mu.Unlock()
	if len(entries) == 0 {
		return nil
	}
	for i := range entries { // copied outside the lock: the ring's entries are immutable
		e := &entries[i]
		e.Changed = slices.Clone(e.Changed)
		v := new(T)
		b.copyConfig(reflect.ValueOf(v).Elem(), reflect.ValueOf(e.Value).Elem())
		e.Value = v
	}
	return entries
}

// rollbackRequest asks the applier to republish a kept generation.
type rollbackRequest struct {
	gen  uint64
	done chan error
}

// Rollback publishes the values of generation gen, kept by [WithHistory],
// as a new generation; Validate and when= conditions apply as to any
// generation. Every field whose value differs gets an Updated update whose
// Source is "rollback to gen N".
//
// The restored values stay until the next real change of each field's
// source: a source that reports new data (a file edited, a key put) replaces
// its fields' rolled-back values as usual, while sources that do not change
// (and Reload, which finds the same data) leave them in place. Values that
// Validate had held back are dropped.
//
// Called from Validate or an update= method, Rollback fails at once with an
// error wrapping [ErrReentrant].
func (b *Binding[T]) Rollback(ctx context.Context, gen uint64) error {
	if b.ctx.Err() != nil {
		return ErrClosed
	}
	if b.onApplier() {
		return fmt.Errorf("livebind: Rollback called from Validate or an update= method: %w", ErrReentrant)
	}
	req := rollbackRequest{gen: gen, done: make(chan error, 1)}
	return ask(ctx, b.ctx, b.rollbacks, req, req.done)
}

// rollback runs on the applier.
func (b *Binding[T]) rollback(gen uint64) error {
	e, ok := b.hist.find(gen)
	if !ok {
		return fmt.Errorf("livebind: rollback to gen %d: %w", gen, ErrNoGeneration)
	}
	cur := b.cur.Load()
	p := genPlan[T]{next: new(T)}
	*p.next = *cur.v
	rv := reflect.ValueOf(p.next).Elem()
	from := reflect.ValueOf(e.Value).Elem()
	for _, f := range b.fields {
		fv := rv.FieldByIndex(f.plan.index)
		old, restored := fv.Interface(), from.FieldByIndex(f.plan.index)
		delete(b.desired, f)
		if deepEqual(old, restored.Interface()) {
			continue
		}
		fv.Set(restored)
		ev := b.event(f, Updated, old, restored.Interface(), nil)
		ev.u.Source = fmt.Sprintf("rollback to gen %d", gen)
		p.vals = append(p.vals, ev)
	}
	b.ownCandidate(rv) // the restored values are the kept generation's
	b.rejected = nil
	n := workNote{sentinel: ErrValidation, what: "a method of the configuration"}
	for _, ev := range p.vals {
		n.fields = append(n.fields, ev.f)
	}
	b.doing(n)
	if err := b.settleConditions(&p, rv); err != nil {
		b.release(cur.v, p.next)
		return fmt.Errorf("livebind: rollback to gen %d: %w", gen, err)
	}
	if p.empty() {
		return nil
	}
	if err := b.validate(p.next); err != nil {
		b.release(cur.v, p.next)
		return fmt.Errorf("livebind: rollback to gen %d: %w: %w", gen, ErrValidation, err)
	}
	notes := b.switchWatches(p)
	b.publish(p.next, p.vals, notes, gen, time.Now())
	b.release(p.next, cur.v)
	return nil
}

// recordHistory keeps a published generation.
func (b *Binding[T]) recordHistory(gen uint64, now time.Time, v *T, vals []event, rollbackOf uint64) {
	if b.hist.max <= 0 {
		return
	}
	changed := make([]string, 0, len(vals))
	for _, ev := range vals {
		changed = append(changed, ev.u.Field)
	}
	b.hist.add(HistoryEntry[T]{Gen: gen, Time: now, Value: v, Changed: changed, RollbackOf: rollbackOf})
}
