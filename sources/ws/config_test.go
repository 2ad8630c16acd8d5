package ws_test

import (
	nethttp "net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources/ws"
)

// The source config's client (here with the TLS roots of a wss:// test
// server), headers and Origin reach the handshake, and header= overrides
// a config header of the same name; a server checking the Origin accepts
// the configured one. Without the roots the TLS handshake fails with a
// *ws.Error.
func TestConfigTLSHeadersOrigin(t *testing.T) {
	srv := bindtest.NewHeaderServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"app.example"}})
		if err != nil {
			return
		}
		defer func() { _ = conn.CloseNow() }()
		ctx := conn.CloseRead(t.Context())
		_ = conn.Write(ctx, websocket.MessageText, []byte(`{"a":1}`))
		<-ctx.Done()
	})
	cfg := ws.Config{
		Client: srv.Client(),
		Header: nethttp.Header{"X-Team": {"config"}, "Authorization": {"Bearer from-config"}},
		Origin: "https://app.example",
	}
	seen := kit.TLSHeaders(t, srv, cfg, "wss://"+strings.TrimPrefix(srv.URL, "https://")+"/cfg")
	require.Equal(t, "https://app.example", seen.Get("Origin"))
}

// Bad options are Bind errors from Scheme.Check, never quoting a header's
// value.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	bindtest.CheckTable(t, "ws", "secret-value", []bindtest.CheckCase{
		{Loc: "wss://h/x", Params: map[string]string{"ping": "0", "maxbytes": "10", "header": "A: b"}},
		{Loc: "http://h/x", Want: "ws:// or wss://"},
		{Loc: "ws:///x", Want: "ws:// or wss://"},
		{Loc: "ws://h/x", Params: map[string]string{"ping": "1ms"}, Want: "option ping"},
		{Loc: "ws://h/x", Params: map[string]string{"ping": "soon"}, Want: "option ping"},
		{Loc: "ws://h/x", Params: map[string]string{"maxbytes": "0"}, Want: "option maxbytes"},
		{Loc: "ws://h/x", Params: map[string]string{"header": "no colon secret-value"}, Want: "option header"},
	})
}

// TestConfigHidesHeaderValues: a Config printed in any way, or logged, does
// not show the values of its headers (an Authorization token), only their
// names.
func TestConfigHidesHeaderValues(t *testing.T) {
	t.Parallel()
	fixture.WantHeaderHidden(t, func(h nethttp.Header) ws.Config { return ws.Config{Header: h} })
}
