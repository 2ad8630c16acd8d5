package nats

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/livebind/livebind/sources"
)

type watch = sources.Watch[watchKey, struct{}]

// feed carries what a watch's reader goroutines learned to its loop: at
// most one pending result (the newest: a burst coalesces into it) and the
// connection's state changes. Signals on notify coalesce too.
type feed struct {
	notify sources.Signal

	mu      sync.Mutex
	pending *sources.Result
	down    bool          // the connection was lost and is not back yet
	back    bool          // the connection came back since the loop last looked
	closed  bool          // the connection is closed for good
	lost    chan struct{} // closed when the connection is lost
	refused error         // the server refused the subscription
}

func newFeed() *feed { return &feed{notify: sources.NewSignal(), lost: make(chan struct{})} }

func (f *feed) put(r sources.Result) {
	f.mu.Lock()
	f.pending = &r
	f.mu.Unlock()
	f.notify.Notify()
}

// refuse records that the server refused the subscription.
func (f *feed) refuse(err error) {
	f.mu.Lock()
	f.refused = err
	f.mu.Unlock()
	f.notify.Notify()
}

func (f *feed) status(s natsgo.Status) {
	f.mu.Lock()
	switch s {
	case natsgo.CONNECTED:
		if f.down {
			f.down, f.back = false, true
			f.lost = make(chan struct{})
		}
	case natsgo.CLOSED:
		f.closed = true
		f.markDown()
	default: // DISCONNECTED, RECONNECTING
		f.markDown()
	}
	f.mu.Unlock()
	f.notify.Notify()
}

func (f *feed) markDown() { // f.mu held
	if !f.down {
		f.down = true
		close(f.lost)
	}
}

