package redis_test

import (
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/redistest"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
)

// manyFields are 20 key fields and 2 channel fields of one server and
// database, named from ${P}.
type manyFields struct {
	K00 string `live:"redis=${P}:00; format=text; default=none"`
	K01 string `live:"redis=${P}:01; format=text; default=none"`
	K02 string `live:"redis=${P}:02; format=text; default=none"`
	K03 string `live:"redis=${P}:03; format=text; default=none"`
	K04 string `live:"redis=${P}:04; format=text; default=none"`
	K05 string `live:"redis=${P}:05; format=text; default=none"`
	K06 string `live:"redis=${P}:06; format=text; default=none"`
	K07 string `live:"redis=${P}:07; format=text; default=none"`
	K08 string `live:"redis=${P}:08; format=text; default=none"`
	K09 string `live:"redis=${P}:09; format=text; default=none"`
	K10 string `live:"redis=${P}:10; format=text; default=none"`
	K11 string `live:"redis=${P}:11; format=text; default=none"`
	K12 string `live:"redis=${P}:12; format=text; default=none"`
	K13 string `live:"redis=${P}:13; format=text; default=none"`
	K14 string `live:"redis=${P}:14; format=text; default=none"`
	K15 string `live:"redis=${P}:15; format=text; default=none"`
	K16 string `live:"redis=${P}:16; format=text; default=none"`
	K17 string `live:"redis=${P}:17; format=text; default=none"`
	K18 string `live:"redis=${P}:18; format=text; default=none"`
	K19 string `live:"redis=${P}:19; format=text; default=none"`
	C0  string `live:"redis=channel:${P}-c0; format=text; default=none"`
	C1  string `live:"redis=channel:${P}-c1; format=text; default=none"`
}

// manyKeys and manyChannels count manyFields' keys and channels.
const manyKeys, manyChannels = 20, 2

// TestSharedSubscription: one Binding's 20 keys and 2 channels on one
// server share ONE subscription connection (CLIENT LIST), subscribed to
// 22 channels; every key and channel still updates. After a restart of
// the server (empty: no persistence) every key is read again (each field
// gets a Removed update: a key missing after the restart sends no
// notification, so only a re-read can see it), the fields share one connection again, and
// every key updates again. Closing the Binding leaves no subscription
// connection.
func TestSharedSubscription(t *testing.T) {
	s := redistest.Start(t, redistest.WithNotifications())
	p := fresh("many")
	for i := range manyKeys {
		cmd(t, s, "SET", manyKey(p, i), "start")
	}
	b, rec := bindtest.Bind[manyFields](t, "redis", config(s), livebind.WithLookupEnv(fixture.NewEnv("P", p).Lookup))
	require.Equal(t, repeat("start", manyKeys), keyValues(b.Get()))
	subscribed(t, s, manyKeys+manyChannels)

	setAll := func(v string) {
		for i := range manyKeys {
			cmd(t, s, "SET", manyKey(p, i), v)
		}
		for i := range manyChannels {
			publish(t, s, p+"-c"+strconv.Itoa(i), v)
		}
		require.Eventually(t, func() bool {
			c := b.Get()
			return reflect.DeepEqual(keyValues(c), repeat(v, manyKeys)) && c.C0 == v && c.C1 == v
		}, settle, 10*time.Millisecond, "every key and channel field becomes %q", v)
	}
	setAll("one")
	subscribed(t, s, manyKeys+manyChannels)

	from := rec.Len()
	s.Restart()
	require.Eventually(t, func() bool {
		removed := map[string]bool{}
		for _, u := range rec.All()[from:] {
			if u.Kind == livebind.Removed {
				removed[u.Field] = true
			}
		}
		return len(removed) == manyKeys
	}, settle, 10*time.Millisecond, "every key read again after the restart: a Removed update each")
	subscribed(t, s, manyKeys+manyChannels)
	setAll("two")

	require.NoError(t, b.Close())
	require.Eventually(t, func() bool { return len(subscribers(t, s)) == 0 }, settle, 10*time.Millisecond,
		"no subscription connection after Close: %v", subscribers(t, s))
}

