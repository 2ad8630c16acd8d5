package ws_test

import (
	"context"
	"fmt"
	"io"
	"log"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources/ws"
)

// The source config's client (here with the TLS roots of a wss:// test
// server), headers and Origin reach the handshake, and header= overrides
// a config header of the same name; a server checking the Origin accepts
// the configured one.
func TestConfigTLSHeadersOrigin(t *testing.T) {
	var mu sync.Mutex
	var seen nethttp.Header
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"app.example"}})
		if err != nil {
			return
		}
		defer func() { _ = conn.CloseNow() }()
		ctx := conn.CloseRead(t.Context())
		_ = conn.Write(ctx, websocket.MessageText, []byte(`{"a":1}`))
		<-ctx.Done()
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused TLS handshake below
	srv.StartTLS()
	defer srv.Close()
	cfg := ws.Config{
		Client: srv.Client(),
		Header: nethttp.Header{"X-Team": {"config"}, "Authorization": {"Bearer from-config"}},
		Origin: "https://app.example",
	}
	d := fixture.OpenDriver(t, "ws", cfg)
	loc := "wss://" + strings.TrimPrefix(srv.URL, "https://") + "/cfg"
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	r := d.Read(ctx, target(loc, map[string]string{"header": "Authorization: Bearer from-tag"}))
	require.NoError(t, r.Err)
	require.Equal(t, `{"a":1}`, string(r.Data))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, "config", seen.Get("X-Team"))
	require.Equal(t, "Bearer from-tag", seen.Get("Authorization"), "header= overrides the config's header")
	require.Equal(t, "https://app.example", seen.Get("Origin"))

	// Without the test server's roots the TLS handshake fails: a typed error.
	plain := fixture.OpenDriver(t, "ws", ws.Config{})
	r = plain.Read(ctx, target(loc, nil))
	var e *ws.Error
	require.ErrorAs(t, r.Err, &e)
	require.Contains(t, fmt.Sprint(r.Err), "certificate")
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
