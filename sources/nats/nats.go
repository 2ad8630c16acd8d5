package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultMaxBytes is the largest value or message accepted when the
	// tag has no maxbytes=: 16 MiB, the bound of the file and http schemes.
	// A server's max_payload (1 MiB by default) bounds messages first.
	DefaultMaxBytes = 16 << 20
	// DefaultTimeout bounds one read (a connection, a JetStream request)
	// when the tag has no timeout=.
	DefaultTimeout = 10 * time.Second
	// TransientMaxBackoff caps the wait between retries after failures that
	// clear up by themselves.
	TransientMaxBackoff = time.Second
	// PermanentBackoff is the first wait after a refused password; later
	// waits double up to [Config].MaxBackoff.
	PermanentBackoff = 10 * time.Second
	// DefaultMaxBackoff caps the waits after permanent failures when
	// [Config] sets no other cap.
	DefaultMaxBackoff = time.Minute
	// BucketRecheck caps the wait between checks for a bucket that does not
	// exist yet: checks start 100 ms apart and double up to it.
	BucketRecheck = 2 * time.Second
	// ReconnectWait is the wait between reconnection attempts of a
	// connection the driver built from default options.
	ReconnectWait = 250 * time.Millisecond
)

// transientBase is the first backoff after a failure that may clear up soon.
const transientBase = 100 * time.Millisecond

// Config is the value to hand the nats scheme with
// livebind.WithSourceConfig("nats", nats.Config{...}). A bare *natsgo.Conn
// is accepted too.
type Config struct {
	// Options are the connection settings (Url, Servers, User, Password,
	// Token, TLS, reconnection). Nil means natsgo.GetDefaultOptions() with
	// Servers from the NATS_URL variable (one URL or a comma-separated
	// list, as nats.Connect takes it), or natsgo.DefaultURL without it,
	// reconnecting forever every [ReconnectWait]. The driver connects on
	// first use and closes the connection in Close.
	Options *natsgo.Options
	// Conn, when set and Options is nil, is used as is and never closed.
	Conn *natsgo.Conn
	// MaxBackoff caps the waits between retries after permanent failures.
	// Zero means [DefaultMaxBackoff].
	MaxBackoff time.Duration
}

func init() {
	sources.Register(sources.Scheme{
		Name:    "nats",
		Options: []string{"maxbytes"},
		Timeout: true,
		Check:   sources.CheckSpec(parseSpec),
		Open:    sources.OpenClient("nats", func(nc *natsgo.Conn) Config { return Config{Conn: nc} }, open),
	})
}

// driver is the nats scheme's driver for one Binding: one connection, and
// one goroutine per watched entry or subject (plus one reading its
// updates), shared by every field that watches it.
type driver struct {
	logger     *slog.Logger
	opts       natsgo.Options
	user       *natsgo.Conn
	secretsMu  sync.Mutex
	secrets    []string // passwords and tokens, to scrub; see scrub
	maxBackoff time.Duration
	dialer     *closingDialer // nil with the user's Conn

	mu      sync.Mutex
	nc      *natsgo.Conn  // built by the driver, or nil
	dialing chan struct{} // closed when the dial in flight ends
	dialErr error
	last    sources.Latest[watchKey] // a subject's last message, for Read (own lock)
	closed  bool
	dials   sync.WaitGroup

	watches  sources.Watches[watchKey, struct{}]
	refusals refusals
}

