package nats_test

import (
	"net"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	lbnats "github.com/livebind/livebind/sources/nats"
)

// tlsDoneDialer is a user's dialer whose connections need no TLS
// handshake from the client (a tunnel that does TLS itself, say).
type tlsDoneDialer struct{ net.Dialer }

func (*tlsDoneDialer) SkipTLSHandshake() bool { return true }

// TestCustomDialerSkipsTLS: a server that requires TLS reached through a
// user's CustomDialer that says, with SkipTLSHandshake, that its
// connections need no handshake from the client. The driver wraps the
// dialer to close its connections: the wrapper must keep saying so, or the
// client starts a TLS handshake the other side never answers.
func TestCustomDialerSkipsTLS(t *testing.T) {
	url := fakeServer(t, func(c net.Conn) { answerPings(c, `,"tls_required":true`, "PONG\r\n", false) })
	o := natsgo.GetDefaultOptions()
	o.Url = url
	o.Timeout = 2 * time.Second
	o.CustomDialer = &tlsDoneDialer{}
	d := open(t, lbnats.Config{Options: &o})
	r := d.Read(ctx(t), target("subject:app.mode", nil))
	require.True(t, r.Missing, "%+v", r)
}
