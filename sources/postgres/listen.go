package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/livebind/livebind/sources"
)

// hub is the driver's one LISTEN connection and the wake-ups it hands out.
// A watch takes the channel of its (channel, key) topic before each read
// and waits on it; a notification closes the channel of its payload's
// topic (an empty payload every topic of its channel). Whenever the LISTEN
// connection is lost, and again once it listens anew, every topic is
// woken: each watch reads its row again, so a change made while no one
// listened is not missed.
type hub struct {
	d *driver

	mu        sync.Mutex
	topics    map[topicKey]chan struct{}
	wanted    map[string]bool // channels some watch needs
	listening map[string]bool // channels LISTENed on the current connection
	down      bool            // the last connection attempt failed
	changed   chan struct{}   // closed and replaced when listening or down changes
	cancel    context.CancelFunc
	stopWait  context.CancelFunc // interrupts WaitForNotification to LISTEN a new channel
	done      chan struct{}
	started   bool

	afterListen func() // tests: runs in serve after its LISTENs, before it waits
}

type topicKey struct{ channel, key string }

func (h *hub) init(d *driver) {
	h.d = d
	h.topics = map[topicKey]chan struct{}{}
	h.wanted = map[string]bool{}
	h.listening = map[string]bool{}
	h.changed = make(chan struct{})
	h.done = make(chan struct{})
}

// topic returns the channel closed at the next wake-up of (channel, key).
func (h *hub) topic(channel, key string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := topicKey{channel, key}
	c := h.topics[k]
	if c == nil {
		c = make(chan struct{})
		h.topics[k] = c
	}
	return c
}

// wake wakes the watches of key on channel, or of every key on channel
// when key is empty, or of everything when channel is empty too (h.mu
// held).
func (h *hub) wake(channel, key string) {
	for k, c := range h.topics {
		if (channel == "" || k.channel == channel) && (key == "" || k.key == key) {
			close(c)
			delete(h.topics, k)
		}
	}
}

func (h *hub) signal() { // h.mu held
	close(h.changed)
	h.changed = make(chan struct{})
}

// listen makes sure channel is LISTENed, starting the listener with the
// first watch, and waits until it is, or until the listener reports that
// it cannot connect, or for at most DefaultTimeout (the listener's
// reconnection wakes every watch anyway).
func (h *hub) listen(ctx context.Context, channel string) {
	h.want(channel)
	timer := time.NewTimer(DefaultTimeout)
	defer timer.Stop()
	for {
		h.mu.Lock()
		ok, down, changed := h.listening[channel], h.down, h.changed
		h.mu.Unlock()
		if ok || down {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		case <-timer.C:
			return
		}
	}
}

// want adds channel to the wanted ones, starting the listener with the
// first, and interrupts its wait so that it LISTENs.
func (h *hub) want(channel string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		h.started = true
		var lctx context.Context
		lctx, h.cancel = context.WithCancel(h.d.watches.Context())
		go h.run(lctx)
	}
	if !h.wanted[channel] {
		h.wanted[channel] = true
		if h.stopWait != nil {
			h.stopWait()
		}
	}
}

// run keeps one LISTEN connection up until ctx ends.
func (h *hub) run(ctx context.Context) {
	defer close(h.done)
	// A refused login (or another failure that lasts) waits on the
	// permanent schedule like a read's: failed logins every second would
	// fill the server's log and trip lockouts.
	retry := sources.NewRetry(transientBase, permanentBase, h.d.maxBackoff).CapTransient(transientMax)
	for ctx.Err() == nil {
		dctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
		conn, err := h.d.dial(dctx)
		cancel()
		if err != nil {
			e := classify(spec{query: "-", key: "LISTEN"}, err, h.d.lastPassword())
			h.d.logger.Debug("postgres: LISTEN connection failed", "err", e.Err)
			h.mu.Lock()
			h.down = true
			h.signal()
			h.wake("", "")
			h.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(retry.Next(e.permanent())):
			}
			continue
		}
		retry.Reset()
		h.serve(ctx, conn)
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = conn.Close(cctx)
		cancel()
		h.mu.Lock()
		clear(h.listening)
		h.signal()
		h.wake("", "") // lost: every watch reads (and reports a failure, or the current row)
		h.mu.Unlock()
	}
}

// serve LISTENs on every wanted channel and hands out notifications until
// the connection fails or ctx ends.
func (h *hub) serve(ctx context.Context, conn *pgx.Conn) {
	first := true
	for ctx.Err() == nil {
		h.mu.Lock()
		var todo []string
		for ch := range h.wanted {
			if !h.listening[ch] {
				todo = append(todo, ch)
			}
		}
		h.mu.Unlock()
		for _, ch := range todo {
			lctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
			_, err := conn.Exec(lctx, "LISTEN "+pgx.Identifier{ch}.Sanitize())
			cancel()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.listening[ch] = true
			h.signal()
			h.mu.Unlock()
		}
		if h.afterListen != nil {
			h.afterListen()
		}
		h.mu.Lock()
		h.down = false
		if first {
			// (Re)connected: every watch reads again, since changes made
			// while nothing listened sent no notification we could see.
			h.wake("", "")
			h.signal()
			first = false
		}
		if h.unlistened() {
			// Wanted while the LISTENs above ran, when there was no wait
			// for want to interrupt: LISTEN it now, not after the next
			// notification.
			h.mu.Unlock()
			continue
		}
		wctx, stop := context.WithTimeout(ctx, h.d.health)
		h.stopWait = stop
		h.mu.Unlock()
		n, err := conn.WaitForNotification(wctx)
		h.mu.Lock()
		h.stopWait = nil
		h.mu.Unlock()
		interrupted := wctx.Err() != nil && ctx.Err() == nil
		idle := errors.Is(wctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		stop()
		if err != nil {
			if !interrupted || conn.IsClosed() {
				return
			}
			if idle {
				// Silent for an interval: a dead peer (or a hung backend)
				// behind a TCP connection that stays up would otherwise
				// never be noticed, and every notification lost. A
				// notification that comes during the ping is kept by pgx
				// for the next wait.
				pctx, cancel := context.WithTimeout(ctx, h.d.health)
				err := conn.Ping(pctx)
				cancel()
				if err != nil {
					h.d.logger.Debug("postgres: LISTEN connection did not answer a ping", "err", classify(spec{query: "-", key: "LISTEN"}, err, h.d.lastPassword()).Err)
					return
				}
			}
			continue // a new channel to LISTEN, or the connection is alive
		}
		h.mu.Lock()
		h.wake(n.Channel, n.Payload)
		h.mu.Unlock()
	}
}

// unlistened reports a wanted channel not LISTENed yet (h.mu held).
func (h *hub) unlistened() bool {
	for ch := range h.wanted {
		if !h.listening[ch] {
			return true
		}
	}
	return false
}

// close stops the listener and waits for it.
func (h *hub) close() {
	h.mu.Lock()
	started, cancel := h.started, h.cancel
	h.mu.Unlock()
	if started {
		cancel()
		<-h.done
	}
}
