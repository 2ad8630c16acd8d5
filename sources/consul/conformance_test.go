package consul_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/consultest"
	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/consul"
	"github.com/livebind/livebind/sources/sourcetest"
)

// TestConformance runs the sources conformance kit against the consul
// driver and a real agent. The failure check uses a client with a token
// pointed at a closed port (the token must not leak into the error), the
// stall check a TCP listener that accepts and never answers. The driver
// under test builds its own client from the CONSUL_* environment, so that
// Config.MaxBytes bounds its answers: the oversize check writes a 384 KiB
// value (Consul itself refuses values over 512 KB) against a 128 KiB
// limit. Targets set ratelimit=20ms: at the default (a burst of 2, then
// one request per 15 s) a third change within 15 s is reported only after
// the kit's 10 s bound.
func TestConformance(t *testing.T) {
	a := consultest.Start(t)
	client := a.Client()
	agentAt(t, a.Addr(), a.RootToken())
	const token = "0b6c3a36-conformance-secret-token"
	const maxBytes = 128 << 10
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "consul",
		Config: func(*testing.T) sources.Config {
			return sources.Config{Value: consul.Config{MaxBytes: maxBytes, MaxBackoff: 200 * time.Millisecond}}
		},
		Target: bindtest.Targets("consul", "conformance/", map[string]string{"wait": "2s", "ratelimit": "20ms"}),
		Set: func(t *testing.T, tg *sources.Target, v []byte) {
			t.Helper()
			put(t, client, tg.Location, string(v))
		},
		Remove: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			del(t, client, tg.Location)
		},
		Failing: func(t *testing.T) (sources.Config, *sources.Target) {
			t.Helper()
			c, err := api.NewClient(&api.Config{Address: "127.0.0.1:1", Token: token})
			require.NoError(t, err)
			return sources.Config{Value: consul.Config{Client: c, MaxBackoff: 200 * time.Millisecond}}, target("conformance/unreachable", nil)
		},
		ErrorAs: bindtest.TypedError[*consul.Error](sources.ErrUnreachable),
		Secrets: []string{token},
		Stall: bindtest.SilentStall(target("conformance/stalled", nil), func(t *testing.T, addr string) any {
			t.Helper()
			c, err := api.NewClient(&api.Config{Address: addr})
			require.NoError(t, err)
			return consul.Config{Client: c}
		}),
		Oversize: func(t *testing.T, tg *sources.Target) {
			t.Helper()
			put(t, client, tg.Location, strings.Repeat("x", 3*maxBytes))
		},
		MaxSize:     maxBytes,
		IgnoreLeaks: bindtest.KeepAliveLeaks(), // the keep-alive connections of the harness's clients
	})
}

// TestSchemeCheck: bad options are refused at Bind, without an agent.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	s, _ := sources.Lookup("consul")
	require.NoError(t, s.Check(target("app/x", map[string]string{"wait": "30s", "stale": "true"})))
	err := s.Check(target("app/x", map[string]string{"wait": "11m"}))
	require.ErrorContains(t, err, "exceeds Consul's maximum")
	require.Error(t, s.Check(target("", nil)), "an empty key")
}
