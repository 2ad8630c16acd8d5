package redis_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/redistest"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
)

// TestKeyCutSubscription: the subscription's connection is cut (the proxy
// drops it and refuses for a while) and the key changes meanwhile. The
// watch must report an ErrUnreachable error (last value kept), then, once
// the network is back, the change made while it was cut: a full re-read on
// reconnect.
func TestKeyCutSubscription(t *testing.T) {
	s, key := startedKey(t, "cut:", "one")
	p := fixture.NewProxy(t, s.Addr())
	d := open(t, lbredis.Config{Options: &goredis.Options{Addr: p.Addr}, MaxBackoff: 200 * time.Millisecond})
	tg := target(key, nil)
	first := d.Read(ctx(t), tg)
	require.Equal(t, "one", string(first.Data))
	log := watch(t, d, tg, first)

	p.Cut()
	log.Expect(t, "an unreachable error", isErr(sources.ErrUnreachable))
	cmd(t, s, "SET", key, "two") // while the driver cannot see the server
	p.Resume()
	log.Expect(t, "the change made while cut", fixture.IsData("two"))

	cmd(t, s, "SET", key, "three") // and notifications flow again
	log.Expect(t, "a later change", fixture.IsData("three"))
	fixture.ClosePrompt(t, d)
}

// TestKeyServerRestart: the server is killed (a crash: every connection
// cut mid-stream) and started again, empty (no persistence). The watch
// must report an ErrUnreachable error while it is down, then what the
// restarted server holds: Missing, and a value written after the restart.
func TestKeyServerRestart(t *testing.T) {
	s, key := startedKey(t, "restart:", "one")
	log := watchKey(t, config(s), key)

	s.Kill()
	log.Expect(t, "an unreachable error", isErr(sources.ErrUnreachable))
	s.Restart()
	log.Expect(t, "the empty server's answer", fixture.IsMissing)
	cmd(t, s, "SET", key, "two")
	log.Expect(t, "a value written after the restart", fixture.IsData("two"))
}

// TestKeyNotifyEnable: on a server with notifications off, notify=enable
// makes the driver turn them on, and on again after a restart reset them.
func TestKeyNotifyEnable(t *testing.T) {
	s := redistest.Start(t)
	key := fresh("enable:")
	d := open(t, config(s))
	tg := target(key, map[string]string{"notify": "enable"})
	require.True(t, d.Read(ctx(t), tg).Missing)
	log := watch(t, d, tg, sources.Result{Missing: true})
	cmd(t, s, "SET", key, "one")
	log.Expect(t, "a change seen through the notifications it turned on", fixture.IsData("one"))
	require.Contains(t, cmd(t, s, "CONFIG", "GET", "notify-keyspace-events"), "K")

	s.Restart() // notifications off again, the key gone
	log.Expect(t, "the restarted server's answer", fixture.IsMissing)
	cmd(t, s, "SET", key, "two")
	log.Expect(t, "a change after the restart", fixture.IsData("two"))
}

// TestKeyNotificationsOff: with notifications off and no notify=enable, a
// Read is an ErrNotificationsOff error naming the fixes; with poll= the
// key is polled instead. A user who may not run CONFIG gets the same error
// with notify=enable, naming the refused CONFIG, and poll= works for it
// too; without notify=enable it cannot check and trusts the server.
func TestKeyNotificationsOff(t *testing.T) {
	s := redistest.Start(t, redistest.WithLimitedUser("app", "app-secret"))
	key := fresh("off:")
	cmd(t, s, "SET", key, "one")

	d := open(t, config(s))
	r := d.Read(ctx(t), target(key, nil))
	require.ErrorIs(t, r.Err, lbredis.ErrNotificationsOff)
	for _, fix := range []string{"notify-keyspace-events", "notify=enable", "poll="} {
		require.ErrorContains(t, r.Err, fix)
	}

	polled := &sources.Target{Scheme: "redis", Location: key, Poll: 50 * time.Millisecond}
	first := d.Read(ctx(t), polled)
	require.Equal(t, "one", string(first.Data))
	log := watch(t, d, polled, first)
	cmd(t, s, "SET", key, "two")
	log.Expect(t, "a polled change", fixture.IsData("two"))

	limited := open(t, lbredis.Config{Options: &goredis.Options{Addr: s.Addr(), Username: "app", Password: "app-secret"}})
	r = limited.Read(ctx(t), target(key, map[string]string{"notify": "enable"}))
	require.ErrorIs(t, r.Err, lbredis.ErrNotificationsOff)
	require.ErrorContains(t, r.Err, "CONFIG GET was refused")
	require.ErrorContains(t, r.Err, "+config|set")
	require.NotContains(t, r.Err.Error(), "app-secret")
	// Without notify=enable the driver cannot check, and trusts the server.
	require.Equal(t, "two", string(limited.Read(ctx(t), target(key, nil)).Data))
	polled = &sources.Target{Scheme: "redis", Location: key, Poll: 50 * time.Millisecond, Params: map[string]string{"notify": "enable"}}
	require.Equal(t, "two", string(limited.Read(ctx(t), polled).Data))
	require.Equal(t, "notify-keyspace-events\n", cmd(t, s, "CONFIG", "GET", "notify-keyspace-events"), "nothing changed the server")
}

