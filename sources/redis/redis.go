package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultMaxBytes is the largest value or message accepted when the
	// tag has no maxbytes=: 16 MiB, the bound of the file and http schemes.
	DefaultMaxBytes = 16 << 20
	// DefaultAddr is the server's address when neither [Config], REDIS_URL
	// nor addr= gives one.
	DefaultAddr = "127.0.0.1:6379"
	// DefaultTimeout bounds one read when the tag has no timeout=.
	DefaultTimeout = 10 * time.Second
	// TransientMaxBackoff caps the wait between retries after failures that
	// clear up by themselves (no answer, a cut connection), so that a watch
	// follows a restarted server within about a second.
	TransientMaxBackoff = time.Second
	// PermanentBackoff is the first wait after a failure that needs a
	// person (a refused password, notifications off); later waits double
	// up to [Config].MaxBackoff.
	PermanentBackoff = 10 * time.Second
	// DefaultMaxBackoff caps the waits after permanent failures when
	// [Config] sets no other cap.
	DefaultMaxBackoff = time.Minute
	// HealthInterval is how long a subscription connection may stay silent
	// before the driver PINGs the server over it; a PING unanswered for
	// another interval counts as a cut connection. An idle subscription
	// connection costs one PING per interval, however many watches share
	// it.
	HealthInterval = 30 * time.Second
)

// transientBase is the first backoff after a failure that may clear up soon.
const transientBase = 100 * time.Millisecond

// Config is the value to hand the redis scheme with
// livebind.WithSourceConfig("redis", redis.Config{...}). A bare
// *goredis.Client is accepted too.
type Config struct {
	// Options are the client settings: Addr, DB, Username, Password,
	// TLSConfig, timeouts. Nil means the REDIS_URL variable
	// (redis://user:password@host:port/db or rediss:// for TLS), or
	// [DefaultAddr] without it. addr= and db= in a tag override Addr and
	// DB for that field. A zero DialerRetries becomes 1 and a zero
	// MaxRetries -1 (no retries): the driver retries with its own backoff,
	// so that a Read of an absent server fails at once.
	Options *goredis.Options
	// Client, when set and Options is nil, serves the reads of fields of
	// its own address and database; its options are copied for fields
	// with another addr= or db=, and for every subscription connection
	// (which the driver owns and closes, so that Close does not wait on a
	// server that stopped answering). The driver does not close it. Close
	// waits for a read in flight on it: go-redis ends a request to a
	// stalled server only at its ReadTimeout (5 s by default), or at the
	// field's timeout= when the client has ContextTimeoutEnabled. Pass
	// Options instead for a Close that never waits.
	Client *goredis.Client
	// MaxBackoff caps the waits between retries after permanent failures.
	// Zero means [DefaultMaxBackoff].
	MaxBackoff time.Duration
	// HealthInterval overrides [HealthInterval] (tests). Zero means the
	// default.
	HealthInterval time.Duration
}

func init() {
	sources.Register(sources.Scheme{
		Name:    "redis",
		Options: []string{"addr", "db", "notify", "maxbytes"},
		Poll:    true,
		Timeout: true,
		Check:   sources.CheckSpec((&driver{base: goredis.Options{Addr: DefaultAddr}}).parseSpec),
		Open:    sources.OpenClient("redis", func(client *goredis.Client) Config { return Config{Client: client} }, open),
	})
}

// endpoint is one server and database: one client.
type endpoint struct {
	addr string
	db   int
}

// driver is the redis scheme's driver for one Binding: a client per
// endpoint, one subscription connection per endpoint (and the goroutine
// reading it) shared by every watch there, and one goroutine per watched
// key or channel, shared by every field that watches it.
type driver struct {
	logger     *slog.Logger
	base       goredis.Options // settings for clients the driver builds
	user       *goredis.Client // the user's client, never closed here
	password   string          // scrubbed from error texts
	maxBackoff time.Duration
	health     time.Duration

	mu      sync.Mutex
	clients map[endpoint]*goredis.Client // built by the driver
	notify  map[endpoint]bool            // notifications known to be on
	last    sources.Latest[watchKey]     // a channel's last message, for Read (own lock)
	closed  bool

	pubsubs pubsubs // the subscription connections, one per endpoint (own lock)

	watches sources.Watches[watchKey, struct{}]
}

