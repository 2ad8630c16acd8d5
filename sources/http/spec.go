package http

import (
	"context"
	"errors"
	"math"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// spec is a target's options, checked.
type spec struct {
	url      *url.URL // the URL as given: never shown; shared, never modified
	loc      string   // the URL redacted, for errors and logs
	hname    string   // canonical name of the header= header, or ""
	hvalue   []string // its value, one element
	maxBytes int64
	poll     time.Duration
	timeout  time.Duration
}

// acceptValue asks for the formats livebind decodes. It is shared by every
// request and never modified.
var acceptValue = []string{"application/json, application/yaml, application/toml, text/plain;q=0.9, */*;q=0.8"}

// parseSpec checks a target's location and options. Its errors never quote
// the URL unredacted nor the header's value.
func parseSpec(t *sources.Target) (*spec, error) {
	s := &spec{
		loc:      redactURL(t.Location),
		maxBytes: DefaultMaxBytes,
		poll:     t.Poll,
		timeout:  t.Timeout,
	}
	if s.poll <= 0 {
		s.poll = DefaultPoll
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	u, err := url.Parse(t.Location)
	if err != nil {
		return nil, errors.New("http " + s.loc + ": location is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("http " + s.loc + ": location must be an absolute http:// or https:// URL")
	}
	u.Host = strings.TrimSuffix(u.Host, ":") // like net/http.NewRequest: "host:" means the default port
	s.url = u
	if v, ok := t.Param("maxbytes"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 || n == math.MaxInt64 {
			return nil, errors.New("http " + s.loc + ": option maxbytes: want a positive whole number of bytes, got " + strconv.Quote(clip(v)))
		}
		s.maxBytes = n
	}
	if v, ok := t.Param("header"); ok {
		name, value, err := parseHeader(v)
		if err != nil {
			return nil, errors.New("http " + s.loc + ": option header: " + err.Error())
		}
		s.hname, s.hvalue = name, []string{value}
	}
	return s, nil
}

// parseHeader splits "Name: value" (see [sources.ParseHeader]).
func parseHeader(v string) (name, value string, err error) { return sources.ParseHeader(v) }

// clip shortens an option value quoted in an error.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// newRequest builds a GET for s: Config.Header, an Accept header unless the
// user set one, then the header= option.
func (d *driver) newRequest(ctx context.Context, s *spec) *nethttp.Request {
	h := make(nethttp.Header, len(d.header)+3)
	for k, v := range d.header {
		h[k] = v
	}
	if _, ok := h["Accept"]; !ok {
		h["Accept"] = acceptValue
	}
	// Built by hand from the parsed URL, like net/http.NewRequest does, so
	// that no error path can quote the URL.
	req := (&nethttp.Request{
		Method:     nethttp.MethodGet,
		URL:        s.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       s.url.Host,
	}).WithContext(withHeaderName(ctx, s.hname))
	if s.hname == "Host" {
		req.Host = s.hvalue[0]
	} else if s.hname != "" {
		h[s.hname] = s.hvalue
	}
	return req
}