// TestAuthFailure: a wrong password is an ErrAuth error without the
// password, retried slowly (PermanentBackoff), not hot: at most 2
// connection attempts in 1.5 s. Once the server accepts the password, a
// driver with a short MaxBackoff recovers.
func TestAuthFailure(t *testing.T) {
	const good, wrong = "good-secret", "wrong-secret"
	s, key := startedKey(t, "auth:", "one", redistest.WithPassword(good))
	p := fixture.NewProxy(t, s.Addr())

	d := open(t, lbredis.Config{Options: &goredis.Options{Addr: p.Addr, Password: wrong}})
	tg := target(key, nil)
	fixture.RefusedSlowly(t, d, tg, p, sources.ErrAuth, wrong)

	log := watchKey(t, lbredis.Config{Options: &goredis.Options{Addr: s.Addr(), Password: wrong}, MaxBackoff: 200 * time.Millisecond}, key)
	cmd(t, s, "CONFIG", "SET", "requirepass", wrong) // the admin fixes it
	log.Expect(t, "the value once the password is accepted", fixture.IsData("one"))
}

// TestUnreachable: a server that is not there is an ErrUnreachable error
// from Read (so Bind fails); a watch started meanwhile reports it and
// recovers once the server comes up. Close is prompt while it retries.
func TestUnreachable(t *testing.T) {
	s := redistest.Start(t, redistest.WithNotifications())
	s.Stop()
	d := open(t, config(s))
	tg := target(fresh("down:"), nil)
	r := d.Read(ctx(t), tg)
	require.ErrorIs(t, r.Err, sources.ErrUnreachable)
	require.Contains(t, r.Err.Error(), s.Addr())
	log := watch(t, d, tg, r)
	s.Restart()
	log.Expect(t, "the key's state once the server is up", fixture.IsMissing)
	s.Stop()
	log.Expect(t, "the error once it is down again", isErr(sources.ErrUnreachable))
	fixture.ClosePrompt(t, d)
}

// TestChannel: a channel has no state: Read is Missing until a watch has
// received a message. Each message is a document; one over maxbytes= is an
// ErrTooLarge error that keeps the last good message as Read's answer; a
// cut subscription is an ErrUnreachable error, after which the last good
// message is reported again, and later messages arrive.
func TestChannel(t *testing.T) {
	s := redistest.Start(t)
	p := fixture.NewProxy(t, s.Addr())
	name := fresh("chan")
	d := open(t, lbredis.Config{Options: &goredis.Options{Addr: p.Addr}, MaxBackoff: 200 * time.Millisecond})
	tg := target("channel:"+name, map[string]string{"maxbytes": "16"})
	first := d.Read(ctx(t), tg)
	require.True(t, first.Missing, "%+v", first)
	log := watch(t, d, tg, first)
	publish(t, s, name, "one")
	log.Expect(t, "a message", fixture.IsData("one"))
	require.Equal(t, "one", string(d.Read(ctx(t), tg).Data))

	publish(t, s, name, strings.Repeat("x", 17))
	log.Expect(t, "a too-large error", isErr(sources.ErrTooLarge))
	require.Equal(t, "one", string(d.Read(ctx(t), tg).Data), "the last good message stays")
	publish(t, s, name, "two")
	log.Expect(t, "the next message", fixture.IsData("two"))

	p.Cut()
	log.Expect(t, "an unreachable error", isErr(sources.ErrUnreachable))
	p.Resume()
	log.Expect(t, "the last message again", fixture.IsData("two"))
	publish(t, s, name, "three")
	log.Expect(t, "a message after the cut", fixture.IsData("three"))
	fixture.ClosePrompt(t, d)
}

