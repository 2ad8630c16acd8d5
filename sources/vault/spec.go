package vault

import (
	"errors"
	"fmt"
	"maps"
	"slices"
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
}

// parseSpec reads and checks a target's location and options; poll and
// timeout default to the driver's.
func parseSpec(t *sources.Target, poll, timeout time.Duration) (spec, error) {
	loc, err := parseLocation(t.Location)
	s := spec{location: loc, poll: poll, timeout: timeout}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if t.Poll > 0 {
		s.poll = t.Poll
	}
	if t.Timeout > 0 {
		s.timeout = t.Timeout
	}
	for _, name := range slices.Sorted(maps.Keys(t.Params)) {
		val := t.Params[name]
		switch name {
		case "kv":
			switch val {
			case "1":
				s.kv = 1
			case "2":
				s.kv = 2
			default:
				errs = append(errs, fmt.Errorf("kv=%q: want kv=1 or kv=2", val))
			}
		case "mount":
			m := strings.Trim(val, "/")
			if m == "" || strings.Contains(m, "//") {
				errs = append(errs, fmt.Errorf("mount=%q is not a mount path such as secret or team/kv", val))
				continue
			}
			s.mount = m + "/"
		default:
			errs = append(errs, fmt.Errorf("unknown option %s=", name))
		}
	}
	if s.mount != "" {
		switch {
		case s.kv != 2:
			errs = append(errs, errors.New("mount= needs kv=2 (it tells where the data/ segment goes; other secrets need no mount)"))
		case err == nil && s.path+"/" == s.mount:
			errs = append(errs, errors.New("the path names the mount itself, not a secret"))
		case err == nil && !strings.HasPrefix(s.path, s.mount):
			errs = append(errs, fmt.Errorf("the path is not under mount=%s", strings.TrimSuffix(s.mount, "/")))
		}
	}
	if len(errs) > 0 {
		return spec{}, fmt.Errorf("vault: %s: %w", strconv.Quote(t.Location), errors.Join(errs...))
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
