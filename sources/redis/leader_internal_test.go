package redis

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/redistest"
	"github.com/livebind/livebind/sources"
)

// TestOutageLeaderEndsAtItsStep: the watch leading an outage's
// reconnection ends (its only fields unbound) just as its backoff step
// ends. It must leave the lead to the others: a field bound once the
// server is back must report its value. Here the outage's steps are made
// zero, so that the step's timer and the end of the watch are both ready
// when the leader waits (in production: the field unbound as the step
// ends); each trial ends the leader at that point, which leaks the lead
// about one time in two when it is not settled.
func TestOutageLeaderEndsAtItsStep(t *testing.T) {
	s := redistest.Start(t, redistest.WithNotifications())
	drv, err := open(sources.Config{}, Config{Options: &goredis.Options{Addr: s.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	d := drv.(*driver)
	defer func() { _ = d.Close() }()
	ep := endpoint{addr: s.Addr()}
	spec := func(key string) watchKey {
		k, err := d.parseSpec(&sources.Target{Scheme: "redis", Location: key})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	// A first field sees the server go: the outage begins. It leaves.
	s.Cmd("SET", "leader:x", "x")
	x := fixture.NewCursor[sources.Result](10 * time.Second)
	stopX := fixture.Watch(t, d, &sources.Target{Scheme: "redis", Location: "leader:x"}, sources.Result{Missing: true}, x.Add)
	x.Expect(t, "the value", fixture.IsData("x"))
	s.Kill()
	x.Expect(t, "an unreachable error", fixture.IsTypedErr[*Error](sources.ErrUnreachable))
	stopX()
	d.pubsubs.mu.Lock()
	o := d.pubsubs.down[ep]
	if o != nil {
		o.backoff = sources.Backoff{Base: 1, Max: 1} // every step 0
	}
	d.pubsubs.mu.Unlock()
	if o == nil {
		t.Fatal("no outage after the subscription connection failed")
	}

	leaked := 0
	for trial := range 40 {
		k := spec("leader:a" + strconv.Itoa(trial))
		var w *watch
		started := make(chan struct{})
		run := func(ww *watch) { w = ww; close(started); d.followKey(ww) }
		reached := make(chan struct{}, 1)
		// The first field holds the leader's report of its failed attempt
		// until the watch has ended.
		emit1 := func(r sources.Result) {
			if errors.Is(r.Err, sources.ErrUnreachable) {
				<-started
				select {
				case reached <- struct{}{}:
					<-w.Context().Done()
				default:
				}
			}
		}
		stop1, err := d.watches.Subscribe(k, sources.Sub[struct{}]{Last: sources.Result{Missing: true}, Emit: emit1}, run)
		if err != nil {
			t.Fatal(err)
		}
		stop2, err := d.watches.Subscribe(k, sources.Sub[struct{}]{Last: sources.Result{Missing: true}, Emit: func(sources.Result) {}}, run)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-reached:
		case <-time.After(10 * time.Second):
			t.Fatalf("trial %d: the leader reported no failed attempt", trial)
		}
		stopped1 := make(chan struct{})
		go func() { defer close(stopped1); stop1() }() // waits for emit1
		for deadline := time.Now().Add(10 * time.Second); len(w.Values()) != 1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("trial %d: the first field was never removed", trial)
			}
		}
		stop2() // the last field: the watch ends, emit1 returns
		<-stopped1
		d.pubsubs.mu.Lock()
		if d.pubsubs.down[ep] == o && o.leading {
			leaked++
		}
		d.pubsubs.mu.Unlock()
		if leaked > 0 {
			t.Logf("trial %d: the leader's watch ended and the outage is still led", trial)
			break
		}
	}

	// The server comes back: a field bound now must report its value.
	s.Restart()
	s.Cmd("SET", "leader:b", "b")
	b := fixture.NewCursor[sources.Result](5 * time.Second)
	fixture.Watch(t, d, &sources.Target{Scheme: "redis", Location: "leader:b"}, sources.Result{Missing: true}, b.Add)
	b.Expect(t, "the value of a field bound after the server came back", fixture.IsData("b"))
}

// TestMemberEndsMidDial: two channel fields share a new subscription
// connection; the first one's SUBSCRIBE dials (slowly: a dialer that
// answers only when the request ends), the second waits behind it. The
// first field is unbound, which ends its dial. The second field, whose
// server is fine, must not report an error for it (before, it reported
// "context canceled", no sources.ErrUnreachable, another field's end), and must
// receive the messages published once it subscribed again.
func TestMemberEndsMidDial(t *testing.T) {
	s := redistest.Start(t)
	var armed atomic.Bool
	dialing := make(chan struct{}, 1)
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if armed.Load() {
			select {
			case dialing <- struct{}{}:
			default:
			}
			<-ctx.Done()
			return nil, ctx.Err()
		}
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}
	drv, err := open(sources.Config{}, Config{Options: &goredis.Options{Addr: s.Addr(), Dialer: dialer}})
	if err != nil {
		t.Fatal(err)
	}
	d := drv.(*driver)
	defer func() { _ = d.Close() }()
	ep := endpoint{addr: s.Addr()}

	armed.Store(true)
	a := fixture.NewCursor[sources.Result](10 * time.Second)
	stopA := fixture.Watch(t, d, &sources.Target{Scheme: "redis", Location: "channel:mid-a"}, sources.Result{Missing: true}, a.Add)
	<-dialing
	b := fixture.NewCursor[sources.Result](10 * time.Second)
	fixture.Watch(t, d, &sources.Target{Scheme: "redis", Location: "channel:mid-b"}, sources.Result{Missing: true}, b.Add)
	for deadline := time.Now().Add(10 * time.Second); ; {
		d.pubsubs.mu.Lock()
		members := 0
		if sh := d.pubsubs.byEP[ep]; sh != nil {
			sh.mu.Lock()
			members = sh.members
			sh.mu.Unlock()
		}
		d.pubsubs.mu.Unlock()
		if members == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second field never joined the connection")
		}
		time.Sleep(time.Millisecond)
	}
	stopA() // ends its dial
	armed.Store(false)
	for i := 0; ; i++ {
		s.Cmd("PUBLISH", "mid-b", "m"+strconv.Itoa(i))
		if slices.ContainsFunc(b.All(), func(r sources.Result) bool { return r.Err == nil && !r.Missing }) {
			break
		}
		if i == 200 {
			t.Fatalf("the second field never received a message: %v", b.All())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range b.All() {
		if r.Err != nil {
			t.Errorf("the second field reported %v when the first one was unbound", r.Err)
		}
	}
}
