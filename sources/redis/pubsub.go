package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind/sources"
)

// pubsubs holds the driver's subscription connections: at most one live
// [shared] connection per endpoint, joined by every watch of a key or
// channel there.
type pubsubs struct {
	mu   sync.Mutex
	byEP map[endpoint]*shared
	down map[endpoint]*outage // endpoints whose shared connection failed and is not back
}

// outage is an endpoint whose shared subscription connection failed. Its
// members do not each retry on their own backoff: one at a time, the
// leader waits the endpoint's next backoff step and subscribes again,
// which makes the step's one connection attempt, while the others wait
// for its outcome. A failed attempt is reported to every member; an
// attempt the server answers (subscribed, or refused: an ACL,
// notifications off) ends the outage, and the others subscribe on the
// new connection at once.
type outage struct {
	backoff sources.Backoff
	leading bool          // a member makes the attempt
	settled chan struct{} // closed when the attempt in flight ends; made by its leader
	failed  uint64        // attempts that failed so far
	err     error         // the last failed attempt's error
}

// shared is one SUBSCRIBE connection of an endpoint and the goroutine that
// reads it, shared by the driver's watches of that endpoint. Each watch
// joins it with a [subscription] to one Redis channel: the first member of
// a channel sends SUBSCRIBE, the last one UNSUBSCRIBE, and the last member
// of all closes the connection. A failed connection (cut, silent after a
// PING, a refused write, a SUBSCRIBE left unanswered) is never reused: it
// closes, every member is told, and the endpoint has an [outage] until
// one member's new connection is answered; the others then share it.
type shared struct {
	d     *driver
	ep    endpoint
	hub   *pubsubs
	ps    *goredis.PubSub
	wmu   chan struct{} // held while SUBSCRIBE or UNSUBSCRIBE is sent, so the wire keeps the registry's order
	done  chan struct{} // closed when the reader returns
	fails chan struct{} // closed on failure
	close func() error  // cuts the dialed connections and closes ps, once

	mu      sync.Mutex
	dialed  []net.Conn            // the connections dialed for ps (see trackDials)
	cut     bool                  // dialed were closed: close any later one at once
	chans   map[string]*chanState // by Redis channel
	queue   []*chanState          // SUBSCRIBEs sent and not answered yet, oldest first
	members int
	started bool // the reader runs
	err     error
}

// chanState is one Redis channel of a shared connection and the members
// that follow it. Each chanState is subscribed at most once.
type chanState struct {
	name    string
	members map[*subscription]struct{}
	sent    bool          // SUBSCRIBE sent
	ready   chan struct{} // closed when the server answered it
	err     error         // the server's refusal (an ACL on the channel), set before ready closes
}

// answered reports that the server answered the SUBSCRIBE.
func (st *chanState) answered() bool {
	select {
	case <-st.ready:
		return true
	default:
		return false
	}
}

// subscription is one watch's membership of a shared connection, for the
// Redis channel of its key or channel. It keeps at most one pending
// message (the newest) and signals notify (signals coalesce) for every
// message, every resubscription and a failure of the connection.
type subscription struct {
	conn    *shared
	st      *chanState
	k       watchKey
	notify  sources.Signal
	mu      sync.Mutex
	pending *sources.Result // channel mode: the newest message not yet taken
}

// join registers a member for Redis channel ch, from the watch of k, on
// the live shared connection of k's endpoint, making one from the
// driver's own client of the endpoint (without dialing yet) when there is
// none.
func (h *pubsubs) join(d *driver, k watchKey, ch string) *subscription {
	ep := k.endpoint()
	c := d.own(ep)
	h.mu.Lock()
	defer h.mu.Unlock()
	sh := h.byEP[ep]
	if sh == nil || sh.failure() != nil {
		ps := c.Subscribe(d.watches.Context()) // no channel: nothing is sent yet
		sh = &shared{
			d: d, ep: ep, hub: h, ps: ps,
			wmu:   make(chan struct{}, 1),
			done:  make(chan struct{}),
			fails: make(chan struct{}),
			chans: map[string]*chanState{},
		}
		sh.close = sync.OnceValue(func() error {
			sh.cutDialed() // first: a handshake in progress holds ps's lock
			return ps.Close()
		})
		if h.byEP == nil {
			h.byEP = map[endpoint]*shared{}
		}
		h.byEP[ep] = sh
	}
	s := &subscription{conn: sh, k: k, notify: sources.NewSignal()}
	sh.mu.Lock()
	st := sh.chans[ch]
	if st == nil || st.answered() && st.err != nil { // a refusal is not handed to newcomers: ask again
		st = &chanState{name: ch, members: map[*subscription]struct{}{}, ready: make(chan struct{})}
		sh.chans[ch] = st
	}
	st.members[s] = struct{}{}
	s.st = st
	sh.members++
	sh.mu.Unlock()
	return s
}

