package etcd

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/livebind/livebind/sources"
)

// watchKey identifies one etcd watch. Fields with equal keys share it.
type watchKey struct {
	key      string // the key, or the prefix in prefix mode
	prefix   bool
	maxBytes int
	timeout  time.Duration
}

// what names the key or prefix in errors: `key "app/x"`, `prefix "app/"`.
func (k watchKey) what() string {
	if k.prefix {
		return "prefix " + strconv.Quote(k.key)
	}
	return "key " + strconv.Quote(k.key)
}

// parseSpec reads and checks a target's location and options.
func parseSpec(t *sources.Target) (watchKey, error) {
	k := watchKey{key: t.Location, maxBytes: DefaultMaxBytes, timeout: DefaultTimeout}
	if t.Timeout > 0 {
		k.timeout = t.Timeout
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(t.Params)) {
		val := t.Params[name]
		switch name {
		case "prefix":
			on, err := strconv.ParseBool(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("prefix is a flag: write prefix alone, not prefix=%q", val))
				continue
			}
			k.prefix = on
		case "maxbytes":
			n, err := sources.ParseMaxBytes(val)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			k.maxBytes = n
		default:
			errs = append(errs, fmt.Errorf("unknown option %s=", name))
		}
	}
	if k.key == "" && !k.prefix {
		errs = append(errs, errors.New("empty key (use the prefix flag to watch the whole keyspace)"))
	}
	if len(errs) > 0 {
		return watchKey{}, fmt.Errorf("etcd: %s: %w", k.what(), errors.Join(errs...))
	}
	return k, nil
}