// TestSharedSubscriptionMembers: watches join and leave the shared
// connection. A user whose ACL refuses one channel gets an ErrAuth error
// for that channel only; a key and an allowed channel beside it keep
// working over one connection. Two watches of one channel with different
// maxbytes= share its subscription: each gets every message, and the
// channel stays subscribed until the second one stops. Then the key goes
// on alone over the same connection; closing the driver closes it.
func TestSharedSubscriptionMembers(t *testing.T) {
	s, key := startedKey(t, "members:", "one")
	cmd(t, s, "ACL", "SETUSER", "chans", "on", ">chans-secret", "~*", "&__keyspace@*", "&ok-*", "+@all")
	ok, no := fresh("ok-"), fresh("no-")
	d := open(t, lbredis.Config{Options: &goredis.Options{Addr: s.Addr(), Username: "chans", Password: "chans-secret"}, MaxBackoff: 200 * time.Millisecond})

	keyLog := watch(t, d, target(key, nil), d.Read(ctx(t), target(key, nil)))
	okLog, stopOK := watchStop(t, d, target("channel:"+ok, nil))
	smallLog, stopSmall := watchStop(t, d, target("channel:"+ok, map[string]string{"maxbytes": "3"}))
	noTarget := target("channel:"+no, nil)
	noLog := watch(t, d, noTarget, d.Read(ctx(t), noTarget))
	e := noLog.Expect(t, "the refused channel's error", isErr(sources.ErrAuth))
	require.Contains(t, e.Err.Error(), no)
	require.NotContains(t, e.Err.Error(), "chans-secret")

	publish(t, s, ok, "hello")
	okLog.Expect(t, "a message on the allowed channel", fixture.IsData("hello"))
	smallLog.Expect(t, "the same message, too large for maxbytes=3", isErr(sources.ErrTooLarge))
	cmd(t, s, "SET", key, "two")
	keyLog.Expect(t, "the key's change", fixture.IsData("two"))
	subscribed(t, s, 2)

	stopOK()
	publish(t, s, ok, "hi")
	smallLog.Expect(t, "a message after the other watch of the channel stopped", fixture.IsData("hi"))
	stopSmall()
	subscribed(t, s, 1) // the key's channel alone, on the same connection
	cmd(t, s, "SET", key, "three")
	keyLog.Expect(t, "a change after the channel left", fixture.IsData("three"))
	fixture.ClosePrompt(t, d)
	require.Eventually(t, func() bool { return len(subscribers(t, s)) == 0 }, settle, 10*time.Millisecond, "no subscription connection after Close")
}

// watchStop starts a watch of tg from a first Read and returns a cursor
// over its results and its stop (also called when the test ends).
func watchStop(t *testing.T, d sources.Driver, tg *sources.Target) (*fixture.Cursor[sources.Result], func()) {
	t.Helper()
	log := fixture.NewCursor[sources.Result](settle)
	stop, err := d.Watch(tg, d.Read(ctx(t), tg), log.Add)
	require.NoError(t, err)
	t.Cleanup(stop)
	return log, stop
}

// manyKey is the i-th key of manyFields with prefix p.
func manyKey(p string, i int) string { return p + ":" + strconv.Itoa(i/10) + strconv.Itoa(i%10) }

// keyValues returns the key fields of c, in order.
func keyValues(c *manyFields) []string {
	v := reflect.ValueOf(c).Elem()
	out := make([]string, 0, manyKeys)
	for i := range manyKeys {
		out = append(out, v.Field(i).String())
	}
	return out
}

func repeat(v string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// subscribed waits until the server counts channels subscriptions in
// all, then checks that they are on exactly one connection.
func subscribed(t *testing.T, s *redistest.Server, channels int) {
	t.Helper()
	var subs []map[string]string
	require.Eventually(t, func() bool {
		subs = subscribers(t, s)
		n := 0
		for _, c := range subs {
			k, _ := strconv.Atoi(c["sub"])
			n += k
		}
		return n == channels
	}, settle, 10*time.Millisecond, "%d channels subscribed", channels)
	if len(subs) != 1 {
		var conns []string
		for _, c := range subs {
			conns = append(conns, c["addr"]+" sub="+c["sub"])
		}
		t.Fatalf("%d subscription connections, want 1: %v", len(subs), conns)
	}
}

// subscribers returns the CLIENT LIST entries (field=value) of the
// connections that subscribe: cmd is a subscribe command or they follow a
// channel, a pattern or a shard channel.
func subscribers(t *testing.T, s *redistest.Server) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(cmd(t, s, "CLIENT", "LIST")), "\n") {
		c := map[string]string{}
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			c[k] = v
		}
		switch {
		case c["cmd"] == "subscribe", c["cmd"] == "ssubscribe", c["cmd"] == "psubscribe",
			c["sub"] != "0" && c["sub"] != "", c["psub"] != "0" && c["psub"] != "", c["ssub"] != "0" && c["ssub"] != "":
			out = append(out, c)
		}
	}
	return out
}

// TestSharedSubscriptionStalled: channels and a key watched on a server
// that accepts connections and never answers, so that the shared
// subscription connection hangs in its handshake (go-redis tracks it for
// Client.Close only once answered): Close must still be prompt.
func TestSharedSubscriptionStalled(t *testing.T) {
	addr, release := fixture.SilentServer(t)
	defer release()
	d := open(t, lbredis.Config{Options: &goredis.Options{Addr: addr}})
	for _, loc := range []string{"channel:a", "channel:b", "k"} {
		watch(t, d, target(loc, nil), sources.Result{Missing: true})
	}
	time.Sleep(300 * time.Millisecond) // the first SUBSCRIBE waits for its handshake
	fixture.ClosePrompt(t, d)
}