// whileUp returns a context of parent that also ends when the connection
// is lost, so that a request does not wait out its timeout in the
// client's reconnect buffer.
func (f *feed) whileUp(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	f.mu.Lock()
	lost := f.lost
	f.mu.Unlock()
	go func() {
		select {
		case <-lost:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// state is what the loop takes from the feed at each wake.
type state struct {
	r          sources.Result
	hasR       bool
	down, back bool
	closed     bool
	refused    error
}

func (f *feed) take() state {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := state{down: f.down, back: f.back, closed: f.closed, refused: f.refused}
	f.refused = nil
	if f.pending != nil {
		s.r, s.hasR = *f.pending, true
		f.pending = nil
	}
	f.back = false
	return s
}

// statuses forwards nc's connection state changes to f until stop.
func statuses(nc *natsgo.Conn, f *feed) (stop func()) {
	ch := nc.StatusChanged(natsgo.DISCONNECTED, natsgo.RECONNECTING, natsgo.CONNECTED, natsgo.CLOSED)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range ch {
			f.status(s)
		}
	}()
	return func() {
		nc.RemoveStatusListener(ch) // closes ch
		<-done
	}
}

// retries returns the two backoffs of a watch loop.
func (d *driver) retries() sources.Retry {
	return sources.NewRetry(transientBase, PermanentBackoff, d.maxBackoff).CapTransient(TransientMaxBackoff)
}

// fail reports err and sleeps the backoff it calls for; false when the
// watch ended.
func (d *driver) fail(w *watch, retry *sources.Retry, err error) bool {
	e := d.classify(w.Key(), err)
	return w.ReportFailure(retry, e, e.permanent())
}

// connRetrying returns the connection, reporting each failure to dial it
// and backing off, or nil when the watch ended.
func (d *driver) connRetrying(w *watch, retry *sources.Retry) *natsgo.Conn {
	for {
		nc, err := d.conn(w.Context())
		if err == nil {
			return nc
		}
		if !d.fail(w, retry, err) {
			return nil
		}
	}
}

// deletedAdvisory is the subject prefix of JetStream's advisory that a
// key-value bucket's stream was deleted.
const deletedAdvisory = "$JS.EVENT.ADVISORY.STREAM.DELETED.KV_"

// consumerDeletedAdvisory is the subject prefix of the advisory that a
// consumer of a key-value bucket's stream was deleted: a bucket's deletion
// deletes the watcher's consumer too, and the server does not always get
// the stream's own advisory out (2 of 60 deletions under -race).
const consumerDeletedAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.DELETED.KV_"

// errLost is reported while the connection is down.
var errLost = fmt.Errorf("%w; reconnecting", sources.ErrDisconnected)

// followEntry is the watch loop of a key-value entry. It opens a JetStream
// watcher of the key, whose first update is the current value (or the
// marker that there is none: Missing), and reports every update after it:
// a put as data, a delete or purge as Missing. When the connection is
// lost it reports an error, and when it comes back it opens a new watcher,
// so a change made meanwhile is not missed. While the bucket does not
// exist it reports Missing and checks again, 100 ms doubling to
// [BucketRecheck] apart.
func (d *driver) followEntry(w *watch) {
	bucketWait := sources.Backoff{Base: 100 * time.Millisecond, Max: BucketRecheck}
	d.eachConnection(w, func(nc *natsgo.Conn, f *feed, retry *sources.Retry) bool {
		return d.entrySession(w, nc, f, retry, &bucketWait)
	})
}

// eachConnection runs session over each connection the watch gets, with a
// feed of that connection's state, until the watch ends or session
// returns false. session returns true when the connection closed for good
// (or failed and the failure was reported and waited out): dial again.
func (d *driver) eachConnection(w *watch, session func(nc *natsgo.Conn, f *feed, retry *sources.Retry) bool) {
	retry := d.retries()
	for {
		nc := d.connRetrying(w, &retry)
		if nc == nil {
			return
		}
		f := newFeed()
		stop := statuses(nc, f)
		again := session(nc, f, &retry)
		stop()
		if !again {
			return
		}
	}
}

// entrySession follows the entry over one connection. It returns false
// when the watch ends, true when the connection closed for good.
func (d *driver) entrySession(w *watch, nc *natsgo.Conn, f *feed, retry *sources.Retry, bucketWait *sources.Backoff) bool {
	k := w.Key()
	for {
		if nc.IsClosed() {
			return d.fail(w, retry, natsgo.ErrConnectionClosed)
		}
		if !nc.IsConnected() {
			w.ReportNow(sources.Result{Err: d.classify(k, errLost)})
			if !w.Wait(f.notify) {
				return false
			}
			f.take()
			continue
		}
		look := w.Begin(k.timeout, false)
		ctx, cancel := f.whileUp(look.Context())
		ctx, done := d.refusable(ctx, k)
		del := watchDeletion(ctx, nc, k, f)
		kw, endWatcher, err := d.openWatcher(ctx, w.Context(), nc, k)
		err = refused(ctx, err)
		done()
		cancel()
		look.End()
		if err != nil {
			del.stop()
		}
		switch {
		case errors.Is(err, jetstream.ErrBucketNotFound):
			look.Report(sources.Result{Missing: true})
			if !w.Sleep(bucketWait.Next()) {
				return false
			}
			continue
		case err != nil && !nc.IsConnected():
			continue // lost meanwhile: reported above
		case err != nil:
			if !d.fail(w, retry, err) {
				return false
			}
			continue
		}
		bucketWait.Reset()
		again := d.runEntry(w, nc, k, f, kw, retry, del)
		endWatcher()
		del.stop()
		if !again {
			return false
		}
	}
}

// deletion tells an entry loop that its bucket may be gone. A deleted
// bucket ends nothing on the watcher's side, so the loop learns of it from
// JetStream's advisories: the stream-deleted one says so (deleted); a
// consumer-deleted one of the bucket's stream (check) may be the watcher's
// own consumer going with the bucket, or another client's, so the loop
// then asks whether the bucket is still there. The server does not always
// get the stream's advisory out: 2 of 60 deletions in TestEntryLifecycle
// under -race went unnoticed with it alone. Best effort: without
// permission to subscribe to advisories, a deleted bucket goes unnoticed
// until a reconnect.
type deletion struct {
	deleted, check atomic.Bool
	subs           []*natsgo.Subscription

	// The loop's own: a bucket found still there is asked about once more.
	rechecked bool
	timer     *time.Timer
}

// recheckAfter is how long after a consumer-deleted advisory, with the
// bucket still there, the loop asks once more: a deletion removes the
// stream's consumers before the stream.
const recheckAfter = 500 * time.Millisecond

// watchDeletion subscribes to the advisories of k's bucket and waits
// (within ctx) until the server has the subscriptions: they are made
// before the watcher opens, so a bucket deleted once it is open is not
// missed, however soon.
func watchDeletion(ctx context.Context, nc *natsgo.Conn, k watchKey, f *feed) *deletion {
	del := &deletion{}
	for _, adv := range []struct {
		subj string
		flag *atomic.Bool
	}{{deletedAdvisory + k.bucket, &del.deleted}, {consumerDeletedAdvisory + k.bucket + ".>", &del.check}} {
		sub, err := nc.Subscribe(adv.subj, func(*natsgo.Msg) { adv.flag.Store(true); f.notify.Notify() })
		if err == nil {
			del.subs = append(del.subs, sub)
		}
	}
	if len(del.subs) > 0 {
		_ = nc.FlushWithContext(ctx) // a failure shows in the watcher's open
	}
	return del
}

// stop ends the subscriptions and a pending second question.
func (del *deletion) stop() {
	for _, sub := range del.subs {
		_ = sub.Unsubscribe()
	}
	if del.timer != nil {
		del.timer.Stop()
	}
}

// gone answers a consumer-deleted advisory: whether the bucket is gone.
// When it is still there, the question is asked once more recheckAfter
// later (the next advisory asks afresh).
func (d *driver) gone(w *watch, nc *natsgo.Conn, k watchKey, f *feed, del *deletion) bool {
	if d.bucketGone(w, nc, k, f) {
		return true
	}
	if del.rechecked {
		del.rechecked = false
		return false
	}
	del.rechecked = true
	if del.timer != nil {
		del.timer.Stop()
	}
	del.timer = time.AfterFunc(recheckAfter, func() { del.check.Store(true); f.notify.Notify() })
	return false
}

// bucketGone asks whether k's bucket was deleted; a failed question is
// not an answer (false).
func (d *driver) bucketGone(w *watch, nc *natsgo.Conn, k watchKey, f *feed) bool {
	ctx, cancel := f.whileUp(w.Context())
	defer cancel()
	ctx, stop := context.WithTimeout(ctx, k.timeout)
	defer stop()
	_, err := bucket(ctx, nc, k)
	return errors.Is(err, jetstream.ErrBucketNotFound)
}

// bucket looks up k's key-value bucket; jetstream.ErrBucketNotFound when
// there is none.
func bucket(ctx context.Context, nc *natsgo.Conn, k watchKey) (jetstream.KeyValue, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return js.KeyValue(ctx, k.bucket)
}

// openWatcher finds the bucket and watches the key. The watcher lives
// until life ends, it is stopped, or end is called (which the caller
// must do when done with it). Creating it is a request made under the
// watcher's own context: it ends with ctx too, so that a request left
// unanswered or refused does not hold the loop for ever.
func (d *driver) openWatcher(ctx, life context.Context, nc *natsgo.Conn, k watchKey) (kw jetstream.KeyWatcher, end func(), err error) {
	kv, err := bucket(ctx, nc, k)
	if err != nil {
		return nil, nil, err
	}
	wctx, cancel := context.WithCancel(life)
	stop := context.AfterFunc(ctx, cancel)
	kw, err = kv.Watch(wctx, k.key)
	if !stop() { // ctx ended first
		if err == nil {
			_ = kw.Stop()
			err = ctx.Err()
		}
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return kw, cancel, nil
}

// runEntry follows one watcher until the watch ends (false) or the watcher
// must be replaced (true): the connection was lost, the bucket deleted or
// the watcher ended.
func (d *driver) runEntry(w *watch, nc *natsgo.Conn, k watchKey, f *feed, kw jetstream.KeyWatcher, retry *sources.Retry, del *deletion) bool {
	f.take() // nothing pending from an earlier watcher
	var ended atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		seen := false
		for e := range kw.Updates() {
			switch {
			case e != nil:
				seen = true
				f.put(d.entry(k, e))
			case !seen: // the initial values are done and there were none
				f.put(sources.Result{Missing: true})
			}
		}
		ended.Store(true)
		f.notify.Notify()
	}()
	defer func() {
		_ = kw.Stop()
		<-done
	}()
	var cur *sources.Result
	for w.Wait(f.notify) {
		s := f.take()
		switch {
		case s.down || s.back || s.closed:
			return true // a new watcher re-reads the entry once connected
		case del.deleted.Load():
			return true // reopening finds no bucket: Missing
		case del.check.Swap(false) && d.gone(w, nc, k, f, del):
			return true
		case ended.Load():
			return d.fail(w, retry, errors.New("the key-value watcher ended"))
		}
		if s.hasR {
			cur = &s.r
			if s.r.Err == nil {
				retry.Reset()
			}
		}
		if cur != nil {
			w.ReportNow(*cur) // also for a field that joined
		}
	}
	return false
}

// followSubject is the watch loop of a core subject: each message is a
// document, and messages that come faster than fields take them coalesce
// into the newest. Core NATS keeps no messages: while the connection is
// down the loop reports an error, and the last message received stays the
// value; when it comes back (the client resubscribes by itself) that
// message is reported again.
func (d *driver) followSubject(w *watch) {
	k := w.Key()
	d.eachConnection(w, func(nc *natsgo.Conn, f *feed, retry *sources.Retry) bool {
		defer d.refusals.add("subject "+k.subject, f.refuse)()
		sub, err := nc.Subscribe(k.subject, func(m *natsgo.Msg) { f.put(d.payload(k, m.Data, "")) })
		if err != nil {
			return d.fail(w, retry, err)
		}
		defer func() { _ = sub.Unsubscribe() }()
		return d.runSubject(w, nc, k, f, retry)
	})
}

// runSubject reports a subject's messages until the watch ends (false) or
// the connection closed for good (true: dial again).
func (d *driver) runSubject(w *watch, nc *natsgo.Conn, k watchKey, f *feed, retry *sources.Retry) bool {
	good := d.last.Get(k)
	cur, lost := good, !nc.IsConnected()
	if lost {
		cur = sources.Result{Err: d.classify(k, errLost)}
	} else { // make sure the server has the subscription before the first report
		ctx, cancel := f.whileUp(w.Context())
		ctx, cancel2 := context.WithTimeout(ctx, k.timeout)
		_ = nc.FlushWithContext(ctx)
		cancel2()
		cancel()
	}
	for {
		w.ReportNow(cur)
		if !w.Wait(f.notify) {
			return false
		}
		s := f.take()
		if s.closed {
			return d.fail(w, retry, natsgo.ErrConnectionClosed)
		}
		if s.refused != nil { // an ErrAuth error; then subscribe again
			return d.fail(w, retry, s.refused)
		}
		if s.hasR { // a message, even one that came just before a loss
			cur, lost = s.r, false
			if s.r.Err == nil {
				good = s.r
				retry.Reset()
				d.last.Set(k, s.r)
			}
		}
		switch {
		case s.down:
			cur, lost = sources.Result{Err: d.classify(k, errLost)}, true
		case lost && nc.IsConnected():
			cur, lost = good, false
		}
	}
}

// refusals routes the server's refusals, which reach the client's
// asynchronous error handler naming only a subject, to what they concern:
// the watches of a subject whose subscription was refused, the requests
// in flight of a bucket whose JetStream request was. The zero value is
// ready to use.
type refusals struct {
	mu sync.Mutex
	m  map[string]map[*func(error)]struct{}
}

// add registers fn for name ("subject S", "bucket B") until the returned
// function.
func (r *refusals) add(name string, fn func(error)) (remove func()) {
	p := &fn
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]map[*func(error)]struct{}{}
	}
	if r.m[name] == nil {
		r.m[name] = map[*func(error)]struct{}{}
	}
	r.m[name][p] = struct{}{}
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.m[name], p)
		if len(r.m[name]) == 0 {
			delete(r.m, name)
		}
	}
}

