package nats_test

import (
	"strings"
	"testing"

	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
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
	set := func(t *testing.T, tg *sources.Target, v []byte) {
		t.Helper()
		_, err := kv.Put(ctx(t), key(tg), v)
		require.NoError(t, err)
	}
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "nats",
		Config: bindtest.ConfigValue(config(s)),
		Target: bindtest.Targets("nats", "conformance/k", bindtest.MaxBytes(conformanceMax)),
		Set:    set,
		Remove: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			require.NoError(t, kv.Delete(ctx(t), key(tg)))
		},
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			o := options(s)
			o.Password = "wrong-" + password
			return sources.Config{Value: lbnats.Config{Options: o}}, target("conformance/failing", nil)
		},
		ErrorAs: bindtest.TypedError[*lbnats.Error](sources.ErrAuth),
		Secrets: []string{password},
		Stall: bindtest.SilentStall(target("conformance/stalled", nil), func(_ *testing.T, addr string) any {
			o := natsgo.GetDefaultOptions()
			o.Url = "nats://" + addr
			return lbnats.Config{Options: &o}
		}),
		Oversize: bindtest.Oversized(set, conformanceMax),
		MaxSize:  conformanceMax,
	})
}

// key is the key of a bucket/key target.
func key(tg *sources.Target) string {
	_, k, _ := strings.Cut(tg.Location, "/")
	return k
}
