package sse_test

import (
	"context"
	"io"
	"log"
	nethttp "net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources/sse"
)

// The source config's client (here with the TLS roots of an https:// test
// server) and headers reach the request, header= overrides a config header
// of the same name, and the event stream headers are sent.
func TestConfigTLSHeaders(t *testing.T) {
	var mu sync.Mutex
	var seen nethttp.Header
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		_, _ = io.WriteString(w, "data: {\"a\":1}\n\n")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused TLS handshake below
	srv.StartTLS()
	defer srv.Close()
	cfg := sse.Config{Client: srv.Client(), Header: nethttp.Header{"X-Team": {"config"}, "Authorization": {"Bearer from-config"}}}
	d := fixture.OpenDriver(t, "sse", cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	r := d.Read(ctx, target(srv.URL+"/cfg", map[string]string{"header": "Authorization: Bearer from-tag"}))
	require.NoError(t, r.Err)
	require.Equal(t, `{"a":1}`, string(r.Data))
	mu.Lock()
	require.Equal(t, "config", seen.Get("X-Team"))
	require.Equal(t, "Bearer from-tag", seen.Get("Authorization"), "header= overrides the config's header")
	require.Equal(t, "text/event-stream", seen.Get("Accept"))
	require.Equal(t, "no-cache", seen.Get("Cache-Control"))
	mu.Unlock()

	// Without the test server's roots the TLS handshake fails: a typed error.
	r = fixture.OpenDriver(t, "sse", sse.Config{}).Read(ctx, target(srv.URL+"/cfg", nil))
	var e *sse.Error
	require.ErrorAs(t, r.Err, &e)
	require.ErrorContains(t, r.Err, "certificate")
}

// Bad options are Bind errors from Scheme.Check, never quoting a header's
// value.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	bindtest.CheckTable(t, "sse", "secret-value", []bindtest.CheckCase{
		{Loc: "https://h/x", Params: map[string]string{"event": "limits", "maxbytes": "10", "header": "A: b"}},
		{Loc: "ws://h/x", Want: "http:// or https://"},
		{Loc: "https:///x", Want: "http:// or https://"},
		{Loc: "https://h/x", Params: map[string]string{"event": " "}, Want: "option event"},
		{Loc: "https://h/x", Params: map[string]string{"maxbytes": "-3"}, Want: "option maxbytes"},
		{Loc: "https://h/x", Params: map[string]string{"header": "Bad Name: secret-value"}, Want: "option header"},
	})
}