// refuse passes the server's refusal to everything registered for name.
func (r *refusals) refuse(name string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for fn := range r.m[name] {
		(*fn)(err)
	}
}

// refusedSubscription and refusedPublish find the subject in the server's
// refusals, as nats.go passes them on.
var (
	refusedSubscription = regexp.MustCompile(`(?i)permissions violation for subscription to "([^"]*)"`)
	refusedPublish      = regexp.MustCompile(`(?i)permissions violation for publish to "([^"]*)"`)
)

// refusedEntry returns what a refused publish concerns: the key-value
// bucket of a JetStream API request of its stream KV_B (or of a $KV.B
// subject), and the key when the subject names it ($KV.B.KEY, as a direct
// get or a filtered consumer's creation does), else "" for the whole
// bucket.
func refusedEntry(subject string) (bucket, key string, ok bool) {
	toks := strings.Split(subject, ".")
	switch {
	case len(toks) > 1 && toks[0] == "$KV":
		bucket = toks[1]
	case len(toks) > 1 && toks[0] == "$JS":
		for _, tok := range toks[1:] {
			if b, ok := strings.CutPrefix(tok, "KV_"); ok && b != "" {
				bucket = b
				break
			}
		}
	}
	if bucket == "" {
		return "", "", false
	}
	if i := strings.Index(subject, "$KV."+bucket+"."); i >= 0 {
		key = subject[i+len("$KV."+bucket+"."):]
	}
	return bucket, key, true
}

