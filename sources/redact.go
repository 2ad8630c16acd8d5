package sources

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces every hidden part of a location.
const Redacted = "xxxxx"

// HiddenLocation replaces a whole location marked secret.
const HiddenLocation = "[secret location]"

// RedactURL rewrites a URL for display by a conservative rule: the scheme,
// host, port and path are shown; the user information (user name and
// password) is replaced by xxxxx; every query parameter keeps its name but
// its value becomes xxxxx, and so does a parameter with no value (which may
// itself be a key); a fragment is replaced by xxxxx. A URL that lost its
// "//" (http:user:pw@host/x) has its user information hidden too. A location that does not
// parse as a URL is not shown at all. The path is shown as it is: a URL
// that carries a credential in its path (a webhook URL, /bot<token>/) must
// be marked secret as a whole (livebind's secretlocation option).
// Use [ShowSafeQuery] to show the values of parameters declared safe.
func RedactURL(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "<invalid URL>"
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	// A URL missing its "//" ("http:user:pw@host/x", "https:/user:pw@host")
	// has no host: its user information is in the opaque part or the path.
	if u.Opaque != "" {
		u.Opaque = hideUserinfo(u.Opaque)
	} else if u.Host == "" {
		if p := hideUserinfo(u.Path); p != u.Path {
			u.Path, u.RawPath = p, ""
		}
	}
	u.RawQuery = mapParams(u.RawQuery, func(name, _ string, _ bool) string {
		if name == "" {
			return Redacted
		}
		return name + "=" + Redacted
	})
	u.ForceQuery = false
	if u.Fragment != "" || u.RawFragment != "" {
		u.Fragment, u.RawFragment = Redacted, ""
	}
	return u.String()
}

// hideUserinfo hides what looks like user information in p, the opaque
// part or path of a URL without a host: the first segment after any
// leading slashes, up to its last '@'.
func hideUserinfo(p string) string {
	start := len(p) - len(strings.TrimLeft(p, "/"))
	seg := p[start:]
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg = seg[:i]
	}
	at := strings.LastIndexByte(seg, '@')
	if at < 0 {
		return p
	}
	return p[:start] + Redacted + p[start+at:]
}

// mapParams rewrites each element of a raw query (name=value pairs
// separated by & or ;) with fn, which gets the raw name (empty for an
// element without '='), the raw value and whether there was an '='.
func mapParams(raw string, fn func(name, value string, eq bool) string) string {
	if raw == "" {
		return raw
	}
	var b strings.Builder
	for rest := raw; ; {
		end := strings.IndexAny(rest, "&;")
		part := rest
		if end >= 0 {
			part = rest[:end]
		}
		if part != "" {
			name, value, eq := strings.Cut(part, "=")
			if !eq {
				name, value = "", part
			}
			b.WriteString(fn(name, value, eq))
		}
		if end < 0 {
			break
		}
		b.WriteByte(rest[end])
		rest = rest[end+1:]
	}
	return b.String()
}

// ShowSafeQuery puts back into redacted (a location rewritten by a redaction
// function that keeps the query's parameters in order, such as
// [RedactURL]) the values that original holds for the query parameters
// named in safe (compared after unescaping). Anything that does not line up
// parameter for parameter is left redacted.
func ShowSafeQuery(redacted, original string, safe []string) string {
	if len(safe) == 0 {
		return redacted
	}
	ru, err1 := url.Parse(redacted)
	ou, err2 := url.Parse(original)
	if err1 != nil || err2 != nil {
		return redacted
	}
	var orig []string
	mapParams(ou.RawQuery, func(name, value string, eq bool) string {
		if eq {
			orig = append(orig, name+"="+value)
		} else {
			orig = append(orig, value)
		}
		return ""
	})
	i, ok := 0, true
	q := mapParams(ru.RawQuery, func(name, value string, eq bool) string {
		kept := name + "=" + value
		if !eq {
			kept = value
		}
		if i >= len(orig) {
			ok = false
			return kept
		}
		o := orig[i]
		i++
		oname, _, oeq := strings.Cut(o, "=")
		switch {
		case eq && oeq && oname == name && isSafe(name, safe):
			return o
		case !eq && !oeq && isSafe(o, safe): // a bare element declared safe by its text
			return o
		}
		if eq && (!oeq || oname != name) {
			ok = false
		}
		return kept
	})
	if !ok || i != len(orig) {
		return redacted
	}
	ru.RawQuery = q
	return ru.String()
}

func isSafe(raw string, safe []string) bool {
	name, err := url.QueryUnescape(raw)
	if err != nil {
		return false
	}
	return slices.Contains(safe, name)
}

// urlPattern finds URLs in free text.
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>` + "`" + `]*`)

