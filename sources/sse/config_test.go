package sse_test

import (
	"io"
	nethttp "net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources/sse"
)

// The source config's client (here with the TLS roots of an https:// test
// server) and headers reach the request, header= overrides a config header
// of the same name, and the event stream headers are sent; without the
// roots the TLS handshake fails with an *sse.Error.
func TestConfigTLSHeaders(t *testing.T) {
	srv := bindtest.NewHeaderServer(t, func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		_, _ = io.WriteString(w, "data: {\"a\":1}\n\n")
	})
	cfg := sse.Config{Client: srv.Client(), Header: nethttp.Header{"X-Team": {"config"}, "Authorization": {"Bearer from-config"}}}
	seen := kit.TLSHeaders(t, srv, cfg, srv.URL+"/cfg")
	require.Equal(t, "text/event-stream", seen.Get("Accept"))
	require.Equal(t, "no-cache", seen.Get("Cache-Control"))
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
		{Loc: "https://h/x", Params: map[string]string{"idle": "90s"}},
		{Loc: "https://h/x", Params: map[string]string{"idle": "0"}},
		{Loc: "https://h/x", Params: map[string]string{"idle": "1ms"}, Want: "option idle"},
		{Loc: "https://h/x", Params: map[string]string{"idle": "soon"}, Want: "option idle"},
		{Loc: "https://h/x", Params: map[string]string{"header": "Bad Name: secret-value"}, Want: "option header"},
	})
}

// TestConfigHidesHeaderValues: a Config printed in any way, or logged, does
// not show the values of its headers (an Authorization token), only their
// names.
func TestConfigHidesHeaderValues(t *testing.T) {
	t.Parallel()
	fixture.WantHeaderHidden(t, func(h nethttp.Header) sse.Config { return sse.Config{Header: h} })
}
