package http

import (
	"bufio"
	"net"
	nethttp "net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rawServer answers every connection with reply(request header), written
// as is: a server that does not speak HTTP properly. It is closed at
// cleanup.
func rawServer(t *testing.T, reply func(h nethttp.Header) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := nethttp.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				_, _ = c.Write([]byte(reply(req.Header)))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestMalformedResponseHidesHeaderSecret: net/http quotes a response line
// it cannot parse in its error. A hostile server that echoes a request
// header into that line must not get the header's value into the error,
// nor make the error any size.
func TestMalformedResponseHidesHeaderSecret(t *testing.T) {
	t.Parallel()
	const token = "S3CRETbearer42"
	url := rawServer(t, func(h nethttp.Header) string {
		return "HTTP/1.1" + h.Get("X-Api-Key") + h.Get("X-Other") + strings.Repeat("z", 4000) + "\r\n\r\n"
	})
	d := openDriver(t, Config{Header: nethttp.Header{"X-Other": {"Bearer CONFIGsecret77"}}})
	r := d.Read(t.Context(), target(url+"/c.json", 0, "header=X-Api-Key: "+token))
	require.Error(t, r.Err)
	msg := r.Err.Error()
	require.NotContains(t, msg, token)
	require.NotContains(t, msg, "CONFIGsecret77")
	require.Less(t, len(msg), 1000, "the server's text is cut: %d bytes", len(msg))
}