// lock takes the write lock; false when ctx ended or the connection
// failed first.
func (sh *shared) lock(ctx context.Context) bool {
	select {
	case sh.wmu <- struct{}{}:
		return true
	case <-sh.fails:
		return false
	case <-ctx.Done():
		return false
	}
}

func (sh *shared) unlock() { <-sh.wmu }

// subscribe makes sure s's channel is subscribed: it sends SUBSCRIBE when
// s's channel has not been yet, then waits until ctx's deadline for the
// server's answer. A connection that cannot send SUBSCRIBE, or that does
// not answer it in time, has failed for every member; a refusal of the
// channel (an ACL) fails this channel only.
func (s *subscription) subscribe(ctx context.Context) error {
	sh := s.conn
	if !sh.lock(ctx) {
		return errors.Join(sh.failure(), ctx.Err())
	}
	if err := sh.failure(); err != nil {
		sh.unlock()
		return err
	}
	sh.mu.Lock()
	send := !s.st.sent
	if send {
		s.st.sent = true
		sh.queue = append(sh.queue, s.st)
	}
	sh.mu.Unlock()
	if send {
		if err := sh.ps.Subscribe(sh.dialing(ctx), s.st.name); err != nil {
			sh.unlock()
			sh.fail(err)
			return err
		}
		sh.start()
	}
	sh.unlock()
	select {
	case <-s.st.ready:
		return s.st.err
	case <-sh.fails:
		return sh.failure()
	case <-ctx.Done():
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer to SUBSCRIBE %s: %w", s.st.name, err)
			sh.fail(err)
		}
		return err
	}
}

// start runs the reader once, after the first SUBSCRIBE was sent: the
// reader never dials a connection no member asked for.
func (sh *shared) start() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !sh.started {
		sh.started = true
		go sh.read(sh.dialing(sh.d.watches.Context()))
	}
}

// read receives until the connection fails or closes, handing each
// message and answer to the members of its channel. A silent connection
// is PINGed every health interval; one that stays silent after a PING has
// failed.
func (sh *shared) read(ctx context.Context) {
	defer close(sh.done)
	pinged := false
	for {
		msg, err := sh.ps.ReceiveTimeout(ctx, sh.d.health)
		var ne net.Error
		if err != nil && errors.As(err, &ne) && ne.Timeout() && !pinged && ctx.Err() == nil {
			pinged = true
			if err = sh.ps.Ping(ctx); err == nil {
				continue
			}
		}
		var refused goredis.Error
		if errors.As(err, &refused) && sh.answer("", err) {
			pinged = false
			continue
		}
		if err != nil {
			sh.fail(err)
			return
		}
		pinged = false
		switch m := msg.(type) {
		case *goredis.Message:
			for _, s := range sh.membersOf(m.Channel) {
				if s.k.channel {
					s.put(sh.d.message(s.k, m.Payload))
				}
				s.notify.Notify()
			}
		case *goredis.Subscription:
			if m.Kind == "subscribe" && !sh.answer(m.Channel, nil) {
				for _, s := range sh.membersOf(m.Channel) {
					s.notify.Notify() // subscribed again after a reconnect: look again
				}
			}
		}
	}
}