// refusable returns a context of ctx that also ends, with the refusal as
// its cause, when the server refuses a request of k's bucket as a whole,
// or of k's key: the request then fails at once instead of waiting out
// its timeout. A refusal of another key of the bucket does not end it.
func (d *driver) refusable(ctx context.Context, k watchKey) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	removeBucket := d.refusals.add("bucket "+k.bucket, cancel)
	removeKey := d.refusals.add("key "+k.bucket+"/"+k.key, cancel)
	return ctx, func() { removeBucket(); removeKey(); cancel(nil) }
}

// refused returns the server's refusal that ended ctx in place of the
// error it caused, else err.
func refused(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, natsgo.ErrPermissionViolation) {
		return cause
	}
	return err
}

// asyncError handles an error the client reports outside any call (a
// refused subscription, a slow consumer ...): a refused subscription
// fails the watches of its subject, and every such error is logged to the
// driver's logger, scrubbed, in place of nats.go's default handler, which
// writes to the process's stderr.
func (d *driver) asyncError(sub *natsgo.Subscription, err error) {
	var subject string
	if sub != nil {
		subject = sub.Subject
	}
	if errors.Is(err, natsgo.ErrPermissionViolation) {
		if m := refusedSubscription.FindStringSubmatch(err.Error()); m != nil {
			subject = m[1]
			d.refusals.refuse("subject "+subject, err)
		}
		if m := refusedPublish.FindStringSubmatch(err.Error()); m != nil {
			subject = m[1]
			switch b, key, ok := refusedEntry(subject); {
			case ok && key == "":
				d.refusals.refuse("bucket "+b, err)
			case ok:
				d.refusals.refuse("key "+b+"/"+key, err)
			}
		}
	}
	d.logger.Warn("nats: asynchronous error", "subject", sources.Clip(subject, maxErrText), "err", clip(d.scrub(err)).Error())
}
