package redis_test

import (
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
	log.Expect(t, "an unreachable error", isErr(lbredis.ErrUnreachable))
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
	log.Expect(t, "an unreachable error", isErr(lbredis.ErrUnreachable))
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
	fixture.RefusedSlowly(t, d, tg, p, lbredis.ErrAuth, wrong)

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
	require.ErrorIs(t, r.Err, lbredis.ErrUnreachable)
	require.Contains(t, r.Err.Error(), s.Addr())
	log := watch(t, d, tg, r)
	s.Restart()
	log.Expect(t, "the key's state once the server is up", fixture.IsMissing)
	s.Stop()
	log.Expect(t, "the error once it is down again", isErr(lbredis.ErrUnreachable))
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
	log.Expect(t, "an unreachable error", isErr(lbredis.ErrUnreachable))
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
