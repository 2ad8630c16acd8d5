package redis_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/redistest"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
)

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
	r.expectAll(tb, "an unreachable error", isErr(lbredis.ErrUnreachable))
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
			if res.Err != nil && !errors.Is(res.Err, lbredis.ErrUnreachable) {
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
	r.expectAll(t, "an unreachable error", isErr(lbredis.ErrUnreachable))
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
		log.Expect(t, "the refused channel's error", isErr(lbredis.ErrAuth))
	}
	publish(t, s, ok, "before")
	okLog.Expect(t, "a message before the cut", fixture.IsData("before"))

	p.Cut()
	for _, log := range append(keyLogs, okLog) {
		log.Expect(t, "an unreachable error", isErr(lbredis.ErrUnreachable))
	}
	for _, key := range keys {
		cmd(t, s, "SET", key, "two")
	}
	time.Sleep(2 * time.Second)
	p.Resume()
	for _, log := range refused {
		log.Expect(t, "an unreachable error while cut", isErr(lbredis.ErrUnreachable))
		log.Expect(t, "the refusal again", isErr(lbredis.ErrAuth))
	}
	for i, log := range keyLogs {
		log.Expect(t, keys[i]+": the value written while cut", fixture.IsData("two"))
	}
	publish(t, s, ok, "after")
	okLog.Expect(t, "a message after the cut", fixture.IsData("after"))
	for _, log := range append(keyLogs, okLog) {
		for _, r := range log.All() {
			require.NotErrorIs(t, r.Err, lbredis.ErrAuth, "a refusal reached a field that is not refused")
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
