package nats_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/natstest"
	"github.com/livebind/livebind/sources"
)

// TestBindMalformed: an entry whose value does not decode is an Error
// update wrapping ErrDecode, naming the field and source, and the last good
// value stays; a good value afterwards is applied.
func TestBindMalformed(t *testing.T) {
	s, _, kv := startBucket(t, "json")
	put(t, kv, "app", `{"a":1}`)
	type conf struct {
		A int `live:"nats=json/app; format=json; key=a"`
	}
	b, rec := bindtest.Bind[conf](t, "nats", config(s))
	require.Equal(t, 1, b.Get().A)
	bindtest.Malformed(t, b, func(c *conf) int { return c.A }, func(doc string) { put(t, kv, "app", doc) })
	require.Contains(t, rec.Until(t, "the Error", bindtest.IsError).Source, "json/app")
}

// TestBindSubjectAtStart: nothing has been published on a subject at
// Bind, so a field with default= takes its default and the first message
// is an Added; a required field fails Bind.
func TestBindSubjectAtStart(t *testing.T) {
	s := natstest.Start(t)
	nc, _ := client(t, s)
	type conf struct {
		Mode string `live:"nats=subject:app.mode; format=text; default=idle"`
	}
	b, rec := bindtest.Bind[conf](t, "nats", config(s))
	bindtest.FirstMessage(t, rec, func() any { return b.Get().Mode }, func(v string) {
		publishUntil(t, nc, "app.mode", v, func() bool { return b.Get().Mode != "idle" })
	})

	type strict struct {
		Mode string `live:"nats=subject:app.other; format=text; required"`
	}
	bindtest.BindFails[strict](t, "nats", config(s), nil, "Mode") // required, and no message yet
}

// TestBindUnreachable: a server that is not there fails Bind with a
// FieldError naming the field, wrapping the driver's ErrUnreachable.
func TestBindUnreachable(t *testing.T) {
	s := natstest.Start(t)
	s.Stop()
	type conf struct {
		V string `live:"nats=app/v; format=text"`
	}
	bindtest.BindFails[conf](t, "nats", config(s), sources.ErrUnreachable, "V")
}

// TestBindBurst: a slow subscriber (1 ms per update) faces a burst of
// 10,000 messages on a subject and 10,000 puts of an entry, with
// throttle=50ms. Memory must stay bounded (the heap in use grows by less
// than 32 MiB at any sample), far fewer updates than messages must arrive
// (coalescing), and the last message and the last put must be the final
// values.
func TestBindBurst(t *testing.T) {
	s, nc, kv := startBucket(t, "burst")
	type conf struct {
		Msg string `live:"nats=subject:burst.msg; format=text; default=none; throttle=50ms"`
		Key string `live:"nats=burst/app; format=text; default=none; throttle=50ms"`
	}
	b, _ := bindtest.Bind[conf](t, "nats", config(s))
	bindtest.CoalescedBurst(t, b, func(c *conf) (string, string) { return c.Msg, c.Key }, func() {
		publishUntil(t, nc, "burst.msg", "warm-up", func() bool { return b.Get().Msg != "none" })
	}, func(n int) {
		for i := range n {
			require.NoError(t, nc.Publish("burst.msg", []byte(bindtest.BurstValue('m', i))))
			_, err := kv.PutString(ctx(t), "app", bindtest.BurstValue('k', i))
			require.NoError(t, err)
		}
	})
}

// TestBindFailuresLeaveNothing: no goroutine of the driver or the client
// outlives a Binding that failed at Bind for a refused password (an entry
// and a subject), nor one closed while its server is killed (the client
// reconnecting, both watches failing).
func TestBindFailuresLeaveNothing(t *testing.T) {
	s, nc, kv := startBucket(t, "app", natstest.WithUser("app", "good-secret"))
	put(t, kv, "v", "one")
	nc.Close() // its reconnection is not the driver's
	type conf struct {
		V string `live:"nats=app/v; format=text"`
		M string `live:"nats=subject:app.mode; format=text; default=x"`
	}
	before := goleak.IgnoreCurrent() // the server's
	bad := config(s)
	bad.Options.Password = "wrong-secret"
	bindtest.BindFails[conf](t, "nats", bad, sources.ErrAuth, "V")
	goleak.VerifyNone(t, before)

	b, rec := bindtest.Bind[conf](t, "nats", config(s))
	require.Equal(t, "one", b.Get().V)
	s.Kill()
	rec.Until(t, "an Error once the server is killed", bindtest.IsError)
	require.NoError(t, b.Close())
	goleak.VerifyNone(t, before)
}
