package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/livebind/livebind/sources"
)

// watchStart maps the revision a watch should start from to the one it
// does; tests replace it to start a watch on a compacted revision.
var watchStart atomic.Pointer[func(rev int64) int64]

func startRev(rev int64) int64 {
	if f := watchStart.Load(); f != nil {
		return (*f)(rev)
	}
	return rev
}

// watch is the loop of one key or prefix, shared by its fields.
type watch = sources.Watch[watchKey, struct{}]

// state is what a watch knows of its key or prefix: the value of each key
// present, as of revision rev. It is built from a Get and kept current by
// the watch's events, so a change costs no request.
//
// A state never holds more than maxbytes= for long: once the sum of its
// values goes over it (a prefix read that stopped there, a Get of a key too
// large, or events that took it over) the values are dropped and the state
// stands for the ErrTooLarge error. A key's next event tells all there is
// to know of it, so the state starts afresh from it; a prefix's does not,
// so the next change under the prefix reads it again. A watch thus holds
// at most maxbytes= plus one page of a read or one batch of events.
type state struct {
	k    watchKey
	vals map[string][]byte // nil once over
	size int               // sum of len(vals[*]); once over, the sum that went over maxbytes=
	rev  int64
	over bool // the sum went over maxbytes=: the values were dropped
	// stopped reports a paged read that stopped once over maxbytes=, so
	// that size is only what it read.
	stopped bool
	// refused reports a read whose answer gRPC refused unread, being over
	// maxbytes=: size does not count it.
	refused bool
}

func newState(k watchKey) *state { return &state{k: k, vals: map[string][]byte{}} }

func (s *state) put(key string, value []byte, rev int64) {
	s.size += len(value) - len(s.vals[key])
	s.vals[key] = value
	s.rev = max(s.rev, rev)
}

func (s *state) del(key string, rev int64) {
	s.size -= len(s.vals[key])
	delete(s.vals, key)
	s.rev = max(s.rev, rev)
}

// refuse drops the values of a read whose answer gRPC refused unread (see
// boundedGet): they were over maxbytes=. For a prefix, the values of the
// pages read before are dropped too, and size is what they held.
func (s *state) refuse() {
	s.vals, s.over, s.stopped, s.refused = nil, true, s.k.prefix, true
}

