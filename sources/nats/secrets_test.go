package nats_test

import (
	"bufio"
	"net"
	"strings"
	"testing"

	natsgo "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// TestURLSecretNotInErrors: a server URL that does not parse (a space or
// a bad escape in its password, a bad port) fails every read, and the
// client's error quotes the URL whole: the password must not be in the
// error, from Options.Url, Options.Servers or NATS_URL. A URL without a
// scheme, which the client reads as nats://, has its password scrubbed
// too.
func TestURLSecretNotInErrors(t *testing.T) {
	const pw = "url-secret-0123456789"
	urls := map[string]string{
		"space in the password": "nats://app:" + pw + " x@127.0.0.1:4222",
		"bad escape":            "nats://app:" + pw + "%zz@127.0.0.1:4222",
		"bad port":              "nats://app:" + pw + "@127.0.0.1:42x22",
		"token, bad port":       "nats://" + pw + "@127.0.0.1:42x22",
		"no scheme, bad port":   "app:" + pw + "@127.0.0.1:42x22",
	}
	for name, u := range urls {
		t.Run(name, func(t *testing.T) {
			check := func(t *testing.T, d sources.Driver) {
				t.Helper()
				for _, loc := range []string{"b/k", "subject:app.mode"} {
					r := d.Read(ctx(t), target(loc, nil))
					require.Error(t, r.Err)
					require.False(t, fixture.LeaksSecret(r.Err.Error(), pw), "%s: %v", loc, r.Err)
				}
			}
			o := natsgo.GetDefaultOptions()
			o.Url = u
			check(t, open(t, lbnats.Config{Options: &o}))
			o = natsgo.GetDefaultOptions()
			o.Servers = []string{u}
			check(t, open(t, lbnats.Config{Options: &o}))
			s, ok := sources.Lookup("nats")
			require.True(t, ok)
			d, err := s.Open(sources.Config{LookupEnv: fixture.NewEnv("NATS_URL", u).Lookup})
			require.NoError(t, err)
			t.Cleanup(func() { _ = d.Close() })
			check(t, d)
		})
	}
}

// TestNATSURLList: NATS_URL holds a comma-separated list of servers, as
// nats.Connect and the nats CLI take it; the first one is down. The
// driver must try each and read from the one that is up.
func TestNATSURLList(t *testing.T) {
	s, _, kv := startBucket(t, "list")
	put(t, kv, "app", "one")
	sch, ok := sources.Lookup("nats")
	require.True(t, ok)
	d, err := sch.Open(sources.Config{LookupEnv: fixture.NewEnv("NATS_URL", "nats://127.0.0.1:1, "+s.URL()).Lookup})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	r := d.Read(ctx(t), target("list/app", nil))
	require.Equal(t, "one", string(r.Data), "%+v", r)
}

// TestEchoedCredentialScrubbed: whatever answers at the server's address
// refuses the connection with an -ERR that quotes the credential the
// client sent in its CONNECT (the client puts the server's words in its
// error). The credential must not reach the error, whether it is
// Options.Password, Options.Token or a token from Options.TokenHandler.
func TestEchoedCredentialScrubbed(t *testing.T) {
	const secret = "echoed-secret-0123456789"
	url := fakeServer(t, func(c net.Conn) {
		if _, err := c.Write(fakeInfo(`,"auth_required":true`)); err != nil {
			return
		}
		line, err := bufio.NewReader(c).ReadString('\n') // CONNECT {...}
		if err != nil {
			return
		}
		_, _ = c.Write([]byte("-ERR 'refused " + strings.TrimSpace(line) + "'\r\n"))
	})
	for name, set := range map[string]func(o *natsgo.Options){
		"password":      func(o *natsgo.Options) { o.User, o.Password = "app", secret },
		"token":         func(o *natsgo.Options) { o.Token = secret },
		"token handler": func(o *natsgo.Options) { o.TokenHandler = func() string { return secret } },
	} {
		t.Run(name, func(t *testing.T) {
			o := natsgo.GetDefaultOptions()
			o.Url = url
			set(&o)
			d := open(t, lbnats.Config{Options: &o})
			r := d.Read(ctx(t), target("b/k", nil))
			require.Error(t, r.Err)
			require.Contains(t, r.Err.Error(), "refused CONNECT", "the server's words are in the error")
			require.False(t, fixture.LeaksSecret(r.Err.Error(), secret), "%v", r.Err)
		})
	}
}
