package consul

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// spec is a target's parsed options.
type spec struct {
	query     queryKey
	rateLimit time.Duration // minimum average gap between requests; 0 = no limit
}

// queryKey identifies one blocking query. Watches with equal keys share it.
type queryKey struct {
	key    string // key, or prefix in prefix mode
	prefix bool
	dc     string
	stale  bool
	wait   time.Duration
}

// what names the key or prefix in errors: `key "app/x"`, `prefix "app/"
// in dc "dc2"`.
func (k queryKey) what() string {
	s := "key"
	if k.prefix {
		s = "prefix"
	}
	s += " " + strconv.Quote(k.key)
	if k.dc != "" {
		s += " in dc " + strconv.Quote(k.dc)
	}
	return s
}

// parseSpec reads and checks a target's location and options. Defaults come
// from the driver's configuration.
func (d *driver) parseSpec(t *sources.Target) (spec, error) {
	s := spec{
		query:     queryKey{key: strings.TrimPrefix(t.Location, "/"), wait: d.wait},
		rateLimit: d.rateLimit,
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, name := range slices.Sorted(maps.Keys(t.Params)) {
		val := t.Params[name]
		switch name {
		case "dc":
			if val == "" {
				bad("dc= needs a datacenter name")
				continue
			}
			if strings.ContainsAny(val, "/?#&= \t\n") {
				bad("dc=%q is not a datacenter name", val)
				continue
			}
			s.query.dc = val
		case "stale", "prefix":
			on, err := strconv.ParseBool(val)
			if err != nil {
				bad("%s is a flag: write %s alone, not %s=%q", name, name, name, val)
				continue
			}
			if name == "stale" {
				s.query.stale = on
			} else {
				s.query.prefix = on
			}
		case "wait":
			w, err := time.ParseDuration(val)
			switch {
			case err != nil:
				bad("wait=%q is not a duration such as 30s or 5m", val)
			case w < time.Millisecond:
				bad("wait=%s is too short: at least 1ms", val)
			case w > MaxWait:
				bad("wait=%s exceeds Consul's maximum of %s", val, MaxWait)
			default:
				s.query.wait = w
			}
		case "ratelimit":
			r, err := time.ParseDuration(val)
			switch {
			case err != nil:
				bad("ratelimit=%q is not a duration such as 100ms or 15s (the minimum average gap between requests)", val)
			case r < 0:
				bad("ratelimit=%s is negative", val)
			default:
				s.rateLimit = r
			}
		default:
			bad("unknown option %s=", name)
		}
	}
	if s.query.key == "" && !s.query.prefix {
		bad("empty key (use a prefix flag to watch the whole store)")
	}
	if len(errs) > 0 {
		return spec{}, fmt.Errorf("consul: %s: %w", s.query.what(), errors.Join(errs...))
	}
	return s, nil
}