func open(cfg sources.Config, c Config) (sources.Driver, error) {
	d := &driver{
		logger:     sources.DriverLogger(cfg),
		user:       c.Client,
		maxBackoff: sources.OrDefault(c.MaxBackoff, DefaultMaxBackoff),
		health:     c.HealthInterval,
		clients:    map[endpoint]*goredis.Client{},
		notify:     map[endpoint]bool{},
	}
	switch {
	case c.Options != nil:
		d.base = *c.Options
		d.user = nil
	case c.Client != nil:
		d.base = *c.Client.Options()
	default:
		lookup := cfg.LookupEnv
		if lookup == nil {
			lookup = func(string) (string, bool) { return "", false }
		}
		if u, ok := lookup("REDIS_URL"); ok && u != "" {
			o, err := goredis.ParseURL(u)
			if err != nil { // its text may quote the URL, password included
				return nil, errors.New("redis: REDIS_URL is not a redis:// or rediss:// URL")
			}
			d.base = *o
		}
	}
	if d.base.Addr == "" {
		d.base.Addr = DefaultAddr
	}
	if d.base.DialerRetries == 0 { // the watch loops retry with their own backoff
		d.base.DialerRetries = 1
	}
	if d.base.MaxRetries == 0 {
		d.base.MaxRetries = -1
	}
	d.base.ContextTimeoutEnabled = true
	d.base.DisableIdentity = true
	d.password = d.base.Password
	if d.health <= 0 {
		d.health = HealthInterval
	}
	return d, nil
}

// client returns the client of ep for reads: the user's when it serves
// ep, else the driver's own (see [driver.own]).
func (d *driver) client(ep endpoint) *goredis.Client {
	if d.user != nil {
		if o := d.user.Options(); o.Addr == ep.addr && o.DB == ep.db {
			return d.user
		}
	}
	return d.own(ep)
}

// own returns the client the driver built for ep, building it on first
// use; Close closes it. The subscription connections always come from
// it, even where the user's client serves reads: a subscription holds a
// connection of its own anyway, and only the driver's clients let Close
// cut a connection whose handshake a stalled server never answers (see
// [shared.cutDialed]).
func (d *driver) own(ep endpoint) *goredis.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.clients[ep]
	if c == nil {
		o := d.base
		o.Addr, o.DB = ep.addr, ep.db
		o.Dialer = trackDials(o)
		c = goredis.NewClient(&o)
		if d.closed {
			_ = c.Close() // every command fails at once with ErrClosed
		}
		d.clients[ep] = c
	}
	return c
}

// Read implements [sources.Driver]. For a key it checks once per server
// that keyspace notifications are on (unless the tag polls), then reads the
// value. For a channel it checks that the server answers and returns the
// last message a watch of the channel received, or Missing.
func (d *driver) Read(ctx context.Context, t *sources.Target) sources.Result {
	k, err := d.parseSpec(t)
	if err != nil {
		return sources.Result{Err: err}
	}
	ctx, cancel := d.watches.ReadContext(ctx, k.timeout)
	defer cancel()
	c := d.client(k.endpoint())
	if k.channel {
		if err := c.Ping(ctx).Err(); err != nil {
			return sources.Result{Err: d.classify(k, err)}
		}
		return d.last.Get(k)
	}
	if k.poll == 0 && !d.notifyKnown(k.endpoint()) {
		if err := d.checkNotify(ctx, c, k); err != nil {
			return sources.Result{Err: d.classify(k, err)}
		}
	}
	return d.get(ctx, c, k)
}

// get reads key k: EXISTS and GETRANGE 0..maxbytes in one MULTI/EXEC, so
// that a missing key is told from an empty one and at most maxbytes+1
// bytes come back, however large the value.
func (d *driver) get(ctx context.Context, c *goredis.Client, k watchKey) sources.Result {
	var (
		exists *goredis.IntCmd
		val    *goredis.StringCmd
	)
	_, err := c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		exists = p.Exists(ctx, k.name)
		val = p.GetRange(ctx, k.name, 0, int64(k.maxBytes))
		return nil
	})
	if err != nil {
		return sources.Result{Err: d.classify(k, err)}
	}
	if exists.Val() == 0 {
		return sources.Result{Missing: true}
	}
	v := val.Val()
	if len(v) > k.maxBytes {
		return sources.Result{Err: d.classify(k, fmt.Errorf("%w: more than %d bytes (maxbytes=)", sources.ErrTooLarge, k.maxBytes))}
	}
	return sources.Result{Data: []byte(v)}
}

// notifyKnown reports that notifications were found on at ep.
func (d *driver) notifyKnown(ep endpoint) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.notify[ep]
}

// requiredEvents are turned on by notify=enable: keyspace events (K) of
// string (\$) and generic (g: DEL, RENAME ...) commands and expiries (x).
const requiredEvents = "K$gx"

