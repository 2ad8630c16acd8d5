package redis

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// Location prefixes. A location without one names a key.
const (
	channelPrefix = "channel:"
	keyPrefix     = "key:"
)

// watchKey identifies one watch: fields with equal keys share it.
type watchKey struct {
	addr     string // host:port
	db       int
	name     string // key or channel
	channel  bool
	notify   bool          // notify=enable: may turn keyspace notifications on
	poll     time.Duration // fallback poll interval for a key, 0 = none
	maxBytes int
	read     time.Duration // timeout=, 0 = DefaultTimeout
}

// timeout bounds one read.
func (k watchKey) timeout() time.Duration {
	if k.read > 0 {
		return k.read
	}
	return DefaultTimeout
}

// endpoint is the server and database a watch talks to.
func (k watchKey) endpoint() endpoint { return endpoint{addr: k.addr, db: k.db} }

// parseSpec reads a target's location and options. The address and
// database default to the driver's.
func (d *driver) parseSpec(t *sources.Target) (watchKey, error) {
	k := watchKey{addr: d.base.Addr, db: d.base.DB, maxBytes: DefaultMaxBytes, poll: t.Poll, read: t.Timeout}
	switch {
	case strings.HasPrefix(t.Location, channelPrefix):
		k.channel, k.name = true, strings.TrimPrefix(t.Location, channelPrefix)
	case strings.HasPrefix(t.Location, keyPrefix):
		k.name = strings.TrimPrefix(t.Location, keyPrefix)
	default:
		k.name = t.Location
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, name := range slices.Sorted(maps.Keys(t.Params)) {
		val := t.Params[name]
		switch name {
		case "addr":
			host, port, err := net.SplitHostPort(val)
			if err != nil || host == "" || port == "" {
				bad("addr=%q is not host:port", val)
				continue
			}
			k.addr = val
		case "db":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				bad("db=%q is not a database number (0, 1, ...)", val)
				continue
			}
			k.db = n
		case "notify":
			if val != "enable" {
				bad("notify=%q: the only value is notify=enable (let livebind turn keyspace notifications on)", val)
				continue
			}
			k.notify = true
		case "maxbytes":
			n, err := sources.ParseMaxBytes(val)
			if err != nil {
				bad("%v", err)
				continue
			}
			k.maxBytes = n
		default:
			bad("unknown option %s=", name)
		}
	}
	switch {
	case k.name == "" && k.channel:
		bad("empty channel name")
	case k.name == "":
		bad("empty key")
	case k.channel && k.poll > 0:
		bad("poll= on a channel: a channel has no state to poll")
	case k.channel && k.notify:
		bad("notify=enable on a channel: keyspace notifications are for keys")
	}
	if len(errs) > 0 {
		return watchKey{}, &Error{Addr: k.addr, DB: k.db, Key: k.name, Channel: k.channel, Err: errors.Join(errs...)}
	}
	return k, nil
}