func open(cfg sources.Config, c Config) (sources.Driver, error) {
	d := &driver{logger: sources.DriverLogger(cfg), maxBackoff: sources.OrDefault(c.MaxBackoff, DefaultMaxBackoff)}
	switch {
	case c.Options != nil:
		d.opts = *c.Options
	case c.Conn != nil:
		d.user = c.Conn
	default:
		d.opts = natsgo.GetDefaultOptions()
		d.opts.Url = natsgo.DefaultURL
		if cfg.LookupEnv != nil {
			if u, ok := cfg.LookupEnv("NATS_URL"); ok && strings.TrimSpace(u) != "" {
				// a comma-separated list, as nats.Connect takes it
				d.opts.Url, d.opts.Servers = "", serverList(u)
			}
		}
		d.opts.MaxReconnect = -1
		d.opts.ReconnectWait = ReconnectWait
	}
	d.opts.NoCallbacksAfterClientClose = true
	if d.user == nil {
		d.dialer = &closingDialer{inner: d.opts.CustomDialer, conns: map[*trackedConn]struct{}{}, bound: !websocket(d.opts)}
		d.dialer.ctx, d.dialer.stop = context.WithCancel(context.Background())
		if d.opts.Dialer != nil {
			d.dialer.net = *d.opts.Dialer
		}
		if d.dialer.net.Timeout == 0 {
			d.dialer.net.Timeout = d.opts.Timeout
		}
		d.opts.CustomDialer, d.opts.Dialer = d.dialer, nil
		userCB := d.opts.AsyncErrorCB
		d.opts.AsyncErrorCB = func(nc *natsgo.Conn, sub *natsgo.Subscription, err error) {
			d.asyncError(sub, err)
			if userCB != nil {
				userCB(nc, sub, err)
			}
		}
	}
	for _, s := range append([]string{d.opts.Password, d.opts.Token}, urlSecrets(append([]string{d.opts.Url}, d.opts.Servers...)...)...) {
		if s != "" {
			d.secrets = append(d.secrets, s)
		}
	}
	if h := d.opts.TokenHandler; h != nil { // its tokens are secrets too
		d.opts.TokenHandler = func() string {
			tok := h()
			d.addSecret(tok)
			return tok
		}
	}
	return d, nil
}

// serverList splits a comma-separated list of server URLs.
func serverList(s string) []string {
	var out []string
	for u := range strings.SplitSeq(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// websocket reports whether a server URL is ws:// or wss://: the bytes of
// such a connection are websocket frames, not the NATS protocol.
func websocket(o natsgo.Options) bool {
	for _, u := range append(strings.Split(o.Url, ","), o.Servers...) {
		u = strings.ToLower(strings.TrimSpace(u))
		if strings.HasPrefix(u, "ws://") || strings.HasPrefix(u, "wss://") {
			return true
		}
	}
	return false
}

// urlSecrets returns the password (or the token, given as the user name)
// of server URLs, as written and as decoded. The written one is cut from
// the text also when the URL does not parse: the client's parse error
// quotes the URL whole. A URL without a scheme is read as the client
// reads it, as nats://.
func urlSecrets(urls ...string) []string {
	var out []string
	for _, u := range urls {
		rest := u
		if _, after, ok := strings.Cut(u, "://"); ok {
			rest = after
		} else {
			u = "nats://" + u
		}
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			continue
		}
		info := rest[:at]
		if _, pw, ok := strings.Cut(info, ":"); ok {
			info = pw
		}
		out = append(out, info)
		if p, err := url.Parse(u); err == nil && p.User != nil {
			pw, ok := p.User.Password()
			if !ok {
				pw = p.User.Username()
			}
			out = append(out, pw)
		}
	}
	return out
}

// addSecret adds s to the secrets scrubbed from errors and logs.
func (d *driver) addSecret(s string) {
	if s == "" {
		return
	}
	d.secretsMu.Lock()
	defer d.secretsMu.Unlock()
	if !slices.Contains(d.secrets, s) {
		d.secrets = append(d.secrets, s)
	}
}

// scrub removes the secrets from err's text.
func (d *driver) scrub(err error) error {
	d.secretsMu.Lock()
	secrets := slices.Clone(d.secrets)
	d.secretsMu.Unlock()
	return sources.Scrub(err, secrets...)
}

// conn returns the connection, dialing it on first use (and again when it
// was closed). It waits for the dial at most until ctx ends.
func (d *driver) conn(ctx context.Context) (*natsgo.Conn, error) {
	if d.user != nil {
		return d.user, nil
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, sources.ErrClosed
	}
	if d.nc != nil && !d.nc.IsClosed() {
		nc := d.nc
		d.mu.Unlock()
		return nc, nil
	}
	if d.dialing == nil {
		d.dialing = make(chan struct{})
		d.dials.Add(1)
		go d.dial(d.dialing)
	}
	ch := d.dialing
	d.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nc == nil {
		return nil, d.dialErr
	}
	return d.nc, nil
}

// dial connects once and records the outcome.
func (d *driver) dial(done chan struct{}) {
	defer d.dials.Done()
	nc, err := d.opts.Connect()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed && nc != nil {
		nc.Close()
		nc, err = nil, sources.ErrClosed
	}
	if nc != nil {
		if d.nc != nil {
			d.nc.Close()
		}
		d.nc = nc
	}
	d.dialErr = err
	d.dialing = nil
	close(done)
}

// Read implements [sources.Driver]. For an entry it reads the bucket's
// latest revision of the key; a missing bucket, a missing key and a key
// whose latest revision is a delete or purge are Missing. For a subject it
// connects and returns the last message a watch of the subject received,
// or Missing.
func (d *driver) Read(ctx context.Context, t *sources.Target) sources.Result {
	k, err := parseSpec(t)
	if err != nil {
		return sources.Result{Err: err}
	}
	ctx, cancel := d.watches.ReadContext(ctx, k.timeout)
	defer cancel()
	nc, err := d.conn(ctx)
	if err != nil {
		return sources.Result{Err: d.classify(k, err)}
	}
	if !nc.IsConnected() { // reconnecting: a request would wait out its timeout
		return sources.Result{Err: d.classify(k, errLost)}
	}
	if k.subject != "" {
		return d.last.Get(k)
	}
	ctx, done := d.refusable(ctx, k)
	defer done()
	kv, err := bucket(ctx, nc, k)
	err = refused(ctx, err)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return sources.Result{Missing: true}
	}
	if err != nil {
		return sources.Result{Err: d.classify(k, err)}
	}
	e, err := kv.Get(ctx, k.key)
	err = refused(ctx, err)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return sources.Result{Missing: true}
	}
	if err != nil {
		return sources.Result{Err: d.classify(k, err)}
	}
	return d.entry(k, e)
}

