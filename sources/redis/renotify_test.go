package redis_test

import (
	"testing"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
)

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
