package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// class sorts a response by what the watcher does next.
type class uint8

const (
	classData        class = iota // a value: 200, 203, 204
	classNotModified              // 304 to a conditional request
	classMissing                  // 404, 410
	classTransient                // may clear up soon: transport errors, 429, 5xx but 501
	classPermanent                // will not clear up soon: other statuses, too large bodies
	classEmpty                    // a value status with an empty body: an ErrEmpty error
)

// reply is what one request found. Header slices point into the response's
// header, which nothing modifies.
type reply struct {
	class      class
	data       []byte
	ctype      string        // media type of Content-Type, lower case
	etag       []string      // ETag, as received
	lastMod    []string      // Last-Modified
	fresh      time.Duration // Cache-Control max-age less Age; 0 if none
	retryAfter time.Duration // Retry-After of a 429 or 503; 0 if none
	err        *Error
}

// fetch sends req and classifies the response. The body of a value is read
// whole, up to maxbytes=; other bodies are not read (304) or only drained a
// little so that the connection can be reused. conditional says whether req
// carries a validator, without which a 304 makes no sense.
func (d *driver) fetch(req *nethttp.Request, s *spec, conditional bool) reply {
	resp, err := d.client.Do(req)
	if err != nil {
		err = sources.ContextError(req.Context(), err)
		if errors.Is(err, sources.ErrRedirect) {
			// A loop or a refused redirect: the server needs fixing, not a
			// quick retry. resp is the redirect, its body closed.
			e := d.transportError(err, s)
			if resp != nil {
				e.Status = resp.StatusCode
			}
			return reply{class: classPermanent, err: e}
		}
		if headersTooLarge(err) {
			// A server that sends them will send them again: the slow
			// backoff, as for a body over maxbytes=.
			return reply{class: classPermanent, err: &Error{URL: s.loc, Err: fmt.Errorf("response headers larger than %s: %w", d.headerLimit(), sources.ErrTooLarge)}}
		}
		return reply{class: classTransient, err: d.transportError(err, s)}
	}
	defer resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code == nethttp.StatusOK || code == nethttp.StatusNonAuthoritativeInfo || code == nethttp.StatusNoContent:
		data, err := readBody(resp, s.maxBytes)
		if err != nil {
			err = sources.ContextError(req.Context(), err)
			c := classTransient
			if errors.Is(err, sources.ErrTooLarge) {
				c = classPermanent
			}
			return reply{class: c, err: d.bodyError(err, s, code)}
		}
		if len(data) == 0 {
			// An empty document is never a configuration, in any format:
			// the server answered, but with nothing to apply.
			return reply{
				class: classEmpty,
				data:  data,
				fresh: freshness(resp.Header),
				err:   &Error{URL: s.loc, Status: code, Err: errEmptyBody},
			}
		}
		return reply{
			class:   classData,
			data:    data,
			ctype:   mediaType(resp.Header["Content-Type"]),
			etag:    first(resp.Header["Etag"]),
			lastMod: first(resp.Header["Last-Modified"]),
			fresh:   freshness(resp.Header),
		}
	case code == nethttp.StatusNotModified && conditional:
		// No body to read: net/http gives a 304 an empty one.
		return reply{
			class:   classNotModified,
			etag:    first(resp.Header["Etag"]),
			lastMod: first(resp.Header["Last-Modified"]),
			fresh:   freshness(resp.Header),
		}
	}
	drain(resp.Body)
	r := reply{class: classPermanent}
	switch {
	case code == nethttp.StatusNotFound || code == nethttp.StatusGone:
		return reply{class: classMissing}
	case sources.TransientStatus(code):
		r.class = classTransient
		if code == nethttp.StatusTooManyRequests || code == nethttp.StatusServiceUnavailable {
			if v := resp.Header["Retry-After"]; len(v) > 0 {
				r.retryAfter, _ = parseRetryAfter(v[0], resp.Header.Get("Date"), time.Now())
			}
		}
	}
	r.err = &Error{URL: s.loc, Status: code, Err: sources.ErrHTTPStatus}
	if code == nethttp.StatusUnauthorized || code == nethttp.StatusForbidden {
		r.err.Err = errRefused
	}
	return r
}

// The texts of net/http's errors for response headers over the
// transport's limit (MaxResponseHeaderBytes): net/http gives them no type.
// Over HTTP/1.x, an error of the chain starts with h1HeaderLimit; over
// HTTP/2, the stream error (which does not unwrap) ends with
// h2HeaderLimit. A single header field longer than the limit is instead
// an hpack COMPRESSION_ERROR of the connection, which does not say why,
// and stays a transport error.
const (
	h1HeaderLimit = "net/http: server response headers exceeded "
	h2HeaderLimit = "http2: response header list larger than advertised limit"
)

