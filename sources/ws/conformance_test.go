package ws_test

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/sourcetest"
	"github.com/livebind/livebind/sources/ws"
)

// TestConformance runs the sources conformance kit against the ws driver
// and a real WebSocket server on 127.0.0.1. A removal closes the
// connections of the path normally and later handshakes are answered 404
// (Missing). The failure
// check connects to a closed port with a password and a token in the URL
// and a bearer token in the config: none may appear in the error.
func TestConformance(t *testing.T) {
	h := newHub(t)
	var n atomic.Int64
	const maxSize = 64 << 10
	params := map[string]string{"maxbytes": strconv.Itoa(maxSize)}
	big := []byte(strings.Repeat("x", 4*maxSize))
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "ws",
		Config: func(*testing.T) sources.Config { return sources.Config{Value: fastConfig()} },
		Target: func(*testing.T) *sources.Target {
			return target(h.url("/doc/"+strconv.FormatInt(n.Add(1), 10)), params)
		},
		Set:    func(_ *testing.T, tg *sources.Target, v []byte) { h.set(path(tg), v) },
		Remove: func(_ *testing.T, tg *sources.Target) { h.remove(path(tg)) },
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			cfg := fastConfig()
			cfg.Header = map[string][]string{"Authorization": {"Bearer conformance-bearer-secret"}}
			return sources.Config{Value: cfg}, target("ws://admin:hunter2pass@127.0.0.1:1/stream?token=conformance-query-token", nil)
		},
		ErrorAs: func(err error) bool {
			var e *ws.Error
			return errors.As(err, &e)
		},
		Secrets: []string{"hunter2pass", "conformance-query-token", "conformance-bearer-secret"},
		Stall: func(*testing.T) (sources.Config, *sources.Target, func()) {
			return sources.Config{Value: fastConfig()}, target(h.url("/stall"), nil), func() {}
		},
		Oversize: func(_ *testing.T, tg *sources.Target) { h.set(path(tg), big) },
		MaxSize:  maxSize,
		Quiet:    300 * time.Millisecond,
		IgnoreLeaks: []goleak.Option{ // the test server's connections
			goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
			goleak.IgnoreAnyFunction("net/http.(*connReader).backgroundRead"),
		},
	})
}

// path is the URL path of a hub target.
func path(tg *sources.Target) string {
	u, err := url.Parse(tg.Location)
	if err != nil {
		panic(err)
	}
	return u.Path
}
