package sources

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Helpers for push sources that connect over HTTP (a WebSocket handshake,
// an event stream): the client, the maxbytes= option, and what a refused
// connect means.

// ErrRedirect is wrapped by the error of a connect that the client of
// [StreamClient] stopped at a redirect: to another origin, or one too many.
// It needs someone to fix the server or the URL: drivers retry it on the
// permanent backoff.
var ErrRedirect = errors.New("redirect refused")

// StreamClient returns the client a push source connects with: a copy of c
// without a Timeout (it would cut every stream off: the source bounds the
// connect itself) that refuses a redirect to another origin (scheme, host
// and port), where configured headers must not go, and stops after 10
// redirects, with errors wrapping [ErrRedirect]. When c is nil it builds
// a client over a clone of net/http.DefaultTransport and returns that
// transport as own, for the driver to close its idle connections at Close.
func StreamClient(c *http.Client) (client *http.Client, own *http.Transport) {
	if c == nil {
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			own = dt.Clone()
			c = &http.Client{Transport: own}
		} else {
			c = &http.Client{} // someone replaced DefaultTransport: use theirs
		}
	}
	cc := *c
	cc.Timeout = 0
	next := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("%w: to another origin", ErrRedirect)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return fmt.Errorf("%w: stopped after 10 redirects", ErrRedirect)
		}
		return nil
	}
	return &cc, own
}

// ParseMaxBytes parses a maxbytes= option: a positive whole number of
// bytes below 2 GiB. Its error quotes at most 32 bytes of v.
func ParseMaxBytes(v string) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 || n >= math.MaxInt32 {
		return 0, errors.New("option maxbytes: want a positive whole number of bytes below 2 GiB, got " + strconv.Quote(Clip(v, 32)))
	}
	return int(n), nil
}

// RefusedEnd says how a push source goes on after the server answered a
// connect with status code instead of opening the stream: 404 and 410 are
// Missing; 401 and 403 are [ErrAuth], on the permanent backoff; 429 and
// 5xx other than 501 are [ErrHTTPStatus], on the transient backoff; any
// other status is [ErrHTTPStatus] on the permanent backoff. typed wraps
// the sentinel into the source's own error, with the status.
func RefusedEnd(code int, typed func(status int, err error) error) *StreamEnd {
	switch {
	case code == http.StatusNotFound || code == http.StatusGone:
		return &StreamEnd{Result: Result{Missing: true}}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return &StreamEnd{Result: Result{Err: typed(code, ErrAuth)}, Permanent: true}
	case TransientStatus(code):
		return &StreamEnd{Result: Result{Err: typed(code, ErrHTTPStatus)}}
	}
	return &StreamEnd{Result: Result{Err: typed(code, ErrHTTPStatus)}, Permanent: true}
}

// StreamError is the common part of a push source's error (sse.Error,
// ws.Error embed it, so that each stays its own type for errors.As while
// they share their fields and text): a connect that failed or was refused,
// a message over maxbytes= ([ErrTooLarge]) or a stream cut off
// ([ErrDisconnected]). It names the URL redacted and never holds a message
// nor a header value.
type StreamError struct {
	// Scheme is the source's scheme, "sse" or "ws"; it starts the text.
	Scheme string
	// URL is the stream's URL, redacted.
	URL string
	// Status is the HTTP status of a refused connect, or 0 when no
	// response came.
	Status int
	// Err is the cause.
	Err error
}

// Error formats the error as "<scheme> <url>: [status <code> <text>: ]<cause>".
func (e *StreamError) Error() string {
	s := e.Scheme + " " + e.URL + ": "
	if e.Status != 0 {
		s += "status " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ": "
	}
	return s + e.Err.Error()
}

// Unwrap returns the cause.
func (e *StreamError) Unwrap() error { return e.Err }

// StreamSpec is what a push source over HTTP reads from every target.
type StreamSpec struct {
	// URL is the parsed location. It may hold credentials: never show it.
	URL *url.URL
	// Loc is the location redacted, for messages.
	Loc string
	// HeaderName and HeaderValue are the header= option's, or "".
	HeaderName, HeaderValue string
	// MaxBytes is the maxbytes= option, or the source's default.
	MaxBytes int
	// Timeout is the timeout= option, or the source's default.
	Timeout time.Duration
}

// ParseStreamSpec checks a push source's target: an absolute URL with a
// host whose scheme is plain or tls ("http" or "https"), and its header=
// and maxbytes= options; maxBytes and timeout are the defaults. Its errors
// start with the source's name and the location redacted.
func ParseStreamSpec(t *Target, name, plain, tls string, maxBytes int, timeout time.Duration) (StreamSpec, error) {
	s := StreamSpec{Loc: RedactURL(t.Location), MaxBytes: maxBytes, Timeout: t.Timeout}
	if s.Timeout <= 0 {
		s.Timeout = timeout
	}
	prefix := name + " " + s.Loc + ": "
	u, err := url.Parse(t.Location)
	if err != nil || (u.Scheme != plain && u.Scheme != tls) || u.Host == "" {
		return StreamSpec{}, errors.New(prefix + "location must be an absolute " + plain + ":// or " + tls + ":// URL")
	}
	s.URL = u
	if v, ok := t.Param("maxbytes"); ok {
		if s.MaxBytes, err = ParseMaxBytes(v); err != nil {
			return StreamSpec{}, errors.New(prefix + err.Error())
		}
	}
	if v, ok := t.Param("header"); ok {
		if s.HeaderName, s.HeaderValue, err = ParseHeader(v); err != nil {
			return StreamSpec{}, errors.New(prefix + "option header: " + err.Error())
		}
	}
	return s, nil
}