// headersTooLarge reports an error of net/http's client for response
// headers over the transport's limit. Only an error of its chain that
// starts (HTTP/1.x) or ends (HTTP/2) with net/http's text counts, not a
// text that quotes the server (a malformed status line, a GOAWAY's debug
// data, both quoted) and happens to hold it.
func headersTooLarge(err error) bool {
	for err != nil {
		if msg := err.Error(); strings.HasPrefix(msg, h1HeaderLimit) || strings.HasSuffix(msg, h2HeaderLimit) {
			return true
		}
		switch u := err.(type) { //nolint:errorlint // walks the chain by hand
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if headersTooLarge(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// headerLimit names the limit of response headers of the driver's client,
// for an error: MaxHeaderBytes for its own transport, the transport's
// MaxResponseHeaderBytes for a Config.Client's.
func (d *driver) headerLimit() string {
	if d.own != nil {
		return "http.MaxHeaderBytes (" + strconv.Itoa(MaxHeaderBytes) + " bytes)"
	}
	return "the client's MaxResponseHeaderBytes"
}

// errRefused is the cause of a 401 or 403: an unexpected status that is
// also [sources.ErrAuth], as the other drivers report refused credentials.
var errRefused = errors.Join(sources.ErrHTTPStatus, sources.ErrAuth)

// drain reads a little of a body nobody wants, so that net/http can reuse
// the connection; a longer body makes it close the connection instead.
func drain(body io.Reader) {
	_, _ = io.CopyN(io.Discard, body, errorDrain)
}

// first keeps the first value of a header, without copying.
func first(v []string) []string {
	if len(v) > 1 {
		return v[:1]
	}
	return v
}

// readBody reads a whole body, failing with sources.ErrTooLarge beyond
// maxBytes rather than truncating: at once when Content-Length says so, else
// once more than maxBytes came (sources.ReadAtMost reads at most one byte
// more, into memory near the body's size). The result is never nil.
func readBody(resp *nethttp.Response, maxBytes int64) ([]byte, error) {
	if resp.ContentLength > maxBytes {
		return nil, sources.ErrTooLarge
	}
	return sources.ReadAtMost(resp.Body, int(min(maxBytes, math.MaxInt-1)))
}

// errEmptyBody is the cause of an [*Error] for a value status with no body.
var errEmptyBody = fmt.Errorf("empty body: %w", sources.ErrEmpty)

func (d *driver) bodyError(err error, s *spec, code int) *Error {
	if errors.Is(err, sources.ErrTooLarge) {
		return &Error{URL: s.loc, Status: code, Err: fmt.Errorf("body larger than maxbytes=%d: %w", s.maxBytes, sources.ErrTooLarge)}
	}
	return &Error{URL: s.loc, Status: code, Err: fmt.Errorf("read body: %w", sources.Unreachable(d.sanitize(err, s))), hint: timeoutHint(err, s)}
}

// transportError rebuilds what net/http's Client.Do returned so that it
// names the URL redacted, and wraps sources.ErrUnreachable when no answer
// came (see [sources.Unreachable]). errors.Is and errors.As keep working on
// the cause (context.DeadlineExceeded, *net.OpError, x509 errors ...)
// unless its text had to be scrubbed or cut (see sanitize).
func (d *driver) transportError(err error, s *spec) *Error {
	return &Error{URL: s.loc, Err: sources.Unreachable(d.sanitize(err, s)), hint: timeoutHint(err, s)}
}

// secrets lists what a server must not get to echo into an error or a
// version: the configured headers' values and the URL's credentials.
func (d *driver) secrets(s *spec) []string {
	return sources.RequestSecrets(s.url, d.header, nethttp.Header{s.hname: s.hvalue})
}

// sanitize rewrites an error of net/http's client for display: the URL
// redacted (see [sources.SanitizeURLError]), and the cause's text, which
// may quote the server (net/http quotes a malformed status line or
// Location whole), cut to [sources.MaxServerText] and scrubbed of the
// configured headers' values and of the URL's credentials, so that a
// hostile server can neither echo a credential into it nor make it any
// size.
func (d *driver) sanitize(err error, s *spec) error {
	secrets := d.secrets(s)
	err = sources.SanitizeURLError(err, s.url)
	var ue *url.Error
	if errors.As(err, &ue) { // a fresh *url.Error of SanitizeURLError's
		ue.Err = serverError(ue.Err, secrets)
		return err
	}
	return serverError(err, secrets)
}

// serverError is [sources.ServerError], but a text that holds none of
// secrets and is only too long is cut without hiding err's parts:
// errors.As still reaches them (an x509 error that lists many names, a
// CheckRedirect error of the user's).
func serverError(err error, secrets []string) error {
	text := err.Error()
	msg := sources.ServerText(text, secrets...)
	switch {
	case msg == text:
		return err
	case msg != sources.ServerText(text): // a secret was hidden
		return sources.ServerError(err, secrets...)
	}
	return &clipped{msg: msg, err: err}
}

// clipped is an error whose text was cut; errors.Is and errors.As reach
// the error it holds.
type clipped struct {
	msg string
	err error
}

func (c *clipped) Error() string { return c.msg }
func (c *clipped) Unwrap() error { return c.err }

// timeoutHint names the option to raise when a request ran out of time.
func timeoutHint(err error, s *spec) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return " (timeout=" + s.timeout.String() + ")"
	}
	return ""
}

// mediaType returns the media type of a Content-Type header, without
// parameters, in lower case ("" without one).
func mediaType(v []string) string {
	if len(v) == 0 {
		return ""
	}
	mt, _, _ := strings.Cut(v[0], ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// freshness is how long a response stays fresh by its Cache-Control
// max-age, less its Age: 0 when there is none, or when no-cache or no-store
// asks for revalidation each time.
func freshness(h nethttp.Header) time.Duration {
	cc := h["Cache-Control"]
	if len(cc) == 0 {
		return 0
	}
	maxAge := int64(-1)
	for _, line := range cc {
		for line != "" {
			var dir string
			dir, line, _ = strings.Cut(line, ",")
			name, val, _ := strings.Cut(dir, "=")
			name = strings.TrimSpace(name)
			switch {
			case strings.EqualFold(name, "no-cache"), strings.EqualFold(name, "no-store"):
				return 0
			case strings.EqualFold(name, "max-age"):
				if n, ok := seconds(strings.Trim(strings.TrimSpace(val), `"`)); ok {
					maxAge = n
				}
			}
		}
	}
	if maxAge <= 0 {
		return 0
	}
	if v := h["Age"]; len(v) > 0 {
		if age, ok := seconds(strings.TrimSpace(v[0])); ok {
			maxAge -= age
		}
	}
	if maxAge <= 0 {
		return 0
	}
	return time.Duration(maxAge) * time.Second
}

// maxSeconds keeps a count of seconds within a time.Duration.
const maxSeconds = int64(math.MaxInt64 / time.Second)

// seconds parses delta-seconds (1*DIGIT), saturating at maxSeconds.
func seconds(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	for i := range len(v) {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > maxSeconds {
		return maxSeconds, true // only digits: too large
	}
	return n, true
}

// parseRetryAfter parses a Retry-After value: delay-seconds, or an HTTP date
// taken relative to the response's Date header when it has one (a server
// with a skewed clock means its own time), else to now. The result is never
// negative; ok is false for a value that is neither.
func parseRetryAfter(v, date string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if n, ok := seconds(v); ok {
		return time.Duration(n) * time.Second, true
	}
	at, err := nethttp.ParseTime(v)
	if err != nil {
		return 0, false
	}
	ref := now
	if dt, err := nethttp.ParseTime(strings.TrimSpace(date)); err == nil {
		ref = dt
	}
	return max(at.Sub(ref), 0), true
}

// Error reports a failed GET of an http target: no response (a transport
// error or timeout, wrapping net/http's *url.Error with the URL redacted,
// and [sources.ErrUnreachable] when the server gave no answer),
// a status that is neither a value (200, 203, 204), nor 304 to a
// conditional request, nor missing (404, 410) (wrapping [sources.ErrHTTPStatus]; 401 and
// 403 wrap [sources.ErrAuth] too), or a
// value whose body is empty ([sources.ErrEmpty]) or larger than maxbytes=
// ([sources.ErrTooLarge]), or response headers over the client's limit
// ([MaxHeaderBytes] for the driver's own transport; [sources.ErrTooLarge],
// Status 0). It never holds the body nor a header value.
type Error struct {
	// URL is the requested URL, redacted.
	URL string
	// Status is the HTTP status code of the response, or 0 when none came.
	Status int
	// Err is the cause.
	Err error

	hint string // the option to raise, after a timeout
}

// Error formats the error as "GET <url>: unexpected HTTP status 500
// Internal Server Error", or "GET <url>: <cause>".
func (e *Error) Error() string {
	s := "GET " + e.URL + ": "
	var ue *url.Error
	switch {
	case e.Err == sources.ErrHTTPStatus || e.Err == errRefused: //nolint:errorlint // only the bare sentinels get the status text
		s += sources.ErrHTTPStatus.Error() + " " + strconv.Itoa(e.Status)
		if t := nethttp.StatusText(e.Status); t != "" {
			s += " " + t
		}
	case errors.As(e.Err, &ue) && ue.Err != nil:
		s += ue.Err.Error() // its own text repeats the method and URL
	case e.Status != 0:
		s += "status " + strconv.Itoa(e.Status) + ": " + e.Err.Error()
	default:
		s += e.Err.Error()
	}
	return s + e.hint
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
