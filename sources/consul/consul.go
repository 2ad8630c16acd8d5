package consul

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultWait is how long a blocking query waits for a change when the
	// tag has no wait=: Consul's own default.
	DefaultWait = 5 * time.Minute
	// MaxWait is the longest wait= Consul honors; a longer one is an error.
	MaxWait = 10 * time.Minute
	// DefaultRateLimit is the minimum average gap between two requests of one
	// blocking query when neither the tag (ratelimit=) nor [Config] sets one.
	// Requests draw from a token bucket of [RateBurst] tokens: changes a
	// second or more apart, and bursts of up to [RateBurst] quick changes,
	// are followed at once; a key that churns without pause is read at most
	// once a second (3,600 requests an hour), coalescing what changed in
	// between. An idle key costs one request per wait= (12 an hour).
	DefaultRateLimit = time.Second
	// RateBurst is the size of each query's token bucket.
	RateBurst = 10
	// TransientMaxBackoff caps the wait between retries after failures that
	// clear up by themselves (no answer, 5xx, 429), so that a query follows
	// an agent within about a second of its coming back. [Config].MaxBackoff
	// lowers it, never raises it.
	TransientMaxBackoff = time.Second
	// DefaultMaxBackoff caps the wait between retries after failures when
	// [Config] sets no other cap.
	DefaultMaxBackoff = time.Minute
	// DefaultMaxBytes is the largest answer body the driver's own client
	// accepts when [Config] sets no other: a KV answer is JSON with the
	// values base64-encoded (4/3 of their size), and a prefix answer holds
	// every key.
	DefaultMaxBytes = 32 << 20
)

const (
	// transientBase is the first backoff after a failure that may clear up
	// soon: no answer, 5xx, 429.
	transientBase = 250 * time.Millisecond
	// permanentBase is the first backoff after a 403 or another 4xx, which
	// will not clear up until someone changes an ACL: no hot retries.
	permanentBase = 10 * time.Second
	// nonBlockingTimeout bounds a request with no index, which Consul
	// answers at once.
	nonBlockingTimeout = 30 * time.Second
	// timeoutMargin is added to wait + wait/16 (Consul's jitter) to bound a
	// blocking request, so that a dead connection is noticed but a healthy
	// blocking query is never cut short.
	timeoutMargin = 10 * time.Second
)

// Config is the value to hand the consul scheme with
// livebind.WithSourceConfig("consul", consul.Config{...}). A bare
// *api.Client is accepted too.
type Config struct {
	// Client talks to Consul. Nil means a client built from
	// api.DefaultConfig(), which reads CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
	// CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_AUTH, CONSUL_HTTP_SSL,
	// CONSUL_HTTP_SSL_VERIFY, CONSUL_CACERT, CONSUL_CAPATH,
	// CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME,
	// CONSUL_NAMESPACE and CONSUL_PARTITION from the process environment.
	// A client's http.Client must have no Timeout, or one longer than
	// wait + wait/16 plus a margin; the driver bounds each request itself.
	Client *api.Client
	// Wait is the blocking wait of targets without wait=. Zero means
	// [DefaultWait]; at most [MaxWait].
	Wait time.Duration
	// RateLimit is the minimum average gap between requests of one query for
	// targets without ratelimit=. Zero means [DefaultRateLimit]; a negative
	// value turns rate limiting off (not recommended).
	RateLimit time.Duration
	// MaxBackoff caps the wait between retries after failures. Zero means
	// [DefaultMaxBackoff].
	MaxBackoff time.Duration
	// MaxBytes is the largest answer body, in bytes, the driver's own
	// client (Client nil) reads; a larger one is an error wrapping
	// sources.ErrTooLarge. Zero means [DefaultMaxBytes]. A Client you give
	// is used as it is: bound its transport yourself.
	MaxBytes int64
}

