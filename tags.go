package livebind

import (
	"errors"
	"fmt"
	"strings"
)

// tagOption is one `name` or `name=value` element of a live tag.
type tagOption struct {
	name     string
	value    string
	hasValue bool
}

// tagSpec is a parsed live tag: the source element first, then the options in
// the order written.
type tagSpec struct {
	scheme   string
	location string
	options  []tagOption
}

// parseTag parses a live tag of the form
//
//	<scheme>=<location>; <option>=<value>; <flag>
//
// Elements are separated by ';' (write `\;` for a literal semicolon and `\\`
// for a backslash) and trimmed of surrounding spaces. Only the first '=' of an
// element separates its name from its value, so values may contain '=', ',',
// '?', '&' and spaces. parseTag is pure: it knows nothing about which schemes
// are registered or which options exist; it checks only the shape. Every
// problem found is returned, joined.
func parseTag(tag string) (tagSpec, error) {
	var spec tagSpec
	elems := splitTag(tag)
	if len(elems) == 0 {
		return spec, errors.New("empty tag: want <scheme>=<location>")
	}
	var errs []error
	name, value, ok := strings.Cut(elems[0], "=")
	name = strings.TrimSpace(name)
	value = strings.TrimSpace(value)
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("first element %q is not a source: want <scheme>=<location>", clip(elems[0])))
	case !isName(name):
		errs = append(errs, fmt.Errorf("invalid scheme name %q", clip(name)))
	case value == "":
		errs = append(errs, fmt.Errorf("source %s has an empty location", name))
	default:
		spec.scheme, spec.location = name, value
	}
	seen := make(map[string]bool, len(elems))
	for _, e := range elems[1:] {
		n, v, has := strings.Cut(e, "=")
		n = strings.TrimSpace(n)
		if !isName(n) {
			errs = append(errs, fmt.Errorf("invalid option name %q", clip(n)))
			continue
		}
		if seen[n] {
			errs = append(errs, fmt.Errorf("option %s given twice", n))
			continue
		}
		seen[n] = true
		spec.options = append(spec.options, tagOption{name: n, value: strings.TrimSpace(v), hasValue: has})
	}
	return spec, errors.Join(errs...)
}

// splitTag splits on unescaped ';', resolves the two escapes and drops empty
// elements.
func splitTag(tag string) []string {
	var (
		elems []string
		cur   strings.Builder
	)
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			elems = append(elems, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		switch c {
		case '\\':
			if i+1 < len(tag) && (tag[i+1] == ';' || tag[i+1] == '\\') {
				cur.WriteByte(tag[i+1])
				i++
				continue
			}
			cur.WriteByte(c)
		case ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return elems
}

// isName reports whether s is a scheme or option name: a lowercase letter
// followed by lowercase letters, digits, '_' or '-'.
func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	const limit = 40
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// expand replaces ${VAR}, ${VAR:-default} (default when VAR is unset or
// empty) and ${VAR-default} (default only when VAR is unset) using lookup.
// `$${` stands for a literal `${`. A lone '$' is left alone, so URLs and
// passwords with '$' survive. Unset variables without a default expand to the
// empty string. Defaults are literal: they are not expanded again.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ at offset %d", i)
		}
		body := s[i+2 : i+2+end]
		i += 2 + end + 1
		name, def, mode := body, "", ""
		if j := strings.Index(body, ":-"); j >= 0 {
			name, def, mode = body[:j], body[j+2:], ":-"
		} else if j := strings.IndexByte(body, '-'); j >= 0 {
			name, def, mode = body[:j], body[j+1:], "-"
		}
		if !isEnvName(name) {
			return "", fmt.Errorf("invalid variable name %q in ${...}", clip(name))
		}
		v, ok := lookup(name)
		switch {
		case mode == ":-" && v == "":
			v = def
		case mode == "-" && !ok:
			v = def
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// isEnvName reports whether s is a POSIX-style variable name.
func isEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
