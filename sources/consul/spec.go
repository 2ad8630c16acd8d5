package consul

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// spec is a target's parsed options.
type spec struct {
	query     queryKey
	rateLimit time.Duration // minimum average gap between requests; 0 = no limit (Config.RateLimit < 0 only)
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
	var p sources.Problems
	for name, val := range t.SortedParams() {
		switch name {
		case "dc":
			if val == "" {
				p.Addf("dc= needs a datacenter name")
				continue
			}
			if strings.ContainsAny(val, "/?#&= \t\n") {
				p.Addf("dc=%q is not a datacenter name", val)
				continue
			}
			s.query.dc = val
		case "stale":
			p.Flag(name, val, &s.query.stale)
		case "prefix":
			p.Flag(name, val, &s.query.prefix)
		case "wait":
			w, ok := p.Duration(name, val, "30s or 5m")
			switch {
			case !ok:
			case w < time.Millisecond:
				p.Addf("wait=%s is too short: at least 1ms", val)
			case w > MaxWait:
				p.Addf("wait=%s exceeds Consul's maximum of %s", val, MaxWait)
			default:
				s.query.wait = w
			}
		case "ratelimit":
			r, ok := p.Duration(name, val, "100ms or 15s (the minimum average gap between requests)")
			switch {
			case !ok:
			case r < 0:
				p.Addf("ratelimit=%s is negative", val)
			case r == 0:
				// Zero is what Config.RateLimit reads as the default and
				// what this option once read as "off": neither silently.
				p.Addf("ratelimit=%s is zero: give the minimum average gap between requests (default %s); only Config.RateLimit < 0 turns the limit off", val, DefaultRateLimit)
			default:
				s.rateLimit = r
			}
		default:
			p.Unknown(name)
		}
	}
	if s.query.key == "" && !s.query.prefix {
		p.Addf("empty key (use a prefix flag to watch the whole store)")
	}
	if why := unreadableKey(s.query.key); why != "" {
		p.Addf("%s", why)
	}
	if err := p.Err(); err != nil {
		return spec{}, fmt.Errorf("consul: %s: %w", s.query.what(), err)
	}
	return s, nil
}

// unreadableKey says why key cannot be read over Consul's HTTP API, or
// returns "". The agent's HTTP mux answers a path with a "." or ".."
// segment, or an empty one, with a 301 to the cleaned path, which the
// client follows: "app/../secret" would read "secret", "app//x" would read
// "app/x". A trailing "/" (a folder, a prefix) is kept by the agent.
func unreadableKey(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		switch {
		case seg == "." || seg == "..":
			return fmt.Sprintf("the key has a %q segment: Consul's HTTP API reads another key for it", seg)
		case seg == "" && i < len(segs)-1:
			return "the key has an empty segment (\"//\" or a second leading \"/\"): Consul's HTTP API reads another key for it"
		}
	}
	return ""
}