func init() {
	sources.Register(sources.Scheme{
		Name:           "consul",
		Options:        []string{"dc", "stale", "wait", "prefix", "ratelimit"},
		Poll:           false,
		Timeout:        false,
		NativeDebounce: false,
		Check:          sources.CheckSpec((&driver{wait: DefaultWait}).parseSpec),
		Open:           sources.OpenClient("consul", func(client *api.Client) Config { return Config{Client: client} }, open),
	})
}

// driver is the consul scheme's driver for one Binding: one client, and one
// goroutine per distinct blocking query, shared by every Watch of it.
type driver struct {
	logger     *slog.Logger
	client     *api.Client
	own        *http.Transport // the transport the driver created, or nil
	token      string          // the token, when the driver read it, to scrub from errors
	wait       time.Duration
	rateLimit  time.Duration // 0 = no limit
	maxBackoff time.Duration

	watches sources.Watches[queryKey, time.Duration] // per subscriber: its rate limit gap
}

func open(cfg sources.Config, c Config) (sources.Driver, error) {
	d := &driver{
		logger:     sources.DriverLogger(cfg),
		client:     c.Client,
		wait:       c.Wait,
		rateLimit:  c.RateLimit,
		maxBackoff: sources.OrDefault(c.MaxBackoff, DefaultMaxBackoff),
	}
	switch {
	case d.wait == 0:
		d.wait = DefaultWait
	case d.wait < time.Millisecond || d.wait > MaxWait:
		return nil, fmt.Errorf("consul: Config.Wait %s is out of range (1ms to %s)", d.wait, MaxWait)
	}
	switch {
	case d.rateLimit == 0:
		d.rateLimit = DefaultRateLimit
	case d.rateLimit < 0:
		d.rateLimit = 0
	}
	if d.client == nil {
		ac := api.DefaultConfig()
		d.own = ac.Transport
		// For unix://path, api.NewClient would put a client of its own,
		// with a transport of its own, in place of the bounded one: dial
		// the socket from the driver's transport instead, as it would.
		if path, ok := strings.CutPrefix(ac.Address, "unix://"); ok {
			ac.Address = path
			ac.Transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
				var nd net.Dialer
				return nd.DialContext(ctx, "unix", path)
			}
		}
		hc, err := api.NewHttpClient(ac.Transport, ac.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("consul: client from the CONSUL_* environment: %w", err)
		}
		limit := c.MaxBytes
		if limit <= 0 {
			limit = DefaultMaxBytes
		}
		hc.Transport = sources.LimitBodies(hc.Transport, limit)
		// Consul's KV API never redirects. net/http would follow one to any
		// host with the X-Consul-Token header (it strips only Authorization
		// and cookies): answer a redirect as the unexpected status it is.
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		ac.HttpClient = hc
		client, err := api.NewClient(ac)
		if err != nil {
			return nil, fmt.Errorf("consul: client from the CONSUL_* environment: %w", err)
		}
		d.client, d.token = client, ac.Token // NewClient has read CONSUL_HTTP_TOKEN_FILE into Token
	}
	return d, nil
}

// Read implements [sources.Driver]: one non-blocking GET, bounded by ctx.
func (d *driver) Read(ctx context.Context, t *sources.Target) sources.Result {
	s, err := d.parseSpec(t)
	if err != nil {
		return sources.Result{Err: err}
	}
	ctx, cancel := d.watches.ReadContext(ctx, nonBlockingTimeout)
	defer cancel()
	r, _, ferr := d.fetch(ctx, s.query, 0)
	if ferr != nil {
		return sources.Result{Err: ferr}
	}
	return r
}

// Watch implements [sources.Driver]. Watches of the same key or prefix with
// the same dc, stale and wait share one blocking query. The first request of
// a new query, and the first after another Watch joins it, is non-blocking,
// so that a change between Read and Watch is reported. emit must not call
// the returned stop, nor Close.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	s, err := d.parseSpec(t)
	if err != nil {
		return nil, err
	}
	sub := sources.Sub[time.Duration]{Target: t, Value: s.rateLimit, Last: last, Emit: emit}
	return d.watches.Subscribe(s.query, sub, d.run)
}