// answer hands the server's answer to the oldest SUBSCRIBE still waiting
// for one: a confirmation of channel ch, or refused (an error reply, which
// names no channel). It reports false for a confirmation no SUBSCRIBE
// waits for: go-redis subscribed again on a new connection.
func (sh *shared) answer(ch string, refused error) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.queue) == 0 || refused == nil && sh.queue[0].name != ch {
		return false
	}
	st := sh.queue[0]
	sh.queue = sh.queue[1:]
	st.err = refused
	close(st.ready)
	return true
}

// membersOf returns the members of Redis channel ch.
func (sh *shared) membersOf(ch string) []*subscription {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.chans[ch]
	if st == nil {
		return nil
	}
	out := make([]*subscription, 0, len(st.members))
	for s := range st.members {
		out = append(out, s)
	}
	return out
}

// fail records err as the connection's failure, tells every member, and
// closes the connection. Only the first failure counts.
func (sh *shared) fail(err error) {
	sh.mu.Lock()
	if sh.err != nil {
		sh.mu.Unlock()
		return
	}
	sh.err = err
	close(sh.fails)
	var all []*subscription
	for _, st := range sh.chans {
		for s := range st.members {
			all = append(all, s)
		}
	}
	sh.mu.Unlock()
	sh.hub.mu.Lock()
	gone := sh.hub.byEP[sh.ep] == sh
	if gone {
		delete(sh.hub.byEP, sh.ep)
		if !errors.Is(err, context.Canceled) { // not a watch that ended mid-request
			sh.hub.begin(sh.ep, sh.d.retries().Transient)
		}
	}
	sh.hub.mu.Unlock()
	if gone {
		sh.d.forgetNotify(sh.ep)
	}
	_ = sh.close()
	for _, s := range all {
		s.notify.Notify()
	}
}

// begin starts an outage of ep, unless one goes on; h.mu is held.
func (h *pubsubs) begin(ep endpoint, backoff sources.Backoff) {
	if h.down[ep] != nil {
		return
	}
	if h.down == nil {
		h.down = map[endpoint]*outage{}
	}
	h.down[ep] = &outage{backoff: backoff}
}

// await returns at once when ep has no outage (nil, nil). Otherwise it
// waits while another member makes an attempt: when that attempt failed
// it returns its error (report it, then await again); when this member's
// turn comes it sleeps the outage's next backoff step and returns the
// outage, which it leads: it subscribes, then calls [outage.settle]. It
// returns ctx's error when ctx ends first.
func (h *pubsubs) await(ctx context.Context, ep endpoint) (*outage, error) {
	for {
		h.mu.Lock()
		o := h.down[ep]
		if o == nil {
			h.mu.Unlock()
			return nil, nil
		}
		if !o.leading {
			o.leading = true
			o.settled = make(chan struct{})
			wait := o.backoff.Next()
			h.mu.Unlock()
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
				return o, nil
			case <-ctx.Done():
				timer.Stop()
				h.settle(ep, o, nil, false)
				return nil, ctx.Err()
			}
		}
		settled, failed := o.settled, o.failed
		h.mu.Unlock()
		select {
		case <-settled:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		h.mu.Lock()
		err := o.err
		again := o.failed > failed
		h.mu.Unlock()
		if again {
			return nil, err
		}
	}
}

// settle ends the attempt of leader o: failed is its error when the
// server could not be reached, and over reports an attempt the server
// answered, which ends the outage. Neither: the leader left.
func (h *pubsubs) settle(ep endpoint, o *outage, failed error, over bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case over:
		if h.down[ep] == o {
			delete(h.down, ep)
		}
	case failed != nil:
		o.failed++
		o.err = failed
	}
	o.leading = false
	close(o.settled)
}

// failure returns why the connection failed, or nil while it works.
func (sh *shared) failure() error {
	select {
	case <-sh.fails:
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return sh.err
	default:
		return nil
	}
}

// leaveTimeout bounds how long a member that leaves waits to send
// UNSUBSCRIBE, behind a SUBSCRIBE in progress. Past it the channel stays
// subscribed, unused, until the connection closes; its messages are
// dropped.
const leaveTimeout = time.Second

