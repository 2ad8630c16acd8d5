package sse_test

import (
	"testing"

	"github.com/livebind/livebind/sources/sourcetest"
)

// TestConformance runs the sources conformance kit against the sse driver
// and a real event stream server on 127.0.0.1. A removal ends the streams
// of the path and later connects are answered 404 (Missing). The failure
// check connects to a closed port with a password and a token in the URL
// and a bearer token in the config: none may appear in the error.
func TestConformance(t *testing.T) {
	h := newHub(t)
	failing := fastConfig()
	failing.Header = map[string][]string{"Authorization": {"Bearer conformance-bearer-secret"}}
	sourcetest.Run(t, kit.Harness(t, h.PushServer, failing))
}
