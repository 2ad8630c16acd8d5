package nats_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/natstest"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
	"github.com/livebind/livebind/sources/sourcetest"
)

// conformanceMax is the maxbytes= of the conformance targets; the server's
// max_payload (1 MiB) is larger, so the driver's own check is what fails.
const conformanceMax = 32 << 10

// TestConformance runs the sources conformance kit against the nats
// driver (key-value mode) and a real nats-server with JetStream and a
// password. The failure check uses a wrong password (it must not appear in
// the error, which must wrap ErrAuth); the stall check a TCP listener that
// accepts and never answers.
func TestConformance(t *testing.T) {
	const password = "conformance-secret-pw"
	s, _, kv := startBucket(t, "conformance", natstest.WithUser("app", password))
	params := map[string]string{"maxbytes": strconv.Itoa(conformanceMax)}
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "nats",
		Config: func(*testing.T) sources.Config { return sources.Config{Value: config(s)} },
		Target: func(*testing.T) *sources.Target { return target("conformance/"+fresh("k"), params) },
		Set: func(t *testing.T, tg *sources.Target, v []byte) {
			t.Helper()
			_, err := kv.Put(ctx(t), key(tg), v)
			require.NoError(t, err)
		},
		Remove: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			require.NoError(t, kv.Delete(ctx(t), key(tg)))
		},
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			o := options(s)
			o.Password = "wrong-" + password
			return sources.Config{Value: lbnats.Config{Options: o}}, target("conformance/failing", nil)
		},
		ErrorAs: func(err error) bool {
			var e *lbnats.Error
			return errors.As(err, &e) && errors.Is(err, lbnats.ErrAuth)
		},
		Secrets: []string{password},
		Stall: func(t *testing.T) (sources.Config, *sources.Target, func()) {
			t.Helper()
			addr, release := fixture.SilentServer(t)
			o := natsgo.GetDefaultOptions()
			o.Url = "nats://" + addr
			return sources.Config{Value: lbnats.Config{Options: &o}}, target("conformance/stalled", nil), release
		},
		Oversize: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			_, err := kv.Put(ctx(t), key(tg), make([]byte, 16*conformanceMax))
			require.NoError(t, err)
		},
		MaxSize: conformanceMax,
		Quiet:   300 * time.Millisecond,
	})
}

// key is the key of a bucket/key target.
func key(tg *sources.Target) string {
	_, k, _ := strings.Cut(tg.Location, "/")
	return k
}