// publish publishes msg on channel until a subscriber receives it (the
// driver subscribes asynchronously), at most 100 times.
func publish(t *testing.T, s *redistest.Server, channel, msg string) {
	t.Helper()
	for range 100 {
		if n, _ := strconv.Atoi(cmd(t, s, "PUBLISH", channel, msg)); n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no subscriber on %s", channel)
}

// TestKeyWrongType: a key that comes to hold a hash is an ErrWrongType
// error that keeps the last good value; a string again is reported.
func TestKeyWrongType(t *testing.T) {
	s, key := startedKey(t, "type:", "one")
	log := watchKey(t, config(s), key)
	// RENAME notifies the key (a generic event); an HSET on it would not,
	// hash events (h) being outside the K$gx the driver asks for.
	cmd(t, s, "HSET", key+":tmp", "field", "value")
	cmd(t, s, "RENAME", key+":tmp", key)
	log.Expect(t, "a wrong-type error", isErr(lbredis.ErrWrongType))
	cmd(t, s, "DEL", key)
	cmd(t, s, "SET", key, "two")
	log.Expect(t, "the string again", fixture.IsData("two"))
}

// TestNotifyCheckedAfterIdleRestart: a key field finds notifications on
// and is unbound, so the endpoint's subscription connection closes; the
// server then restarts with notifications off while no connection is
// open. A key field bound afterwards must report ErrNotificationsOff (its
// changes would never arrive): nothing tells the driver that what the
// first field found still holds.
func TestNotifyCheckedAfterIdleRestart(t *testing.T) {
	s, first := startedKey(t, "renotify:", "one")
	d := open(t, config(s))
	tg := target(first, nil)
	log := fixture.NewCursor[sources.Result](settle)
	stop := fixture.Watch(t, d, tg, d.Read(ctx(t), tg), log.Add)
	cmd(t, s, "SET", first, "two")
	log.Expect(t, "the first field's change", fixture.IsData("two"))
	stop() // the last member: the subscription connection closes

	s.Kill()
	s.Restart()
	cmd(t, s, "CONFIG", "SET", "notify-keyspace-events", "") // restarted without them
	second := fresh("renotify:")
	cmd(t, s, "SET", second, "a")
	tg2 := target(second, nil)
	if r := d.Read(ctx(t), tg2); !isErr(lbredis.ErrNotificationsOff)(r) {
		t.Errorf("Read after the restart: %+v; want ErrNotificationsOff", r)
	}
	log2 := watch(t, d, tg2, sources.Result{Missing: true})
	defer func() { t.Logf("second field: %v", log2.All()) }()
	r := log2.Expect(t, "the watch's first observation", func(sources.Result) bool { return true })
	if isErr(lbredis.ErrNotificationsOff)(r) {
		return
	}
	cmd(t, s, "SET", second, "b") // the watch subscribed and read "a": its changes must arrive
	log2.Expect(t, "ErrNotificationsOff or the change", func(r sources.Result) bool {
		return isErr(lbredis.ErrNotificationsOff)(r) || fixture.IsData("b")(r)
	})
}

// outageFields is how many key fields share the subscription connection
// in the outage test and benchmark.
const outageFields = 20

// outageRig is a driver watching outageFields keys of one server through
// a proxy that can cut the network between them.
type outageRig struct {
	d    sources.Driver
	s    *redistest.Server
	p    *fixture.Proxy
	keys []string
	logs []*fixture.Cursor[sources.Result]
}

// newOutageRig starts the server, the proxy and a driver with the default
// backoffs, and watches outageFields keys holding "start".
func newOutageRig(tb testing.TB) *outageRig {
	tb.Helper()
	r := &outageRig{s: redistest.Start(tb, redistest.WithNotifications())}
	r.p = fixture.NewProxy(tb, r.s.Addr())
	d := fixture.OpenDriver(tb, "redis", lbredis.Config{Options: &goredis.Options{Addr: r.p.Addr}})
	r.d = d
	prefix := fresh("outage")
	for i := range outageFields {
		key := prefix + ":" + strconv.Itoa(i)
		r.s.Cmd("SET", key, "start")
		tg := target(key, nil)
		r.keys = append(r.keys, key)
		r.logs = append(r.logs, fixture.WatchCursor(tb, d, tg, d.Read(ctx(tb), tg), settle))
	}
	r.setAll(tb, "ready")
	return r
}

// setAll writes v to every key and waits until every field reported it.
func (r *outageRig) setAll(tb testing.TB, v string) {
	tb.Helper()
	for _, k := range r.keys {
		r.s.Cmd("SET", k, v)
	}
	r.expectAll(tb, "the value "+v, fixture.IsData(v))
}

func (r *outageRig) expectAll(tb testing.TB, what string, ok func(sources.Result) bool) {
	tb.Helper()
	for i, log := range r.logs {
		log.Expect(tb, r.keys[i]+": "+what, ok)
	}
}

// outage is what one outage cost.
type outage struct {
	failed    time.Duration // from the fault until every field reported ErrUnreachable
	attempts  int           // connections the proxy accepted (and closed) meanwhile
	recovered time.Duration // from the server's return until every field reported what it holds
	after     int           // connections the proxy accepted meanwhile
}

// fault is a way for the server to go away and come back.
type fault struct {
	down, up func()
	during   func()                    // while down, or nil
	want     func(sources.Result) bool // what every field reports once it is back
}

// cutFault cuts the network between the driver and the server and writes
// v to every key meanwhile.
func (r *outageRig) cutFault(v string) fault {
	return fault{down: r.p.Cut, up: r.p.Resume, want: fixture.IsData(v), during: func() {
		for _, k := range r.keys {
			r.s.Cmd("SET", k, v)
		}
	}}
}

// restartFault kills the server and starts it again, empty: every key is
// missing then.
func (r *outageRig) restartFault() fault {
	return fault{down: r.s.Kill, up: r.s.Restart, want: fixture.IsMissing}
}

// outage brings f about for length and measures the outage.
func (r *outageRig) outage(tb testing.TB, length time.Duration, f fault) outage {
	tb.Helper()
	var o outage
	start, before := time.Now(), r.p.Accepted()
	f.down()
	r.expectAll(tb, "an unreachable error", isErr(sources.ErrUnreachable))
	o.failed = time.Since(start)
	if f.during != nil {
		f.during()
	}
	time.Sleep(length - time.Since(start))
	o.attempts = r.p.Accepted() - before
	f.up()
	back := time.Now()
	r.expectAll(tb, "the server's state once back", f.want)
	o.recovered = time.Since(back)
	o.after = r.p.Accepted() - before - o.attempts
	return o
}

// TestOutageOneReconnect: 20 key fields share one subscription connection;
// the network to the server is cut for 3 s while every key changes. Every
// field must report an ErrUnreachable error, then the value written
// meanwhile once the network is back. The fields reconnect together: one
// connection attempt per backoff step (at most 12 in 3 s with steps from
// 100 ms up to 1 s), where each field retrying alone made 20 per step.
func TestOutageOneReconnect(t *testing.T) {
	r := newOutageRig(t)
	o := r.outage(t, 3*time.Second, r.cutFault("during"))
	t.Logf("outage: all failed after %v, %d attempts while cut, recovered in %v with %d connections", o.failed, o.attempts, o.recovered, o.after)
	if o.attempts > 12 {
		t.Fatalf("%d connection attempts in a 3 s outage for %d fields; they must reconnect together", o.attempts, outageFields)
	}
	for i, log := range r.logs {
		for _, res := range log.All() {
			if res.Err != nil && !errors.Is(res.Err, sources.ErrUnreachable) {
				t.Fatalf("%s: %v; every failure of the outage must be ErrUnreachable", r.keys[i], res.Err)
			}
		}
	}
	r.setAll(t, "after")
}

// TestOutageClose: Close is prompt while the 20 fields wait out an
// outage, one of them sleeping its backoff step or making its attempt.
func TestOutageClose(t *testing.T) {
	r := newOutageRig(t)
	r.p.Cut()
	r.expectAll(t, "an unreachable error", isErr(sources.ErrUnreachable))
	time.Sleep(500 * time.Millisecond)
	fixture.ClosePrompt(t, r.d)
}

// TestOutageRefusedChannel: beside 3 keys and a channel the ACL allows,
// 3 channels it refuses (ErrAuth, retried every 200 ms here) share the
// endpoint, so that any of them may lead the reconnection after a 2 s
// cut. Each refused channel gets its ErrAuth error again afterwards, and
// only those fields do: the keys report the values written meanwhile, the
// allowed channel later messages.
func TestOutageRefusedChannel(t *testing.T) {
	s := redistest.Start(t, redistest.WithNotifications())
	cmd(t, s, "ACL", "SETUSER", "chans", "on", ">chans-secret", "~*", "&__keyspace@*", "&ok-*", "+@all")
	p := fixture.NewProxy(t, s.Addr())
	d := open(t, lbredis.Config{Options: &goredis.Options{Addr: p.Addr, Username: "chans", Password: "chans-secret"}, MaxBackoff: 200 * time.Millisecond})
	var keys []string
	var keyLogs, refused []*fixture.Cursor[sources.Result]
	for range 3 {
		key := fresh("refused:")
		cmd(t, s, "SET", key, "one")
		keys = append(keys, key)
		keyLogs = append(keyLogs, watch(t, d, target(key, nil), d.Read(ctx(t), target(key, nil))))
		refused = append(refused, watch(t, d, target("channel:"+fresh("no-"), nil), sources.Result{Missing: true}))
	}
	ok := fresh("ok-")
	okLog := watch(t, d, target("channel:"+ok, nil), sources.Result{Missing: true})
	for _, log := range refused {
		log.Expect(t, "the refused channel's error", isErr(sources.ErrAuth))
	}
	publish(t, s, ok, "before")
	okLog.Expect(t, "a message before the cut", fixture.IsData("before"))

	p.Cut()
	for _, log := range append(keyLogs, okLog) {
		log.Expect(t, "an unreachable error", isErr(sources.ErrUnreachable))
	}
	for _, key := range keys {
		cmd(t, s, "SET", key, "two")
	}
	time.Sleep(2 * time.Second)
	p.Resume()
	for _, log := range refused {
		log.Expect(t, "an unreachable error while cut", isErr(sources.ErrUnreachable))
		log.Expect(t, "the refusal again", isErr(sources.ErrAuth))
	}
	for i, log := range keyLogs {
		log.Expect(t, keys[i]+": the value written while cut", fixture.IsData("two"))
	}
	publish(t, s, ok, "after")
	okLog.Expect(t, "a message after the cut", fixture.IsData("after"))
	for _, log := range append(keyLogs, okLog) {
		for _, r := range log.All() {
			require.NotErrorIs(t, r.Err, sources.ErrAuth, "a refusal reached a field that is not refused")
		}
	}
	fixture.ClosePrompt(t, d)
}

// BenchmarkOutage measures an outage of 3 s for 20 key fields (default
// backoffs): the network between the driver and the server cut while
// every key changes, or the server killed and started again (empty). It
// reports the connection attempts made meanwhile, the time from the
// fault until every field reported ErrUnreachable, the time from the
// server's return until every field reported what it holds, and the
// connections opened then.
// Run: go test -run '^$' -bench Outage -benchtime=3x ./sources/redis
func BenchmarkOutage(b *testing.B) {
	for _, name := range []string{"cut", "restart"} {
		b.Run(name, func(b *testing.B) {
			r := newOutageRig(b)
			var attempts, after int
			var failed, recovered []time.Duration
			i := 0
			for b.Loop() {
				i++
				v := "v" + strconv.Itoa(i)
				r.setAll(b, v)
				f := r.restartFault()
				if name == "cut" {
					f = r.cutFault("during-" + v)
				}
				o := r.outage(b, 3*time.Second, f)
				attempts += o.attempts
				after += o.after
				failed = append(failed, o.failed)
				recovered = append(recovered, o.recovered)
			}
			n := float64(len(recovered))
			b.ReportMetric(float64(attempts)/n, "attempts/outage")
			b.ReportMetric(float64(after)/n, "conns-on-return/outage")
			b.ReportMetric(ms(failed)/n, "all-failed-ms")
			b.ReportMetric(ms(recovered)/n, "all-recovered-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// ms sums ds in milliseconds.
func ms(ds []time.Duration) float64 {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return float64(sum) / float64(time.Millisecond)
}
