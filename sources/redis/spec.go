package redis

import (
	"net"
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
	timeout  time.Duration // bounds one read: timeout=, or DefaultTimeout
}

// endpoint is the server and database a watch talks to.
func (k watchKey) endpoint() endpoint { return endpoint{addr: k.addr, db: k.db} }

// parseSpec reads a target's location and options. The address and
// database default to the driver's.
func (d *driver) parseSpec(t *sources.Target) (watchKey, error) {
	k := watchKey{addr: d.base.Addr, db: d.base.DB, maxBytes: DefaultMaxBytes, poll: t.Poll, timeout: sources.OrDefault(t.Timeout, DefaultTimeout)}
	switch {
	case strings.HasPrefix(t.Location, channelPrefix):
		k.channel, k.name = true, strings.TrimPrefix(t.Location, channelPrefix)
	case strings.HasPrefix(t.Location, keyPrefix):
		k.name = strings.TrimPrefix(t.Location, keyPrefix)
	default:
		k.name = t.Location
	}
	var p sources.Problems
	for name, val := range t.SortedParams() {
		switch name {
		case "addr":
			host, port, err := net.SplitHostPort(val)
			if err != nil || host == "" || port == "" {
				p.Addf("addr=%q is not host:port", val)
				continue
			}
			k.addr = val
		case "db":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				p.Addf("db=%q is not a database number (0, 1, ...)", val)
				continue
			}
			k.db = n
		case "notify":
			if val != "enable" {
				p.Addf("notify=%q: the only value is notify=enable (let livebind turn keyspace notifications on)", val)
				continue
			}
			k.notify = true
		case "maxbytes":
			p.MaxBytes(val, &k.maxBytes)
		default:
			p.Unknown(name)
		}
	}
	switch {
	case k.name == "" && k.channel:
		p.Addf("empty channel name")
	case k.name == "":
		p.Addf("empty key")
	case k.channel && k.poll > 0:
		p.Addf("poll= on a channel: a channel has no state to poll")
	case k.channel && k.notify:
		p.Addf("notify=enable on a channel: keyspace notifications are for keys")
	}
	if err := p.Err(); err != nil {
		return watchKey{}, &Error{Addr: k.addr, DB: k.db, Key: k.name, Channel: k.channel, Err: err}
	}
	return k, nil
}
