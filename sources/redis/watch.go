package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind/sources"
)

type watch = sources.Watch[watchKey, struct{}]

// keyspaceChannel is the channel of k's keyspace notifications.
func keyspaceChannel(k watchKey) string {
	return "__keyspace@" + strconv.Itoa(k.db) + "__:" + k.name
}

// subscribe subscribes k's watch to its channel on the endpoint's shared
// subscription connection and waits for the server to confirm it. For a
// key it first checks that keyspace notifications are on, unless another
// watch found them on while the endpoint's subscription connection has
// stayed open (see [driver.forgetNotify]) and the tag does not say
// notify=enable.
func (d *driver) subscribe(ctx context.Context, c *goredis.Client, k watchKey) (*subscription, error) {
	setup, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	ch := k.name
	if !k.channel {
		if k.notify || !d.notifyKnown(k.endpoint()) {
			if err := d.checkNotify(setup, c, k); err != nil {
				return nil, err
			}
		}
		ch = keyspaceChannel(k)
	}
	s := d.pubsubs.join(d, k, ch)
	if err := s.subscribe(setup); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// message turns a channel message into a result, refusing one over the
// limit.
func (d *driver) message(k watchKey, payload string) sources.Result {
	if len(payload) > k.maxBytes {
		return sources.Result{Err: d.classify(k, fmt.Errorf("%w: a message of %d bytes, more than %d (maxbytes=)", sources.ErrTooLarge, len(payload), k.maxBytes))}
	}
	return sources.Result{Data: []byte(payload)}
}

// retries returns the two backoffs of a watch loop.
func (d *driver) retries() sources.Retry {
	return sources.NewRetry(transientBase, PermanentBackoff, d.maxBackoff).CapTransient(TransientMaxBackoff)
}

// subscribeRetrying subscribes, reporting each failure and backing off,
// until it succeeds. It returns a nil subscription when the watch ended,
// or with the error when a key's notifications are off and it has poll=.
// While the endpoint's shared connection is down (an [outage]) the
// watches of the endpoint take turns: one subscribes per backoff step and
// the others report its failures and wait, so that they all come back
// with the one connection that answers.
func (d *driver) subscribeRetrying(w *watch, c *goredis.Client, retry *sources.Retry) (*subscription, error) {
	k := w.Key()
	for {
		lead, err := d.pubsubs.await(w.Context(), k.endpoint())
		switch {
		case w.Context().Err() != nil:
			if lead != nil { // its step ended as the watch did: another member leads
				d.pubsubs.settle(k.endpoint(), lead, nil, false)
			}
			return nil, nil
		case err != nil: // the leader's attempt to reconnect failed
			w.ReportNow(sources.Result{Err: d.classify(k, fmt.Errorf("%w: %w", sources.ErrDisconnected, err))})
			continue
		}
		sub, err := d.subscribe(w.Context(), c, k)
		if err == nil {
			if lead != nil {
				d.pubsubs.settle(k.endpoint(), lead, nil, true)
			}
			return sub, nil
		}
		if othersEnd(w, err) { // not a failure to report: try again on a new connection
			if lead != nil {
				d.pubsubs.settle(k.endpoint(), lead, nil, false)
			}
			if !w.Sleep(retry.Next(false)) {
				return nil, nil
			}
			continue
		}
		e := d.classify(k, err)
		down := errors.Is(e, sources.ErrUnreachable)
		if lead != nil {
			var failed error
			if down {
				failed = err
			}
			d.pubsubs.settle(k.endpoint(), lead, failed, !down && w.Context().Err() == nil)
		}
		switch {
		case !k.channel && k.poll > 0 && errors.Is(err, ErrNotificationsOff):
			return nil, err
		case lead != nil && down: // the outage's backoff paces the next attempt
			w.ReportNow(sources.Result{Err: e})
		case !w.ReportFailure(retry, e, e.permanent()):
			return nil, nil
		}
	}
}

// next waits for the subscription's next signal. It returns false when
// the watch ended, and closes a subscription that failed, reporting the
// failure at once (sub is then nil): the outage the failure began paces
// the next subscription (see [driver.subscribeRetrying]).
func (d *driver) next(w *watch, sub **subscription) bool {
	if !w.Wait((*sub).notify) {
		(*sub).close()
		return false
	}
	if err := (*sub).failure(); err != nil {
		(*sub).close()
		*sub = nil
		if w.Context().Err() != nil {
			return false
		}
		if !othersEnd(w, err) {
			w.ReportNow(sources.Result{Err: d.classify(w.Key(), fmt.Errorf("%w: %w", sources.ErrDisconnected, err))})
		}
	}
	return true
}

// othersEnd reports a failure of the shared connection that another
// member's end caused, while w goes on: its watch ended while its
// request (a dial, usually) held the connection, which failed with
// context.Canceled. Neither w nor the server failed: w subscribes again
// without reporting an error.
func othersEnd(w *watch, err error) bool {
	return w.Context().Err() == nil && errors.Is(err, context.Canceled)
}

// followKey is the watch loop of a key: subscribe to its keyspace
// notifications, then read the key at once and after every notification,
// every resubscription and every field joining. A failed subscription is
// reported, retried with backoff, and followed by a full read, so a change
// made while it was down is not missed. With notifications off and poll=,
// it polls instead.
func (d *driver) followKey(w *watch) {
	k := w.Key()
	c := d.client(k.endpoint())
	retry := d.retries()
	for {
		sub, err := d.subscribeRetrying(w, c, &retry)
		if sub == nil {
			if err != nil {
				d.logger.Info("redis: keyspace notifications are off; polling the key", "addr", k.addr, "key", k.name, "poll", k.poll)
				d.pollKey(w, c, k)
			}
			return
		}
		for sub != nil {
			look := w.Begin(k.timeout, false)
			r := d.get(look.Context(), c, k)
			look.End()
			look.Report(r)
			if errors.Is(r.Err, sources.ErrUnreachable) { // the read failed, maybe not yet the subscription: start over
				sub.close()
				if !w.Sleep(retry.Next(false)) {
					return
				}
				break
			}
			if r.Err == nil {
				retry.Reset()
			}
			if !d.next(w, &sub) {
				return
			}
		}
	}
}

// pollKey reads the key every poll=, or sooner after a failure, until the
// watch ends.
func (d *driver) pollKey(w *watch, c *goredis.Client, k watchKey) {
	retry := d.retries()
	for {
		look := w.Begin(k.timeout, false)
		r := d.get(look.Context(), c, k)
		look.End()
		look.Report(r)
		wait := k.poll
		if errors.Is(r.Err, sources.ErrUnreachable) {
			wait = min(wait, retry.Next(false))
		} else {
			retry.Reset()
		}
		if !w.Sleep(wait) {
			return
		}
	}
}

// followChannel is the watch loop of a channel: each message is a
// document. Messages that come faster than fields take them coalesce into
// the newest. A failed subscription is reported and retried with backoff;
// messages published meanwhile are lost (Redis keeps none), and the last
// message received stays the value.
func (d *driver) followChannel(w *watch) {
	k := w.Key()
	c := d.client(k.endpoint())
	retry := d.retries()
	good := d.last.Get(k) // the last message, or Missing
	for {
		sub, _ := d.subscribeRetrying(w, c, &retry)
		if sub == nil {
			return
		}
		retry.Reset()
		for cur := good; sub != nil; {
			if r, ok := sub.take(); ok {
				cur = r
				if r.Err == nil {
					good = r
					d.last.Set(k, r)
				}
			}
			w.ReportNow(cur)
			s := sub
			if !d.next(w, &sub) {
				return
			}
			if sub != nil {
				continue
			}
			if r, ok := s.take(); ok && r.Err == nil { // came just before the failure
				good = r
				d.last.Set(k, r)
			}
		}
	}
}
