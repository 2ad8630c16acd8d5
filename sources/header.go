package sources

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ParseHeader splits a header= option's "Name: value" into the canonical
// header name and its value. Its errors never quote the input, which may
// hold a credential.
func ParseHeader(v string) (name, value string, err error) {
	name, value, ok := strings.Cut(v, ":")
	if !ok {
		return "", "", errors.New(`want "Name: value" (the value is not shown)`)
	}
	name = strings.TrimSpace(name)
	if !validHeaderName(name) {
		return "", "", errors.New(`want "Name: value" with a header name made of letters, digits and !#$%&'*+-.^_|~ (the header is not shown)`)
	}
	value = strings.Trim(value, " \t")
	if strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		// net/http refuses to send such a value: refuse it here, at Bind,
		// rather than fail every request.
		return "", "", errors.New("the value of header " + http.CanonicalHeaderKey(name) + " holds a control character (the value is not shown)")
	}
	return http.CanonicalHeaderKey(name), value, nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := range len(name) {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_|~`", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// HiddenHeader shows h for display (a driver Config's String): the header
// names, sorted, each with the value [Redacted], so that printing a Config
// never shows an Authorization token or an API key.
func HiddenHeader(h http.Header) string {
	names := slices.Sorted(maps.Keys(h))
	for i, n := range names {
		names[i] = n + ": " + Redacted
	}
	return "{" + strings.Join(names, ", ") + "}"
}

// HeaderSecrets lists what a server must not get to echo into an error
// (see [ServerText], [ServerError]): the values of h and values, and each
// space-separated word of them (the token of "Bearer <token>"), of at
// least 8 bytes; shorter ones ("1", "json") would take apart unrelated
// words and numbers, and are no credential.
func HeaderSecrets(h http.Header, values ...string) []string {
	var out []string
	add := func(v string) {
		if len(v) >= minHeaderSecret {
			out = append(out, v)
		}
		for _, w := range strings.Fields(v) {
			if len(w) >= minHeaderSecret && w != v {
				out = append(out, w)
			}
		}
	}
	for _, vs := range h {
		for _, v := range vs {
			add(v)
		}
	}
	for _, v := range values {
		add(v)
	}
	return out
}

// RequestSecrets lists what a request carries that a server must not get
// to echo into an error (see [ServerText], [ServerError]): the header
// values [HeaderSecrets] lists of h and values, and what [RedactURL] hides
// of u (user information, query values, the fragment).
func RequestSecrets(u *url.URL, h http.Header, values ...string) []string {
	return append(HeaderSecrets(h, values...), urlSecrets(u)...)
}

// minHeaderSecret is the shortest header value, or word of one, that
// [HeaderSecrets] lists.
const minHeaderSecret = 8
