package nats

import (
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// subjectPrefix starts a core subject's location; any other location is
// bucket/key.
const subjectPrefix = "subject:"

// watchKey identifies one watch: fields with equal keys share it.
type watchKey struct {
	bucket, key string // key-value mode
	subject     string // subject mode
	maxBytes    int
	timeout     time.Duration // bounds one read: timeout=, or DefaultTimeout
}

// parseSpec reads a target's location and options.
func parseSpec(t *sources.Target) (watchKey, error) {
	k := watchKey{maxBytes: DefaultMaxBytes, timeout: sources.OrDefault(t.Timeout, DefaultTimeout)}
	var p sources.Problems
	if s, ok := strings.CutPrefix(t.Location, subjectPrefix); ok {
		k.subject = s
		if !validSubject(s) {
			p.Addf("subject %q is not a NATS subject (tokens of letters, digits, - and _ separated by dots; * and > as wildcards)", s)
		}
	} else {
		b, key, ok := strings.Cut(t.Location, "/")
		k.bucket, k.key = b, key
		switch {
		case !ok || b == "" || key == "":
			p.Addf("location %q is not bucket/key (or subject:NAME for a core subject)", t.Location)
		case !validName(b, false):
			p.Addf("bucket %q: only letters, digits, - and _", b)
		case !validName(key, true) || strings.HasPrefix(key, ".") || strings.HasSuffix(key, "."):
			p.Addf("key %q: only letters, digits and -_=/. (not starting or ending with a dot)", key)
		}
	}
	for name, val := range t.SortedParams() {
		switch name {
		case "maxbytes":
			p.MaxBytes(val, &k.maxBytes)
		default:
			p.Unknown(name)
		}
	}
	if err := p.Err(); err != nil {
		return watchKey{}, &Error{Bucket: k.bucket, Key: k.key, Subject: k.subject, Err: err}
	}
	return k, nil
}

// validName reports whether s holds only letters, digits, - and _ (and,
// for a key, also /, = and .).
func validName(s string, key bool) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case key && (c == '/' || c == '=' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// validSubject reports whether s is a subject to subscribe to: non-empty
// tokens separated by dots, without spaces or control characters, where
// > may only be the last token.
func validSubject(s string) bool {
	if s == "" {
		return false
	}
	tokens := strings.Split(s, ".")
	for i, tok := range tokens {
		if tok == "" || strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return false
		}
		if strings.Contains(tok, ">") && (tok != ">" || i != len(tokens)-1) {
			return false
		}
		if strings.Contains(tok, "*") && tok != "*" {
			return false
		}
	}
	return true
}