// checkNotify makes sure keyspace notifications cover k's changes: it reads
// notify-keyspace-events and, when they do not, turns them on if the tag
// allows (notify=enable). It fails with an error wrapping
// [ErrNotificationsOff] that names the fixes. A server that refuses CONFIG
// GET to the user cannot be checked: the driver logs a warning and trusts
// that notifications are on, unless the tag says notify=enable, which then
// fails naming the refused command.
func (d *driver) checkNotify(ctx context.Context, c *goredis.Client, k watchKey) error {
	fixes := "set notify-keyspace-events to " + requiredEvents + " on the server (redis.conf or CONFIG SET), " +
		"tag notify=enable to let livebind set it, or tag poll= to poll the key instead"
	vals, err := c.ConfigGet(ctx, "notify-keyspace-events").Result()
	if err != nil {
		if !hasPrefix(err.Error(), "NOPERM") {
			return err
		}
		if k.notify {
			return fmt.Errorf("%w: notify=enable cannot check or turn them on: CONFIG GET was refused (%s): "+
				"grant the user +config|get and +config|set, or %s", ErrNotificationsOff, sources.ServerText(err.Error(), d.password), fixes)
		}
		d.logger.Warn("redis: cannot check that keyspace notifications are on (CONFIG GET refused); trusting they are",
			"addr", k.addr, "key", k.name)
		d.setNotify(k.endpoint())
		return nil
	}
	flags := vals["notify-keyspace-events"]
	if covers(flags) {
		d.setNotify(k.endpoint())
		return nil
	}
	if !k.notify {
		return fmt.Errorf("%w (notify-keyspace-events=%q): %s", ErrNotificationsOff, flags, fixes)
	}
	want := mergeFlags(flags, requiredEvents)
	if err := c.ConfigSet(ctx, "notify-keyspace-events", want).Err(); err != nil {
		var re goredis.Error
		if errors.As(err, &re) {
			return fmt.Errorf("%w (notify-keyspace-events=%q) and CONFIG SET %s was refused (%s): %s",
				ErrNotificationsOff, flags, want, sources.ServerText(re.Error(), d.password), fixes)
		}
		return err
	}
	d.logger.Info("redis: turned keyspace notifications on (notify=enable)", "addr", k.addr, "notify-keyspace-events", want)
	d.setNotify(k.endpoint())
	return nil
}

// forgetNotify forgets that notifications were found on at ep, when its
// shared subscription connection failed or closed with its last member:
// nothing follows the server then, and a restarted server may have them
// off.
func (d *driver) forgetNotify(ep endpoint) {
	d.mu.Lock()
	delete(d.notify, ep)
	d.mu.Unlock()
}

func (d *driver) setNotify(ep endpoint) {
	d.mu.Lock()
	d.notify[ep] = true
	d.mu.Unlock()
}

// covers reports whether notify-keyspace-events flags send keyspace events
// for writes, deletes and expiries of string keys.
func covers(flags string) bool {
	has := func(c string) bool {
		return strings.Contains(flags, c) || strings.Contains(flags, "A") && strings.Contains("g$lshzxet", c)
	}
	return strings.Contains(flags, "K") && has("$") && has("g") && has("x")
}

// mergeFlags adds the flags of add that cur lacks.
func mergeFlags(cur, add string) string {
	for _, c := range add {
		if !strings.ContainsRune(cur, c) {
			cur += string(c)
		}
	}
	return cur
}

// Watch implements [sources.Driver]. Fields of one key or channel with the
// same options share one subscription.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	k, err := d.parseSpec(t)
	if err != nil {
		return nil, err
	}
	sub := sources.Sub[struct{}]{Target: t, Last: last, Emit: emit}
	if k.channel {
		return d.watches.Subscribe(k, sub, d.followChannel)
	}
	return d.watches.Subscribe(k, sub, d.followKey)
}

// Close implements [sources.Driver]: it ends every watch and closes the
// clients the driver built. It is idempotent.
func (d *driver) Close() error {
	// The clients are closed before the watches are waited for: go-redis
	// honors a context's deadline but not its cancellation, so a request
	// to a server that stopped answering would hold a watch (and Close)
	// until its timeout. Closing a client closes its connections, which
	// ends such a read at once; the subscription connections still in
	// their handshake, which the client does not know yet, are cut too.
	d.mu.Lock()
	first := !d.closed
	d.closed = true
	var errs []error
	if first {
		for _, c := range d.clients {
			errs = append(errs, c.Close())
		}
	}
	d.mu.Unlock()
	d.pubsubs.cut()
	d.watches.Close()
	if !first {
		return nil
	}
	return errors.Join(errs...)
}
