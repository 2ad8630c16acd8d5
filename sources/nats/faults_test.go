package nats_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/natstest"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// viaProxy is config(s) with the connection going through a cuttable
// proxy.
func viaProxy(t *testing.T, s *natstest.Server) (lbnats.Config, *fixture.Proxy) {
	t.Helper()
	p := fixture.NewProxy(t, s.Addr(0))
	c := config(s)
	c.Options.Url = "nats://" + p.Addr
	return c, p
}

// TestEntryCutConnection: the driver's connection is cut (the proxy drops
// it and refuses for a while) and the entry changes meanwhile. The watch
// must report an ErrUnreachable error (last value kept; a Read fails at
// once), then, once the network is back, the change made while it was
// cut, then later changes.
func TestEntryCutConnection(t *testing.T) {
	s, _, kv := startBucket(t, "cut")
	put(t, kv, "app", "one")
	cfg, p := viaProxy(t, s)
	d := open(t, cfg)
	tg := target("cut/app", nil)
	first := d.Read(ctx(t), tg)
	require.Equal(t, "one", string(first.Data))
	log := watch(t, d, tg, first)

	p.Cut()
	log.Expect(t, "an unreachable error (the connection lost)", func(r sources.Result) bool {
		return isErr(sources.ErrUnreachable)(r) && errors.Is(r.Err, sources.ErrDisconnected)
	})
	start := time.Now()
	require.ErrorIs(t, d.Read(ctx(t), tg).Err, sources.ErrUnreachable, "a Read while reconnecting")
	require.Less(t, time.Since(start), time.Second, "a Read while reconnecting fails at once")
	put(t, kv, "app", "two") // while the driver cannot see the server
	p.Resume()
	log.Expect(t, "the change made while cut", fixture.IsData("two"))
	put(t, kv, "app", "three")
	log.Expect(t, "a later change", fixture.IsData("three"))
	fixture.ClosePrompt(t, d)
}

// TestEntryServerRestart: the server is killed (every connection cut
// mid-stream) and started again on the same JetStream store. The watch
// must report an ErrUnreachable error while it is down, then the stored
// value is still there (nothing is reported for it) and a later write
// arrives.
func TestEntryServerRestart(t *testing.T) {
	s, nc, kv := startBucket(t, "restart")
	put(t, kv, "app", "one")
	d := open(t, config(s))
	tg := target("restart/app", nil)
	log := watch(t, d, tg, d.Read(ctx(t), tg))

	s.Kill()
	log.Expect(t, "an unreachable error", isErr(sources.ErrUnreachable))
	s.Restart()
	log.Expect(t, "the stored value once the server is back", fixture.IsData("one"))
	require.Eventually(t, nc.IsConnected, settle, 10*time.Millisecond)
	require.Eventually(t, func() bool { _, err := kv.PutString(ctx(t), "app", "two"); return err == nil }, settle, 100*time.Millisecond)
	log.Expect(t, "a write after the restart", fixture.IsData("two"))
}

// TestEntryLifecycle: a bucket that does not exist at Bind reads as
// Missing and is watched until it is created: its first value is reported;
// a delete and a purge are each Missing; a value after them is reported;
// deleting the bucket is Missing, and creating it again is followed.
func TestEntryLifecycle(t *testing.T) {
	s := natstest.Start(t)
	_, js := client(t, s)
	d := open(t, config(s))
	tg := target("later/app", nil)
	first := d.Read(ctx(t), tg)
	require.True(t, first.Missing, "%+v", first)
	log := watch(t, d, tg, first)

	kv := bucket(t, js, "later")
	put(t, kv, "app", "one")
	log.Expect(t, "the value of the bucket created after Bind", fixture.IsData("one"))
	require.NoError(t, kv.Delete(ctx(t), "app"))
	log.Expect(t, "Missing after a delete", fixture.IsMissing)
	put(t, kv, "app", "two")
	log.Expect(t, "the value again", fixture.IsData("two"))
	require.NoError(t, kv.Purge(ctx(t), "app"))
	log.Expect(t, "Missing after a purge", fixture.IsMissing)
	require.True(t, d.Read(ctx(t), tg).Missing)

	put(t, kv, "app", "three")
	log.Expect(t, "the value again", fixture.IsData("three"))
	require.NoError(t, js.DeleteKeyValue(ctx(t), "later"))
	log.Expect(t, "Missing once the bucket is deleted", fixture.IsMissing)
	kv = bucket(t, js, "later")
	put(t, kv, "app", "four")
	log.Expect(t, "the value of the bucket created again", fixture.IsData("four"))
}