// entry turns a key-value entry into a result: a delete or purge is
// Missing, a value over the limit an error.
func (d *driver) entry(k watchKey, e jetstream.KeyValueEntry) sources.Result {
	if e.Operation() != jetstream.KeyValuePut {
		return sources.Result{Missing: true}
	}
	return d.payload(k, e.Value(), fmt.Sprint(e.Revision()))
}

// payload checks a value or message against maxbytes=.
func (d *driver) payload(k watchKey, data []byte, version string) sources.Result {
	if len(data) > k.maxBytes {
		return sources.Result{Err: d.classify(k, fmt.Errorf("%w: %d bytes, more than %d (maxbytes=)", sources.ErrTooLarge, len(data), k.maxBytes))}
	}
	if data == nil {
		data = []byte{}
	}
	return sources.Result{Data: data, Version: version}
}

// Watch implements [sources.Driver]. Fields of one entry or subject with
// the same maxbytes= and timeout= share one watch.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	k, err := parseSpec(t)
	if err != nil {
		return nil, err
	}
	sub := sources.Sub[struct{}]{Target: t, Last: last, Emit: emit}
	if k.subject != "" {
		return d.watches.Subscribe(k, sub, d.followSubject)
	}
	return d.watches.Subscribe(k, sub, d.followEntry)
}

// Close implements [sources.Driver]: it ends every watch and closes the
// connection the driver built. It is idempotent.
func (d *driver) Close() error {
	d.watches.Close()
	d.mu.Lock()
	d.closed = true
	nc := d.nc
	d.nc = nil
	d.mu.Unlock()
	if d.dialer != nil {
		d.dialer.close() // ends a dial that waits for a silent server
	}
	d.dials.Wait()
	if nc != nil {
		nc.Close()
	}
	return nil
}
