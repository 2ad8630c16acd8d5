package ws_test

import (
	"testing"

	"github.com/livebind/livebind/sources/sourcetest"
)

// TestConformance runs the sources conformance kit against the ws driver
// and a real WebSocket server on 127.0.0.1. A removal closes the
// connections of the path normally and later handshakes are answered 404
// (Missing). The failure check connects to a closed port with a password
// and a token in the URL and a bearer token in the config: none may appear
// in the error.
func TestConformance(t *testing.T) {
	h := newHub(t)
	failing := fastConfig()
	failing.Header = map[string][]string{"Authorization": {"Bearer conformance-bearer-secret"}}
	sourcetest.Run(t, kit.Harness(t, h.PushServer, failing))
}