// Close implements [sources.Driver]. It cancels every request in flight and
// waits for every query goroutine. It is idempotent.
func (d *driver) Close() error {
	d.watches.Close()
	if d.own != nil {
		d.own.CloseIdleConnections()
	}
	return nil
}

// fetch sends one GET for k: non-blocking when index is 0, else blocking
// until the index passes index or k.wait elapses. It returns the observation
// and Consul's index.
func (d *driver) fetch(ctx context.Context, k queryKey, index uint64) (sources.Result, uint64, *Error) {
	q := &api.QueryOptions{Datacenter: k.dc, AllowStale: k.stale}
	if index > 0 {
		q.WaitIndex, q.WaitTime = index, k.wait
	}
	q = q.WithContext(ctx)
	var (
		r    sources.Result
		meta *api.QueryMeta
		err  error
	)
	if k.prefix {
		var pairs api.KVPairs
		pairs, meta, err = d.client.KV().List(k.key, q)
		if err == nil {
			entries := make([]entry, 0, len(pairs))
			for _, p := range pairs {
				if p != nil {
					entries = append(entries, entry{Key: p.Key, Value: p.Value})
				}
			}
			doc, ok := prefixJSON(k.key, entries)
			r = sources.Result{Data: doc, Format: "application/json", Missing: !ok}
		}
	} else {
		var pair *api.KVPair
		pair, meta, err = d.client.KV().Get(k.key, q)
		switch {
		case err != nil:
		case pair == nil: // 404: the client returns (nil, meta, nil)
			r.Missing = true
		default:
			r.Data = pair.Value
			if r.Data == nil {
				r.Data = []byte{}
			}
		}
	}
	if err != nil {
		return sources.Result{}, 0, classify(k, err, d.secrets()...)
	}
	var idx uint64
	if meta != nil {
		idx = meta.LastIndex
	}
	if r.Missing {
		r.Data, r.Format = nil, ""
	}
	r.Version = strconv.FormatUint(idx, 10)
	return r, idx, nil
}

// secrets lists what the driver's requests carry that a server must not
// get to echo into an error: the ACL token, the basic auth password of
// CONSUL_HTTP_AUTH (and its Authorization header), and every header the
// client adds. It holds for a client passed in too, whose token the driver
// never set.
func (d *driver) secrets() []string {
	token, user, pass := clientCredentials(d.client)
	var values []string
	for _, v := range []string{d.token, token, pass} {
		if v != "" {
			values = append(values, v)
		}
	}
	basic := http.Header{}
	if user != "" || pass != "" {
		basic.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	out := sources.HeaderSecrets(d.client.Headers(), basic)
	// The token and password go in whatever their length: they are
	// credentials, not words that scrubbing could take apart by chance.
	return append(out, values...)
}

// clientCredentials reads the token and basic auth of c's configuration.
// api.Client has no getter for them, and the token of a client built by
// its owner (or filled in from CONSUL_HTTP_TOKEN by api.NewClient) must be
// scrubbed all the same: read the unexported fields by reflection, which
// only reads, and yields "" should the api module ever rename them.
func clientCredentials(c *api.Client) (token, user, pass string) {
	if c == nil {
		return "", "", ""
	}
	str := func(v reflect.Value, name string) string {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
		return ""
	}
	cfg := reflect.ValueOf(c).Elem().FieldByName("config")
	if !cfg.IsValid() || cfg.Kind() != reflect.Struct {
		return "", "", ""
	}
	token = str(cfg, "Token")
	if auth := cfg.FieldByName("HttpAuth"); auth.IsValid() && auth.Kind() == reflect.Pointer && !auth.IsNil() && auth.Elem().Kind() == reflect.Struct {
		user, pass = str(auth.Elem(), "Username"), str(auth.Elem(), "Password")
	}
	return token, user, pass
}