// add puts the answer of one read (see boundedGet) into s, or makes s
// stand for its refusal, and reports whether it was refused.
func (s *state) add(resp *clientv3.GetResponse, err error) (refused bool, _ error) {
	if errors.Is(err, errRefused) {
		s.refuse()
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, kv := range resp.Kvs {
		s.put(string(kv.Key), kv.Value, kv.ModRevision)
	}
	return false, nil
}

// limit drops the values once their sum is over maxbytes= (stopped: by a
// paged read that stopped there) and reports whether it did.
func (s *state) limit(stopped bool) bool {
	if s.size <= s.k.maxBytes {
		return false
	}
	s.vals, s.over, s.stopped = nil, true, stopped
	return true
}

// apply applies one batch of watch events, then drops the values if their
// sum is over maxbytes=. It reports false, applying nothing, when the
// state cannot follow them: a prefix whose values were dropped, to be read
// again.
func (s *state) apply(events []*clientv3.Event) bool {
	if s.over {
		if s.k.prefix {
			return false
		}
		*s = state{k: s.k, vals: map[string][]byte{}, rev: s.rev}
	}
	for _, ev := range events {
		if ev.Type == mvccpb.DELETE {
			s.del(string(ev.Kv.Key), ev.Kv.ModRevision)
		} else {
			s.put(string(ev.Kv.Key), ev.Kv.Value, ev.Kv.ModRevision)
		}
	}
	s.limit(false)
	return true
}

// testRetained, when set, is told what a watch's state holds each time it
// changes: its revision, the number of values and the sum of their lengths.
var testRetained atomic.Pointer[func(key string, rev int64, values, bytes int)]

// retained tells testRetained what s holds.
func (s *state) retained() {
	f := testRetained.Load()
	if f == nil {
		return
	}
	n := 0
	for _, v := range s.vals {
		n += len(v)
	}
	(*f)(s.k.key, s.rev, len(s.vals), n)
}

// result is the observation the state stands for: the value (or, in
// prefix mode, the nested JSON object of every key under the prefix, see
// [sources.PrefixJSON]), Missing when there is none, or an error wrapping
// [sources.ErrTooLarge] over maxbytes=.
func (s *state) result() sources.Result {
	version := strconv.FormatInt(s.rev, 10)
	if s.over {
		err := fmt.Errorf("%w: %d bytes, more than maxbytes=%d", sources.ErrTooLarge, s.size, s.k.maxBytes)
		switch {
		case s.refused && s.stopped:
			err = fmt.Errorf("%w: more than maxbytes=%d (the paged read stopped at %d bytes: etcd's answer of the next page was refused unread)", sources.ErrTooLarge, s.k.maxBytes, s.size)
		case s.refused:
			err = fmt.Errorf("%w: more than maxbytes=%d (etcd's answer was refused unread)", sources.ErrTooLarge, s.k.maxBytes)
		case s.stopped:
			err = fmt.Errorf("%w: more than maxbytes=%d (the paged read stopped at %d bytes)", sources.ErrTooLarge, s.k.maxBytes, s.size)
		}
		return sources.Result{Err: &Error{Key: s.k.key, Prefix: s.k.prefix, Err: err}}
	}
	if !s.k.prefix {
		v, ok := s.vals[s.k.key]
		if !ok {
			return sources.Result{Missing: true, Version: version}
		}
		if v == nil {
			v = []byte{}
		}
		return sources.Result{Data: v, Version: version}
	}
	entries := make([]sources.KV, 0, len(s.vals))
	for k, v := range s.vals {
		entries = append(entries, sources.KV{Key: k, Value: v})
	}
	doc, ok := sources.PrefixJSON(s.k.key, entries)
	if !ok {
		return sources.Result{Missing: true, Version: version}
	}
	return sources.Result{Data: doc, Format: "application/json", Version: version}
}

// end tells why a watch stream stopped.
type end int

const (
	endStopped   end = iota // the watch's context ended
	endJoined               // a field joined: re-read for it
	endCompacted            // the revision to resume from was compacted: re-read
	endLost                 // the connection was lost, or etcd canceled the watch
	endOver                 // a key changed under a prefix whose values were dropped: re-read
	endRefused              // gRPC refused a watch response over its limit, ending the stream: re-read
)

// run is the loop of one key or prefix: Get, report, then follow one etcd
// watch from the Get's revision + 1, so that no change between the two is
// missed. Events update the state without a request; under churn they are
// coalesced, and the latest state is reported. The watch requires a
// leader. After a compaction (ErrCompacted), a lost connection, a canceled
// watch or a field joining, the loop reads again and watches from the new
// revision: a gap is never silent, since the new read holds every change.
// Failures are reported at once and retried with backoff.
func (d *driver) run(w *watch) {
	k := w.Key()
	retry := sources.NewRetry(transientBase, permanentBase, d.maxBackoff).CapTransient(transientMax)
	var delay time.Duration
	for w.Sleep(delay) {
		// The loss signal is taken before the Get: a connection lost
		// between the Get and the watch ends the watch at once.
		down := d.downSignal()
		look := w.Begin(k.timeout, false)
		ctx, cancel := untilDown(look.Context(), down)
		s, rev, err := d.get(ctx, k)
		if err != nil && errors.Is(context.Cause(ctx), errConnLost) {
			err = classify(k, errConnLost, "")
		}
		cancel()
		look.End()
		if w.Context().Err() != nil {
			return
		}
		if err != nil {
			look.Report(sources.Result{Err: err})
			delay = retry.Next(err.permanent())
			continue
		}
		retry.Reset()
		delay = 0
		s.retained()
		look.Report(s.result())
		if down == nil { // the Get built the client
			down = d.downSignal()
		}
		why, werr := d.stream(w, s, rev+1, down)
		switch why {
		case endStopped:
			return
		case endLost:
			w.ReportNow(sources.Result{Err: classify(k, werr, d.cfg.Password)})
			delay = retry.Next(false)
		case endCompacted:
			d.logger.Debug("etcd: watch revision compacted; reading again", "watch", k.what(), "rev", rev+1)
		case endRefused:
			// A batch of events over the watch stream's limit ended
			// it, and every watch on it: the read that follows holds
			// what they said (or the ErrTooLarge of a value over
			// maxbytes=), so it is no failure to report. Not back to
			// back, should every batch be refused.
			d.logger.Debug("etcd: watch response over its limit refused; reading again", "watch", k.what(), "err", werr)
			delay = transientBase
		case endOver:
			// The prefix is over maxbytes= and its values were dropped,
			// so its events cannot be applied: a change reads it again,
			// at most every transientBase, so that a busy prefix over
			// its limit is not read back to back.
			delay = transientBase
		case endJoined:
		}
	}
}

// errConnLost is the cause of the error reported when the connection to
// etcd leaves the ready state.
var errConnLost = errors.New("connection lost")

// untilDown returns ctx, also canceled when down closes, so that a read in
// flight when the connection is lost fails at once rather than at its
// timeout.
func untilDown(ctx context.Context, down <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-down:
			cancel(errConnLost)
		case <-stop:
		}
	})
	return ctx, func() {
		close(stop)
		wg.Wait()
		cancel(nil)
	}
}

