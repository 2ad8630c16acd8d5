package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/livebind/livebind/sources"
)

// location is a parsed location: a Vault logical path and an optional field.
type location struct {
	path     string // no leading or trailing "/"
	field    string
	hasField bool
}

// parseLocation parses `<path>[#field]`. The path is a Vault logical path
// as the CLI and the API take it, without /v1/: "secret/data/db",
// "secret/db", "kv1/app", "database/creds/app". A leading "/" is ignored.
// The first "#" starts the field, which is a top-level key of the secret's
// data and may hold any character.
func parseLocation(loc string) (location, error) {
	path, field, hasField := strings.Cut(loc, "#")
	l := location{path: strings.TrimPrefix(path, "/"), field: field, hasField: hasField}
	switch {
	case l.path == "":
		return l, errors.New("empty path")
	case hasField && field == "":
		return l, errors.New(`empty field after "#"`)
	case strings.HasSuffix(l.path, "/"):
		return l, errors.New(`the path ends in "/": that is a folder, not a secret`)
	case strings.HasPrefix(l.path, "v1/"):
		return l, errors.New("write the logical path without the /v1/ of the HTTP API")
	}
	if i := strings.IndexFunc(l.path, unicode.IsControl); i >= 0 {
		return l, fmt.Errorf("control character at byte %d of the path", i)
	}
	for seg := range strings.SplitSeq(l.path, "/") {
		switch seg {
		case "":
			return l, errors.New(`empty segment ("//") in the path`)
		case ".", "..":
			return l, fmt.Errorf("%q segment in the path", seg)
		}
	}
	return l, nil
}

// spec is a target's parsed location and options.
type spec struct {
	location
	kv      int    // 0: detect from the mount; 1 or 2: forced by kv=
	mount   string // mount= with a trailing "/", only with kv=2
	poll    time.Duration
	timeout time.Duration
	write   string // write=: the JSON body of the write that issues the secret; "" for a read
}

// watchKey identifies a watcher. Targets whose secret is already resolved
// (the usual case: Read resolved it) share the watcher of that secret
// whatever field they select and however they spell it (secret/db and
// secret/data/db); a target that must still be resolved is keyed by its
// spelling, kv= and mount=.
type watchKey struct {
	resolved resolved
	path     string
	kv       int
	mount    string
	write    string
}

// parseSpec reads and checks a target's location and options; poll and
// timeout default to the driver's.
func parseSpec(t *sources.Target, poll, timeout time.Duration) (spec, error) {
	loc, err := parseLocation(t.Location)
	s := spec{location: loc, poll: poll, timeout: sources.OrDefault(t.Timeout, timeout)}
	var p sources.Problems
	p.Add(err)
	if t.Poll > 0 {
		s.poll = t.Poll
	}
	for name, val := range t.SortedParams() {
		switch name {
		case "kv":
			switch val {
			case "1":
				s.kv = 1
			case "2":
				s.kv = 2
			default:
				p.Addf("kv=%q: want kv=1 or kv=2", val)
			}
		case "mount":
			m := strings.Trim(val, "/")
			if m == "" || strings.Contains(m, "//") {
				p.Addf("mount=%q is not a mount path such as secret or team/kv", val)
				continue
			}
			s.mount = m + "/"
		case "write":
			sources.ParseOption(&p, val, parseWrite, &s.write)
		default:
			p.Unknown(name)
		}
	}
	if s.mount != "" {
		switch {
		case s.kv != 2:
			p.Addf("mount= needs kv=2 (it tells where the data/ segment goes; other secrets need no mount)")
		case err == nil && s.path+"/" == s.mount:
			p.Addf("the path names the mount itself, not a secret")
		case err == nil && !strings.HasPrefix(s.path, s.mount):
			p.Addf("the path is not under mount=%s", strings.TrimSuffix(s.mount, "/"))
		}
	}
	if s.write != "" {
		if s.kv != 0 || s.mount != "" {
			p.Addf("write= issues a certificate from a PKI mount: it takes no kv= or mount=")
		}
		if t.Poll > 0 {
			p.Addf("poll= has no effect with write=: a certificate is issued again before it ends, never polled")
		}
		if err == nil {
			if _, ok := issueRole(s.path); !ok {
				p.Addf("write= is only for <mount>/issue/<role> (a PKI certificate): a write is not a read and is sent only where it issues something")
			}
		}
	}
	if perr := p.Err(); perr != nil {
		return spec{}, fmt.Errorf("vault: %s: %w", strconv.Quote(t.Location), perr)
	}
	return s, nil
}

// kvPaths returns the data and metadata paths of the KV v2 secret that path
// names in the mount (which ends in "/"). Users may write either
// <mount>/data/<name> or <mount>/<name>.
func kvPaths(path, mount string) (data, metadata string, err error) {
	if path+"/" == mount {
		return "", "", errors.New("the path names the KV v2 mount itself, not a secret")
	}
	rel, ok := strings.CutPrefix(path, mount)
	if !ok {
		return "", "", fmt.Errorf("the path is not under the mount %s", strings.TrimSuffix(mount, "/"))
	}
	name := strings.TrimPrefix(rel, "data/")
	if name == "" || rel == "data" {
		return "", "", errors.New("the path names no secret inside the KV v2 mount")
	}
	return mount + "data/" + name, mount + "metadata/" + name, nil
}

// maxWriteParams bounds the parameters of write=.
const maxWriteParams = 32

// parseWrite parses the value of write=: the parameters of the write that
// issues a secret, as name=value pairs joined by "&" (as in a URL query),
// for example "common_name=app.example.com&ttl=1h&alt_names=a.example.com,b.example.com".
// A value may hold "," and "=", and %XX escapes ("%26" is "&"); "+" is a
// plus sign. It returns the JSON body of the write: an object of strings
// with sorted keys, so that two spellings of the same parameters share one
// watch.
func parseWrite(val string) (string, error) {
	if val == "" {
		return "", errors.New(`write= needs parameters, for example write=common_name=app.example.com&ttl=1h`)
	}
	params := make(map[string]string)
	for pair := range strings.SplitSeq(val, "&") {
		rawName, rawValue, ok := strings.Cut(pair, "=")
		name, nerr := url.PathUnescape(rawName)
		value, verr := url.PathUnescape(rawValue)
		switch {
		case !ok:
			return "", fmt.Errorf("write=: %q is not name=value", pair)
		case nerr != nil || verr != nil:
			return "", fmt.Errorf("write=: bad %%-escape in %q", pair)
		case name == "" || strings.IndexFunc(name, func(r rune) bool { return !isParamRune(r) }) >= 0:
			return "", fmt.Errorf("write=: parameter name %q: want letters, digits, _ and -", name)
		}
		if _, dup := params[name]; dup {
			return "", fmt.Errorf("write=: %s is given twice", name)
		}
		if len(params) == maxWriteParams {
			return "", fmt.Errorf("write=: more than %d parameters", maxWriteParams)
		}
		params[name] = value
	}
	body, err := json.Marshal(params) // sorted keys
	if err != nil {
		return "", fmt.Errorf("write=: %w", err)
	}
	return string(body), nil
}

func isParamRune(r rune) bool {
	return r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// issueRole returns the role of a path of the form <mount>/issue/<role>,
// the only kind of path write= may write to.
func issueRole(path string) (string, bool) {
	segs := strings.Split(path, "/")
	if len(segs) < 3 || segs[len(segs)-2] != "issue" {
		return "", false
	}
	return segs[len(segs)-1], true
}