// TestSharedSubscriptionChurn: watches of a few keys and channels start
// and stop concurrently, 20 rounds of 8, on one driver (run with -race).
// Once all stopped no subscription connection is left, and a new watch
// still gets its messages.
func TestSharedSubscriptionChurn(t *testing.T) {
	s := redistest.Start(t, redistest.WithNotifications())
	d := open(t, config(s))
	p := fresh("churn")
	for range 20 {
		var wg sync.WaitGroup
		for i := range 8 {
			loc := p + ":" + strconv.Itoa(i%3)
			if i%2 == 1 {
				loc = "channel:" + p + "-" + strconv.Itoa(i%3)
			}
			wg.Go(func() {
				stop, err := d.Watch(target(loc, nil), sources.Result{Missing: true}, func(sources.Result) {})
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Duration(i) * time.Millisecond)
				stop()
			})
		}
		wg.Wait()
	}
	require.Eventually(t, func() bool { return len(subscribers(t, s)) == 0 }, settle, 10*time.Millisecond, "no subscription connection once every watch stopped")
	log, _ := watchStop(t, d, target("channel:"+p+"-last", nil))
	publish(t, s, p+"-last", "after")
	log.Expect(t, "a message after the churn", fixture.IsData("after"))
}

// TestSharedSubscriptionSilent: the shared connection goes silent (a
// proxy stops forwarding without closing anything). The health PING
// (every 100 ms here) goes unanswered, so the key's field gets an
// ErrUnreachable error; once the proxy forwards again, the key is read
// again in full: a change made meanwhile is reported.
func TestSharedSubscriptionSilent(t *testing.T) {
	s, key := startedKey(t, "silent:", "one")
	var frozen atomic.Bool
	addr, _ := fixture.TCPServer(t, func(c net.Conn) { freezingPipe(c, s.Addr(), &frozen) })
	t.Cleanup(func() { frozen.Store(false) }) // before the server's stop waits for the pipes
	d := open(t, lbredis.Config{Options: &goredis.Options{Addr: addr}, MaxBackoff: 200 * time.Millisecond, HealthInterval: 100 * time.Millisecond})
	tg := &sources.Target{Scheme: "redis", Location: key, Timeout: 500 * time.Millisecond}
	log := watch(t, d, tg, d.Read(ctx(t), tg))
	subscribed(t, s, 1)

	frozen.Store(true)
	log.Expect(t, "an unreachable error once the PING goes unanswered", isErr(sources.ErrUnreachable))
	cmd(t, s, "SET", key, "two")
	frozen.Store(false)
	log.Expect(t, "the change made while silent", fixture.IsData("two"))
	subscribed(t, s, 1)
}

// freezingPipe forwards between c and a new connection to upstream; while
// frozen is set (at most 10 s) it holds what it read instead.
func freezingPipe(c net.Conn, upstream string, frozen *atomic.Bool) {
	up, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	done := make(chan struct{}, 2)
	forward := func(dst, src net.Conn) {
		defer func() {
			_ = dst.Close()
			_ = src.Close()
			done <- struct{}{}
		}()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			for i := 0; frozen.Load() && i < 2000; i++ {
				time.Sleep(5 * time.Millisecond)
			}
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go forward(up, c)
	go forward(c, up)
	<-done
	<-done
}

// TestUserClientStalled: as TestSharedSubscriptionStalled, with the
// user's own client, which the driver does not close. Channels: Close
// must be prompt whatever the client's timeouts (the subscription
// connection is the driver's own; it took 4.7 s when it came from the
// user's client). A key is read through the user's client, whose
// handshake with a stalled server ends only at its ReadTimeout: Close
// waits for it, so with a ReadTimeout of 300 ms Close is prompt too.
func TestUserClientStalled(t *testing.T) {
	addr, release := fixture.SilentServer(t)
	defer release()
	for _, c := range []struct {
		locs []string
		opts goredis.Options
	}{
		{[]string{"channel:a", "channel:b"}, goredis.Options{Addr: addr}},
		{[]string{"channel:a", "k"}, goredis.Options{Addr: addr, ReadTimeout: 300 * time.Millisecond}},
	} {
		t.Run(strings.Join(c.locs, ","), func(t *testing.T) {
			client := goredis.NewClient(&c.opts)
			defer client.Close()
			d := open(t, lbredis.Config{Client: client})
			for _, loc := range c.locs {
				watch(t, d, target(loc, nil), sources.Result{Missing: true})
			}
			time.Sleep(300 * time.Millisecond) // the requests wait for their handshake
			fixture.ClosePrompt(t, d)
		})
	}
}
