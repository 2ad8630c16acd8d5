package nats_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/natstest"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// settle bounds how long a change may take to reach a watch in tests.
const settle = 10 * time.Second

var seq atomic.Int64

// fresh returns a name no other test uses.
func fresh(prefix string) string { return prefix + strconv.FormatInt(seq.Add(1), 10) }

// target returns a nats target for location with params.
func target(location string, params map[string]string) *sources.Target {
	return &sources.Target{Scheme: "nats", Location: location, Params: params}
}

// options are connection options for s, with its credentials when it has
// them.
func options(s *natstest.Server) *natsgo.Options {
	o := natsgo.GetDefaultOptions()
	o.Url = s.URL()
	o.User, o.Password = s.User()
	o.MaxReconnect = -1
	o.ReconnectWait = 50 * time.Millisecond
	return &o
}

// config is a driver config for s with quick retries.
func config(s *natstest.Server) lbnats.Config {
	return lbnats.Config{Options: options(s), MaxBackoff: 200 * time.Millisecond}
}

// open opens a driver with cfg and closes it when the test ends.
func open(t *testing.T, cfg lbnats.Config) sources.Driver {
	t.Helper()
	return fixture.OpenDriver(t, "nats", cfg)
}

// client connects the test's own client to s and closes it at the end.
func client(t testing.TB, s *natstest.Server) (*natsgo.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := options(s).Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return nc, js
}

// bucket creates a key-value bucket.
func bucket(t testing.TB, js jetstream.JetStream, name string) jetstream.KeyValue {
	t.Helper()
	kv, err := js.CreateKeyValue(ctx(t), jetstream.KeyValueConfig{Bucket: name, MaxValueSize: -1})
	require.NoError(t, err)
	return kv
}

// startBucket starts a server with opts and returns it with the test's
// own connection and a new key-value bucket named name.
func startBucket(t testing.TB, name string, opts ...natstest.Option) (*natstest.Server, *natsgo.Conn, jetstream.KeyValue) {
	t.Helper()
	s := natstest.Start(t, opts...)
	nc, js := client(t, s)
	return s, nc, bucket(t, js, name)
}

// put stores value at key in kv.
func put(t testing.TB, kv jetstream.KeyValue, key, value string) {
	t.Helper()
	_, err := kv.PutString(ctx(t), key, value)
	require.NoError(t, err)
}

// watch starts a watch of tg and returns a cursor over its results.
func watch(t *testing.T, d sources.Driver, tg *sources.Target, last sources.Result) *fixture.Cursor[sources.Result] {
	t.Helper()
	return fixture.WatchCursor(t, d, tg, last, settle)
}

// isErr matches a failed result with the driver's typed error.
var isErr = fixture.IsTypedErr[*lbnats.Error]

// ctx is a context for a test's own requests.
func ctx(t testing.TB) context.Context {
	t.Helper()
	return fixture.Context(t, settle)
}
