package nats

import (
	"context"
	"fmt"
	"testing"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// TestClassify: each client error wraps the sentinel callers match (or
// keeps the client's own: context, JetStream off), a refused credential
// or permission is retried slowly, the entry or subject is named, and the
// password and the token are scrubbed wherever the client or the server
// echoed them, a long message included.
func TestClassify(t *testing.T) {
	t.Parallel()
	const pw, token = "nats-pass-0123456789", "nats-token-abcdefghij"
	d := &driver{secrets: []string{pw, token}}
	cases := []fixture.ErrorCase{
		{Name: "authorization, password echoed", Err: fmt.Errorf("%w: user app password %s", natsgo.ErrAuthorization, pw), Is: sources.ErrAuth, Permanent: true, Text: `nats: key "app/config": authentication or permission refused: nats: authorization violation: user app password <token>`},
		{Name: "permission violation", Err: natsgo.ErrPermissionViolation, Is: sources.ErrAuth, Permanent: true, Text: "permissions violation"},
		{Name: "expired", Err: natsgo.ErrAuthExpired, Is: sources.ErrAuth, Permanent: true, Text: "authentication expired"},
		{Name: "timeout, token echoed", Err: fmt.Errorf("%w: token %s", natsgo.ErrTimeout, token), Is: sources.ErrUnreachable, Text: "server unreachable: nats: timeout: token <token>"},
		{Name: "no servers", Err: natsgo.ErrNoServers, Is: sources.ErrUnreachable, Text: "no servers available"},
		{Name: "canceled, password echoed", Err: fmt.Errorf("dial with %s: %w", pw, context.Canceled), Is: context.Canceled, Text: "dial with <token>: context canceled"},
		{Name: "JetStream off", Err: jetstream.ErrJetStreamNotEnabled, Is: jetstream.ErrJetStreamNotEnabled, Text: "jetstream not enabled"},
		{Name: "too large", Err: fmt.Errorf("%w: 2048 bytes", sources.ErrTooLarge), Is: sources.ErrTooLarge, Text: "2048 bytes"},
		{Name: "password in a long message", Err: fmt.Errorf("%w: %s", natsgo.ErrConnectionClosed, fixture.CutThrough(pw)), Is: sources.ErrUnreachable, Text: "<token> echoed"},
	}
	fixture.WantClassified(t, pw, func(err error) (error, bool) {
		e := d.classify(watchKey{bucket: "app", key: "config"}, err)
		return e, e.permanent()
	}, cases...)
	fixture.WantClassified(t, token, func(err error) (error, bool) {
		e := d.classify(watchKey{subject: "app.config"}, err)
		return e, e.permanent()
	}, fixture.ErrorCase{Name: "subject, token echoed", Err: fmt.Errorf("%w: %s", natsgo.ErrAuthorization, token), Is: sources.ErrAuth, Permanent: true, Text: `nats: subject "app.config": `})
}
