package etcd

import (
	"fmt"
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
	k := watchKey{key: t.Location, maxBytes: DefaultMaxBytes, timeout: sources.OrDefault(t.Timeout, DefaultTimeout)}
	var p sources.Problems
	for name, val := range t.SortedParams() {
		switch name {
		case "prefix":
			p.Flag(name, val, &k.prefix)
		case "maxbytes":
			p.MaxBytes(val, &k.maxBytes)
		default:
			p.Unknown(name)
		}
	}
	if k.key == "" && !k.prefix {
		p.Addf("empty key (use the prefix flag to watch the whole keyspace)")
	}
	if err := p.Err(); err != nil {
		return watchKey{}, fmt.Errorf("etcd: %s: %w", k.what(), err)
	}
	return k, nil
}
