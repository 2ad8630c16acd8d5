package http

import (
	"context"
	"errors"
	"fmt"
	nethttp "net/http"
	"net/url"
	"strings"

	"github.com/livebind/livebind/sources"
)

// maxRedirects is how many redirects a request follows when the client has
// no CheckRedirect of its own, as net/http's default policy.
const maxRedirects = 10

// errTooManyRedirects is net/http's message for the same condition, as a
// [sources.ErrRedirect]: a loop needs someone to fix the server.
var errTooManyRedirects = fmt.Errorf("%w: stopped after 10 redirects", sources.ErrRedirect)

// headerKey is the context key under which a request carries the name of
// its header= header, for checkRedirect.
type headerKey struct{}

// withClient returns a copy of c whose CheckRedirect never forwards a
// configured header (Config.Header and header=) to another origin, then
// applies c's own CheckRedirect, or net/http's default limit of ten
// redirects. Every refusal wraps [sources.ErrRedirect] (and the error of
// c's CheckRedirect, for errors.Is), so that fetch retries it on the
// permanent backoff. c itself is not modified.
func (d *driver) withClient(c *nethttp.Client) *nethttp.Client {
	cp := *c
	next := c.CheckRedirect
	cp.CheckRedirect = func(req *nethttp.Request, via []*nethttp.Request) error {
		if err := checkScheme(req, via); err != nil {
			return err
		}
		d.stripForeign(req, via)
		if next != nil {
			err := next(req, via)
			if err != nil && !errors.Is(err, nethttp.ErrUseLastResponse) && !errors.Is(err, sources.ErrRedirect) {
				err = fmt.Errorf("%w: %w", sources.ErrRedirect, err)
			}
			return err
		}
		if len(via) >= maxRedirects {
			return errTooManyRedirects
		}
		return nil
	}
	return &cp
}

// checkScheme refuses a redirect to a scheme other than http and https,
// and one from https down to plain http, where anyone on the path could
// change the configuration the chain started to fetch over TLS.
func checkScheme(req *nethttp.Request, via []*nethttp.Request) error {
	to := strings.ToLower(req.URL.Scheme)
	switch {
	case to != "http" && to != "https":
		return fmt.Errorf("%w: to scheme %q", sources.ErrRedirect, sources.Clip(to, 16))
	case to == "http" && len(via) > 0 && strings.EqualFold(via[0].URL.Scheme, "https"):
		return fmt.Errorf("%w: from https down to http", sources.ErrRedirect)
	}
	return nil
}

// stripForeign removes the configured headers from a redirect's next
// request once the chain has left the origin (scheme, host and port) of the
// configured URL, via[0]. net/http copies every header of the first request
// to each redirect and drops only Authorization, Cookie and their kin, and
// only for another host name: 127.0.0.1:8080 and 127.0.0.1:9090 share them,
// and an X-Api-Key goes anywhere. The Referer net/http adds is dropped too:
// it is the previous URL, query credentials included. A chain that comes
// back to the origin through another host does not get the headers back:
// that host chose the path.
func (d *driver) stripForeign(req *nethttp.Request, via []*nethttp.Request) {
	if len(via) == 0 {
		return
	}
	origin := via[0].URL
	foreign := !sameOrigin(origin, req.URL)
	for _, r := range via[1:] {
		foreign = foreign || !sameOrigin(origin, r.URL)
	}
	if !foreign {
		return
	}
	for k := range d.header {
		delete(req.Header, nethttp.CanonicalHeaderKey(k))
		delete(req.Header, k) // a non-canonical key set by hand
	}
	if name, _ := req.Context().Value(headerKey{}).(string); name != "" {
		delete(req.Header, name)
	}
	delete(req.Header, "Referer")
}

// sameOrigin reports whether a and b have the same scheme, host and port
// (a missing port is the scheme's default).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

// portOf is u's port, or the default port of its scheme.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// withHeaderName records the header= header's name in ctx for
// stripForeign; ctx is returned as is when there is none.
func withHeaderName(ctx context.Context, name string) context.Context {
	if name == "" {
		return ctx
	}
	return context.WithValue(ctx, headerKey{}, name)
}