// ScrubLocation removes a secret location from text (an error message or a
// log line): every URL in it, the location itself, and each piece of the
// location (split at / ? & = # : @ ; , and spaces) of 8 bytes or more, so
// that a token survives neither whole nor in part. Each is replaced by
// [HiddenLocation].
func ScrubLocation(text, location string) string {
	if text == "" {
		return text
	}
	text = urlPattern.ReplaceAllLiteralString(text, HiddenLocation)
	if location != "" {
		text = strings.ReplaceAll(text, location, HiddenLocation)
	}
	for _, p := range locationPieces(location) {
		text = strings.ReplaceAll(text, p, HiddenLocation)
	}
	return text
}

// locationPieces returns the pieces of loc that ScrubLocation removes,
// longest first (so a piece is not half-replaced by a shorter one), with
// their unescaped forms.
func locationPieces(loc string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(loc, func(r rune) bool { return strings.ContainsRune("/?&=#:@;, ", r) }) {
		for _, q := range []string{p, unescaped(p)} {
			if len(q) >= 8 && !slices.Contains(out, q) {
				out = append(out, q)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func unescaped(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// ScrubError wraps err so that its message has every given location
// scrubbed (see [ScrubLocation]); errors.Is and errors.As still see err.
func ScrubError(err error, locations ...string) error {
	if err == nil || len(locations) == 0 {
		return err
	}
	return &scrubbedError{err: err, locs: locations}
}

type scrubbedError struct {
	err  error
	locs []string
}

func (e *scrubbedError) Error() string {
	s := e.err.Error()
	for _, l := range e.locs {
		s = ScrubLocation(s, l)
	}
	return s
}

func (e *scrubbedError) Unwrap() error { return e.err }

// ScrubLogger returns a logger that writes through l with every given
// location scrubbed from the message and from every attribute's text
// (strings, errors, and anything else formatted with fmt). With no
// locations it returns l.
func ScrubLogger(l *slog.Logger, locations []string) *slog.Logger {
	if len(locations) == 0 {
		return l
	}
	return slog.New(&scrubHandler{inner: l.Handler(), locs: locations})
}

type scrubHandler struct {
	inner slog.Handler
	locs  []string
}

func (h *scrubHandler) scrub(s string) string {
	for _, l := range h.locs {
		s = ScrubLocation(s, l)
	}
	return s
}

func (h *scrubHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = h.attr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindString:
		return slog.String(a.Key, h.scrub(v.String()))
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.scrub(err.Error()))
		}
		return slog.String(a.Key, h.scrub(v.String()))
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}

func (h *scrubHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *scrubHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = h.attr(a)
	}
	return &scrubHandler{inner: h.inner.WithAttrs(out), locs: h.locs}
}

func (h *scrubHandler) WithGroup(name string) slog.Handler {
	return &scrubHandler{inner: h.inner.WithGroup(name), locs: h.locs}
}

// minURLSecret is the shortest credential of a URL that [SanitizeURLError]
// scrubs from free text: shorter values ("1", "eu") would take apart
// unrelated words and numbers, and are no credential.
const minURLSecret = 4

// SanitizeURLError rewrites an error of net/http's client for display: the
// URL of a *url.Error (which net/http fills with the request's URL, only
// its password hidden) is redacted by [RedactURL], and every credential of
// u, the target's URL (the user name and password, each query value or bare
// query element, the fragment; raw and unescaped, of 4 bytes or more), is
// scrubbed from the cause's text as [Scrub] does: net/http quotes a
// redirect's Location that does not parse, and a server that redirects
// keeps the query. Other errors are returned as they are.
func SanitizeURLError(err error, u *url.URL) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: Scrub(ue.Err, urlSecrets(u)...)}
}

// urlSecrets lists the parts of u that RedactURL hides, raw and unescaped,
// of at least minURLSecret bytes, but for those that the redacted URL shows
// anyway as a whole word (a query value that repeats the port or a piece
// of the host name):
// scrubbing them would hide nothing, and would take errors.As away from a
// cause that quotes the address (*net.OpError, *net.DNSError).
func urlSecrets(u *url.URL) []string {
	if u == nil {
		return nil
	}
	shown := RedactURL(u.String())
	var raw []string
	if u.User != nil {
		pw, _ := u.User.Password()
		raw = append(raw, u.User.Username(), pw)
	}
	mapParams(u.RawQuery, func(_, value string, _ bool) string {
		raw = append(raw, value)
		return ""
	})
	raw = append(raw, u.Fragment, u.RawFragment)
	var out []string
	for _, s := range raw {
		for _, q := range []string{s, unescapedQuery(s), url.QueryEscape(s)} {
			if len(q) >= minURLSecret && !slices.Contains(out, q) && !showsWord(shown, q) {
				out = append(out, q)
			}
		}
	}
	return out
}

// showsWord reports whether text holds w as a whole word: not inside a
// longer run of letters and digits (a key "conf" is not shown by a path
// "/config.json").
func showsWord(text, w string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		if (start == 0 || !isWordByte(text[start-1])) && (end == len(text) || !isWordByte(text[end])) {
			return true
		}
		i = start + 1
	}
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func unescapedQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
