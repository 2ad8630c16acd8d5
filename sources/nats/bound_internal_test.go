package nats

import (
	"testing"

	natsgo "github.com/nats-io/nats.go"
)

// TestWebsocketURL: only a ws:// or wss:// URL turns the protocol bounds
// off; a host name that starts with "ws", without a scheme (read as
// nats://), does not.
func TestWebsocketURL(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]bool{
		"ws://h:80":                  true,
		"WSS://h:443":                true,
		"nats://a:4222, wss://b:443": true,
		"wsgate:4222":                false,
		"nats://ws:4222":             false,
		"wshost.example":             false,
	} {
		if got := websocket(natsgo.Options{Url: u}); got != want {
			t.Errorf("Url %q: websocket %v, want %v", u, got, want)
		}
	}
	if !websocket(natsgo.Options{Servers: []string{"nats://a:4222", "wss://b:443"}}) {
		t.Error("a wss:// URL among Servers")
	}
	if websocket(natsgo.Options{Servers: []string{"wsgate:4222"}}) {
		t.Error("a host name starting with ws among Servers")
	}
}
