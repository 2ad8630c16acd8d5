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
// (see [ServerText], [ServerError]): the header values of hs, and each
// space-separated word of them (the token of "Bearer <token>"). A value or
// word of a header that carries a credential (see credentialHeader) is
// listed from 4 bytes, as a URL's credentials are (the scheme word of a
// multi-word Authorization value, "Bearer", is not a credential and is
// left); those of other headers from 8 bytes: shorter ones ("1", "json")
// would take apart unrelated words and numbers, and are no credential.
func HeaderSecrets(hs ...http.Header) []string {
	var out []string
	add := func(v string, least int, skipFirst bool) {
		if len(v) >= least && !slices.Contains(out, v) {
			out = append(out, v)
		}
		words := strings.Fields(v)
		if skipFirst && len(words) > 1 {
			words = words[1:]
		}
		for _, w := range words {
			if len(w) >= least && w != v && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	for _, h := range hs {
		for name, vs := range h {
			least, scheme := minHeaderSecret, false
			if credentialHeader(name) {
				least = minURLSecret
				scheme = strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization")
			}
			for _, v := range vs {
				add(v, least, scheme)
			}
		}
	}
	return out
}

// credentialHeader reports whether a header named name carries a
// credential by its name: Authorization, Proxy-Authorization, Cookie, or
// a name that holds "token", "key", "secret", "auth", "pass", "session",
// "signature" or "credential" (X-Api-Key, X-Auth-Token, X-Vault-Token),
// in any case. [HeaderSecrets] lists the short values of such headers too.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "cookie" {
		return true
	}
	for _, w := range credentialWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// credentialWords are the parts of a header name that make it a
// credential's (see credentialHeader); "auth" covers Authorization.
var credentialWords = []string{"token", "key", "secret", "auth", "pass", "session", "signature", "credential"}

// RequestSecrets lists what a request carries that a server must not get
// to echo into an error (see [ServerText], [ServerError]): the header
// values [HeaderSecrets] lists of hs, and what [RedactURL] hides of u
// (user information, query values, the fragment).
func RequestSecrets(u *url.URL, hs ...http.Header) []string {
	return append(HeaderSecrets(hs...), urlSecrets(u)...)
}

// minHeaderSecret is the shortest value, or word of one, of a header that
// is not a credentialHeader that [HeaderSecrets] lists.
const minHeaderSecret = 8