// leave removes s. The last member of its channel sends UNSUBSCRIBE; the
// last member of all closes the connection and waits for its reader.
func (s *subscription) leave() {
	sh := s.conn
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	held := sh.lock(ctx)
	sh.hub.mu.Lock()
	sh.mu.Lock()
	delete(s.st.members, s)
	unsub := len(s.st.members) == 0 && sh.chans[s.st.name] == s.st
	if unsub {
		delete(sh.chans, s.st.name)
	}
	sh.members--
	last := sh.members == 0
	gone := last && sh.hub.byEP[sh.ep] == sh
	if gone {
		delete(sh.hub.byEP, sh.ep)
	}
	started := sh.started
	sh.mu.Unlock()
	sh.hub.mu.Unlock()
	if gone { // nothing follows the server now: it may restart without notifications
		sh.d.forgetNotify(sh.ep)
	}
	var err error
	if held && !last && unsub && s.st.sent && sh.failure() == nil {
		err = sh.ps.Unsubscribe(sh.dialing(ctx), s.st.name)
	}
	if held {
		sh.unlock()
	}
	if err != nil { // go-redis may have reconnected quietly: start afresh
		sh.fail(err)
	}
	if last {
		_ = sh.close()
		if started {
			<-sh.done
		}
	}
}

// put replaces the pending message: a burst coalesces into its newest.
func (s *subscription) put(r sources.Result) {
	s.mu.Lock()
	s.pending = &r
	s.mu.Unlock()
}

// take returns the pending message, if any, and clears it.
func (s *subscription) take() (sources.Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		return sources.Result{}, false
	}
	r := *s.pending
	s.pending = nil
	return r, true
}

// failure returns why the shared connection failed, or nil while it runs.
func (s *subscription) failure() error { return s.conn.failure() }

// close ends the membership.
func (s *subscription) close() { s.leave() }

// dialsKey is the context key under which a request of a shared
// connection's PubSub carries it, for the driver's dialer (see
// trackDials).
type dialsKey struct{}

// dialing returns ctx for a request of sh's PubSub: a connection it dials
// is handed to sh, so that closing sh cuts its handshake too.
func (sh *shared) dialing(ctx context.Context) context.Context {
	return context.WithValue(ctx, dialsKey{}, sh)
}

// dialedConn records conn, dialed for sh's PubSub; it closes it at once
// when sh was closed meanwhile.
func (sh *shared) dialedConn(conn net.Conn) {
	sh.mu.Lock()
	cut := sh.cut
	if !cut {
		sh.dialed = append(sh.dialed, conn)
	}
	sh.mu.Unlock()
	if cut {
		_ = conn.Close()
	}
}

// cutDialed closes every connection dialed for sh's PubSub. go-redis
// honors a context's deadline but not its cancellation, and tracks a
// subscription's connection (for Client.Close) only once its handshake
// (HELLO, AUTH, SELECT) is answered: closing the connection is what ends
// a handshake with a server that stopped answering.
func (sh *shared) cutDialed() {
	sh.mu.Lock()
	sh.cut = true
	conns := sh.dialed
	sh.dialed = nil
	sh.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// cut closes the connections dialed for every shared connection (see
// cutDialed); the driver's Close calls it.
func (h *pubsubs) cut() {
	h.mu.Lock()
	all := make([]*shared, 0, len(h.byEP))
	for _, sh := range h.byEP {
		all = append(all, sh)
	}
	h.mu.Unlock()
	for _, sh := range all {
		sh.cutDialed()
	}
}

// trackDials returns the dialer of o (go-redis's own when o has none),
// handing each connection dialed for a shared subscription connection to
// it (see cutDialed).
func trackDials(o goredis.Options) func(ctx context.Context, network, addr string) (net.Conn, error) {
	dial := o.Dialer
	if dial == nil {
		if o.DialTimeout == 0 {
			o.DialTimeout = 5 * time.Second // go-redis's default
		}
		dial = goredis.NewDialer(&o)
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if sh, ok := ctx.Value(dialsKey{}).(*shared); ok && err == nil {
			sh.dialedConn(conn)
		}
		return conn, err
	}
}