// stream follows one etcd watch of w's key from rev, applying its events
// to s and reporting s after each batch, until the watch ends, a field
// joins, or down closes.
func (d *driver) stream(w *watch, s *state, rev int64, down <-chan struct{}) (end, error) {
	k := w.Key()
	cli, _, err := d.client()
	if err != nil {
		return endLost, err
	}
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(w.Context()))
	defer cancel()
	opts := []clientv3.OpOption{clientv3.WithRev(startRev(rev))}
	if k.prefix {
		opts = append(opts, clientv3.WithPrefix())
	}

	// The pump applies events as they come, so that a fast writer never
	// queues more than the state; the loop reports the latest state.
	// cli.Watch itself waits for a connection, so the loss of the
	// connection is watched beside it.
	var (
		mu     sync.Mutex
		dirty  bool
		why    end
		whyErr error
		notify = sources.NewSignal()
		wg     sync.WaitGroup
	)
	finish := func(e end, err error) {
		mu.Lock()
		if why == endStopped {
			why, whyErr = e, err
		}
		mu.Unlock()
		notify.Notify()
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-down:
			finish(endLost, errConnLost)
		}
	})
	wg.Go(func() {
		wch := d.watcher(cli, k).Watch(ctx, k.key, opts...)
		for {
			select {
			case <-ctx.Done():
				return
			case wr, ok := <-wch:
				switch {
				case !ok:
					finish(endLost, errors.New("watch closed"))
					return
				case wr.CompactRevision != 0:
					finish(endCompacted, rpctypes.ErrCompacted)
					return
				case refused(wr.Err()):
					finish(endRefused, wr.Err())
					return
				case wr.Canceled || wr.Err() != nil:
					err := wr.Err()
					if err == nil {
						err = errors.New("watch canceled by the server")
					}
					finish(endLost, err)
					return
				}
				if len(wr.Events) == 0 {
					continue
				}
				mu.Lock()
				applied := s.apply(wr.Events)
				if applied {
					s.retained()
					dirty = true
				}
				mu.Unlock()
				if !applied {
					finish(endOver, nil)
					return
				}
				notify.Notify()
			}
		}
	})
	for w.Wait(notify) {
		if w.Kicked() {
			return endJoined, nil
		}
		mu.Lock()
		e, eerr, changed := why, whyErr, dirty
		var r sources.Result
		if changed {
			r, dirty = s.result(), false
		}
		mu.Unlock()
		if changed {
			w.ReportNow(r)
		}
		if e != endStopped {
			return e, eerr
		}
	}
	return endStopped, nil
}