// TestAuthFailure: a wrong password is an ErrAuth error without the
// password, retried slowly, not hot: at most 2 connection attempts in
// 1.5 s. When the server comes back requiring that password, a driver with
// a short MaxBackoff recovers.
func TestAuthFailure(t *testing.T) {
	const good, wrong = "good-secret", "wrong-secret"
	s, _, kv := startBucket(t, "auth", natstest.WithUser("app", good))
	put(t, kv, "app", "one")

	cfg, p := viaProxy(t, s)
	cfg.Options.Password, cfg.MaxBackoff = wrong, 0
	d := open(t, cfg)
	tg := target("auth/app", nil)
	fixture.RefusedSlowly(t, d, tg, p, sources.ErrAuth, wrong)

	quick := config(s)
	quick.Options.Password = wrong
	d = open(t, quick)
	log := watch(t, d, tg, d.Read(ctx(t), tg))
	s.SetUser("app", wrong) // the admin changes the server's password
	s.Restart()
	log.Expect(t, "the value once the password is accepted", fixture.IsData("one"))
}

// TestUnreachable: a server that is not there is an ErrUnreachable error
// from Read (so Bind fails); a watch started meanwhile reports it and
// recovers once the server comes up. Close is prompt while it retries.
func TestUnreachable(t *testing.T) {
	s, _, kv := startBucket(t, "down")
	put(t, kv, "app", "one")
	s.Stop()
	d := open(t, config(s))
	tg := target("down/app", nil)
	r := d.Read(ctx(t), tg)
	require.ErrorIs(t, r.Err, sources.ErrUnreachable)
	log := watch(t, d, tg, r)
	s.Restart()
	log.Expect(t, "the value once the server is up", fixture.IsData("one"))
	fixture.ClosePrompt(t, d)
}

// TestSubject: a subject has no state: Read is Missing until a watch has
// received a message. Each message is a document; one over maxbytes= is
// an ErrTooLarge error that keeps the last good message as Read's answer;
// a cut connection is an ErrUnreachable error, after which the last good
// message is reported again, and later messages arrive.
func TestSubject(t *testing.T) {
	s := natstest.Start(t)
	nc, _ := client(t, s)
	cfg, p := viaProxy(t, s)
	d := open(t, cfg)
	tg := target("subject:app.mode", map[string]string{"maxbytes": "16"})
	first := d.Read(ctx(t), tg)
	require.True(t, first.Missing, "%+v", first)
	log := watch(t, d, tg, first)
	publish(t, nc, log, "app.mode", "one")
	log.Expect(t, "a message", fixture.IsData("one"))
	require.Equal(t, "one", string(d.Read(ctx(t), tg).Data))

	require.NoError(t, nc.Publish("app.mode", []byte(strings.Repeat("x", 17))))
	log.Expect(t, "a too-large error", isErr(sources.ErrTooLarge))
	require.Equal(t, "one", string(d.Read(ctx(t), tg).Data), "the last good message stays")
	require.NoError(t, nc.Publish("app.mode", []byte("two")))
	log.Expect(t, "the next message", fixture.IsData("two"))

	p.Cut()
	log.Expect(t, "an unreachable error", isErr(sources.ErrUnreachable))
	p.Resume()
	log.Expect(t, "the last message again", fixture.IsData("two"))
	publish(t, nc, log, "app.mode", "three")
	log.Expect(t, "a message after the cut", fixture.IsData("three"))
	fixture.ClosePrompt(t, d)
}

// publish publishes msg on subject every 20 ms until log holds it (the
// driver subscribes asynchronously), at most 100 times.
func publish(t *testing.T, nc *natsgo.Conn, log *fixture.Cursor[sources.Result], subject, msg string) {
	t.Helper()
	publishUntil(t, nc, subject, msg, func() bool {
		return slices.ContainsFunc(log.All(), func(r sources.Result) bool { return string(r.Data) == msg })
	})
}

// publishUntil publishes msg on subject every 20 ms until done (the driver
// subscribes asynchronously), at most 100 times, and fails t if done never
// holds.
func publishUntil(t *testing.T, nc *natsgo.Conn, subject, msg string, done func() bool) {
	t.Helper()
	for range 100 {
		require.NoError(t, nc.Publish(subject, []byte(msg)))
		time.Sleep(20 * time.Millisecond)
		if done() {
			return
		}
	}
	t.Fatalf("no subscriber received %q on %s", msg, subject)
}
