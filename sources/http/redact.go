package http

import (
	"net/url"
	"strings"
)

// redacted replaces every hidden part of a URL.
const redacted = "xxxxx"

// sensitiveKeys are the substrings that make a query parameter's value
// hidden, matched against its name in lower case ("sig" covers signature,
// X-Amz-Signature and sig itself).
var sensitiveKeys = []string{"token", "key", "secret", "password", "passwd", "pwd", "sig", "auth", "credential", "session"}

// redactURL rewrites a location for display: a password in the userinfo
// becomes xxxxx, and so does a user name without a password (often a token,
// as in https://TOKEN@host/), and the value of every query or fragment
// parameter whose name contains one of sensitiveKeys. A location that does
// not parse as a URL is not shown at all.
func redactURL(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "<invalid URL>"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redacted)
		} else if u.User.Username() != "" {
			u.User = url.User(redacted)
		}
	}
	u.RawQuery = redactParams(u.RawQuery)
	if u.Fragment != "" {
		ef := u.EscapedFragment()
		if rf := redactParams(ef); rf != ef {
			u.RawFragment = rf
			if u.Fragment, err = url.PathUnescape(rf); err != nil {
				u.Fragment, u.RawFragment = redacted, ""
			}
		}
	}
	return u.String()
}

// redactParams hides the values of sensitive parameters in a raw query
// (name=value pairs separated by & or ;), keeping everything else as it is.
func redactParams(raw string) string {
	if raw == "" || !strings.Contains(raw, "=") {
		return raw
	}
	var b strings.Builder
	changed := false
	rest := raw
	for rest != "" {
		end := strings.IndexAny(rest, "&;")
		part, sep := rest, ""
		if end >= 0 {
			part, sep, rest = rest[:end], rest[end:end+1], rest[end+1:]
		} else {
			rest = ""
		}
		if name, _, ok := strings.Cut(part, "="); ok && sensitive(name) {
			part = name + "=" + redacted
			changed = true
		}
		b.WriteString(part)
		b.WriteString(sep)
	}
	if !changed {
		return raw
	}
	return b.String()
}

// sensitive reports whether a raw parameter name names a credential.
func sensitive(raw string) bool {
	name, err := url.QueryUnescape(raw)
	if err != nil {
		name = raw
	}
	name = strings.ToLower(name)
	for _, k := range sensitiveKeys {
		if strings.Contains(name, k) {
			return true
		}
	}
	return false
}
