package nats_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/natstest"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// kvPermConf lets user app use JetStream but not look up bucket secret,
// nor create a consumer (a watcher) on bucket nowatch; admin may do
// anything.
const kvPermConf = `authorization { users = [
  {user: app, password: "` + permPassword + `", permissions: {publish: {deny: [
    "$JS.API.STREAM.INFO.KV_secret",
    "$JS.API.CONSUMER.CREATE.KV_nowatch", "$JS.API.CONSUMER.CREATE.KV_nowatch.>"
  ]}}},
  {user: admin, password: "admin-pw"}
] }`

// TestEntryPermissionDenied: the server refuses the user the JetStream
// requests of one bucket. A Read of it is an ErrAuth error naming the
// entry at once (the request is refused, not unanswered: it must not wait
// out its timeout, 10 s, and call it unreachable); a watch of a bucket
// whose watcher cannot be created is an ErrAuth error too, within 2 s (it
// was an unreachable error after the client's own 5 s wait, retried as
// such); a bucket that is allowed goes on over the same connection.
func TestEntryPermissionDenied(t *testing.T) {
	s := natstest.Start(t, natstest.WithConfig(kvPermConf))
	admin := options(s)
	admin.User, admin.Password = "admin", "admin-pw"
	nc, err := admin.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	kvs := map[string]jetstream.KeyValue{}
	for _, b := range []string{"secret", "nowatch", "open"} {
		kvs[b] = bucket(t, js, b)
		put(t, kvs[b], "k", "v-"+b)
	}

	o := options(s)
	o.User, o.Password = "app", permPassword
	d := open(t, lbnats.Config{Options: o, MaxBackoff: 200 * time.Millisecond})
	named := func(bucket string) func(sources.Result) bool {
		return func(r sources.Result) bool {
			var e *lbnats.Error
			return errors.Is(r.Err, sources.ErrAuth) && errors.As(r.Err, &e) && e.Bucket == bucket && e.Key == "k"
		}
	}

	secret := target("secret/k", nil)
	start := time.Now()
	r := d.Read(ctx(t), secret)
	require.True(t, named("secret")(r), "%+v", r)
	require.Less(t, time.Since(start), 2*time.Second, "the refusal waited out the request's timeout")
	open := target("open/k", nil)
	require.Equal(t, "v-open", string(d.Read(ctx(t), open).Data))

	nowatch := target("nowatch/k", nil)
	first := d.Read(ctx(t), nowatch)
	require.Equal(t, "v-nowatch", string(first.Data), "%+v", first)
	logN := watch(t, d, nowatch, first)
	logO := watch(t, d, open, d.Read(ctx(t), open))
	watch(t, d, secret, r)
	start = time.Now()
	logN.Expect(t, "an ErrAuth error: no watcher", named("nowatch"))
	require.Less(t, time.Since(start), 2*time.Second, "the refusal waited out the request's timeout")
	put(t, kvs["open"], "k", "two")
	logO.Expect(t, "the allowed bucket's change", fixture.IsData("two"))
	fixture.ClosePrompt(t, d)
}
