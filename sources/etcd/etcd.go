package etcd

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultMaxBytes is the largest value (or, in prefix mode, the largest
	// sum of the values under the prefix) accepted without maxbytes=.
	DefaultMaxBytes = 1 << 20
	// DefaultTimeout bounds one read without timeout=.
	DefaultTimeout = 5 * time.Second
	// DefaultDialTimeout bounds the login of a client the driver builds
	// (with a user name) when [Config] sets no DialTimeout.
	DefaultDialTimeout = 5 * time.Second
	// DefaultMaxBackoff caps the wait between retries when [Config] sets no
	// other cap.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultEndpoint is used when neither [Config] nor ETCDCTL_ENDPOINTS
	// names one.
	DefaultEndpoint = "127.0.0.1:2379"
)

const (
	transientBase = 100 * time.Millisecond // after no answer or a lost connection
	permanentBase = 5 * time.Second        // after a permission error
	transientMax  = time.Second            // so that a server that comes back is followed within about a second

	keepAliveTime    = 10 * time.Second // etcd's server refuses pings more often than every 5 s
	keepAliveTimeout = 5 * time.Second

	// streamWindow is the HTTP/2 flow-control window of each gRPC stream
	// (a read, a watch stream) of a client the driver builds: what etcd
	// may send on it ahead of the driver, so the most of a refused answer
	// gRPC takes in. At 100 ms of round trip a stream still moves 1.3 MB/s
	// (13 MB/s at 10 ms). Measured, a refused Read on a fresh connection
	// allocated up to 0.56 MB over 20 runs with 128 KiB, up to 1.19 MB
	// over 10 with 256 KiB.
	streamWindow = 128 << 10
	// connWindow is the window of the whole connection.
	connWindow = 1 << 20
)

// Config is the value to hand the etcd scheme with
// livebind.WithSourceConfig("etcd", etcd.Config{...}). A bare
// *clientv3.Client is accepted too. Its String, GoString and LogValue hide
// the password.
type Config struct {
	// Client, when set, is used as it is (its endpoints, credentials and
	// TLS), and the driver never closes it. The other connection fields are
	// then ignored. When its KV and Watcher are its own (not wrapped, by
	// the namespace package for one), the driver reads through its
	// connection with receive limits derived from maxbytes=, which replace
	// the client's own MaxCallRecvMsgSize for those calls.
	Client *clientv3.Client
	// Endpoints are the members' client URLs. Empty means the
	// comma-separated ETCDCTL_ENDPOINTS variable, or [DefaultEndpoint].
	Endpoints []string
	// Username and Password log in (etcd's auth); empty means no auth.
	Username string
	Password string
	// TLS, when set, is the client's TLS configuration (server CA, client
	// certificate for mutual TLS).
	TLS *tls.Config
	// DialTimeout bounds the login when a user name is set. Zero means
	// [DefaultDialTimeout].
	DialTimeout time.Duration
	// MaxBackoff caps the wait between retries after failures. Zero means
	// [DefaultMaxBackoff]; failures that clear up by themselves are retried
	// at least every second.
	MaxBackoff time.Duration
}

// String describes c without its password.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = sources.Redacted
	}
	return fmt.Sprintf("etcd.Config{Endpoints: %q, Username: %q, Password: %q, TLS: %t, Client: %t}",
		c.Endpoints, c.Username, pw, c.TLS != nil, c.Client != nil)
}

// GoString is String, so that %#v hides the password too.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON is String as a JSON string: slog's JSON handler marshals a
// struct that holds a Config with encoding/json, which would show it all.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

func init() {
	sources.Register(sources.Scheme{
		Name:    "etcd",
		Options: []string{"prefix", "maxbytes"},
		Timeout: true,
		Check:   sources.CheckSpec(parseSpec),
		Open:    sources.OpenClient("etcd", func(cli *clientv3.Client) Config { return Config{Client: cli} }, open),
	})
}

// driver is the etcd scheme's driver for one Binding: one client (so one
// gRPC connection, on which etcd multiplexes every watch into one watch
// stream), and one watch per distinct key or prefix, shared by every field
// that reads it.
type driver struct {
	logger     *slog.Logger
	cfg        clientv3.Config // for a client the driver builds
	given      *clientv3.Client
	maxBackoff time.Duration

	mu      sync.Mutex
	cli     *clientv3.Client // built or given; nil until the first request
	down    chan struct{}    // closed when the connection leaves the ready state
	monitor sync.WaitGroup
	// bounded reports that reads and watches go through the client's
	// connection with receive limits of the driver's own (see limits.go):
	// always for a client the driver builds, for a given one when its KV
	// and Watcher are not wrapped.
	bounded  bool
	watchers map[int]clientv3.Watcher // by maxbytes=, when bounded

	watches sources.Watches[watchKey, struct{}]
}

func open(cfg sources.Config, c Config) (sources.Driver, error) {
	d := &driver{logger: sources.DriverLogger(cfg), given: c.Client, maxBackoff: sources.OrDefault(c.MaxBackoff, DefaultMaxBackoff), down: make(chan struct{})}
	eps := c.Endpoints
	if len(eps) == 0 && cfg.LookupEnv != nil {
		if v, ok := cfg.LookupEnv("ETCDCTL_ENDPOINTS"); ok && v != "" {
			eps = strings.Split(v, ",")
		}
	}
	if len(eps) == 0 {
		eps = []string{DefaultEndpoint}
	}
	d.cfg = clientv3.Config{
		Endpoints:   eps,
		Username:    c.Username,
		Password:    c.Password,
		TLS:         c.TLS,
		DialTimeout: c.DialTimeout,
		Logger:      zap.NewNop(),
		DialOptions: []grpc.DialOption{
			// gRPC's default reconnect backoff grows to 120 s: a member
			// back after a long outage would be noticed up to two
			// minutes late.
			grpc.WithConnectParams(grpc.ConnectParams{
				Backoff:           backoff.Config{BaseDelay: transientBase, Multiplier: 1.6, Jitter: 0.2, MaxDelay: transientMax},
				MinConnectTimeout: DefaultDialTimeout,
			}),
			// Fixed flow-control windows: gRPC's default grows them with
			// its bandwidth estimate (up to 16 MiB), and an answer
			// refused at its length header (limits.go) is still received
			// up to its stream's window before the reset reaches etcd.
			grpc.WithInitialWindowSize(streamWindow),
			grpc.WithInitialConnWindowSize(connWindow),
		},
		// A connection that dies silently (no RST: a partition) is noticed
		// by keepalive pings within DialKeepAliveTime + DialKeepAliveTimeout.
		DialKeepAliveTime:    keepAliveTime,
		DialKeepAliveTimeout: keepAliveTimeout,
	}
	if d.cfg.DialTimeout <= 0 {
		d.cfg.DialTimeout = DefaultDialTimeout
	}
	if d.given != nil || d.cfg.Username == "" {
		// Building a client without a login does no I/O (the connection
		// is made at the first request), so it cannot fail on a server
		// that is down: build it now, once.
		if _, _, err := d.client(); err != nil {
			return nil, fmt.Errorf("etcd: client: %w", err)
		}
	}
	return d, nil
}

// client returns the Binding's client, building it at the first call. A
// client with a user name logs in as it is built: that is done at the
// first read, so that a server down at Bind is a failed read, retried, not
// a failed Open. It also returns the channel closed when its connection is next lost.
func (d *driver) client() (*clientv3.Client, <-chan struct{}, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cli != nil {
		return d.cli, d.down, nil
	}
	if err := d.watches.Context().Err(); err != nil {
		return nil, nil, err
	}
	cli := d.given
	if cli == nil {
		cfg := d.cfg
		cfg.Context = d.watches.Context()
		var err error
		if cli, err = clientv3.New(cfg); err != nil {
			return nil, nil, err
		}
	}
	d.cli = cli
	d.bounded = d.given == nil || plainClient(cli)
	d.watchers = map[int]clientv3.Watcher{}
	cli.ActiveConnection().Connect() // connect now, not at the first request
	d.monitor.Add(1)
	go d.follow(cli)
	return d.cli, d.down, nil
}

// follow closes d.down (and makes a new one) whenever the connection
// leaves the ready state, so that every watch reports the loss at once,
// and re-reads once the connection is back, instead of relying on the
// client's silent resume.
func (d *driver) follow(cli *clientv3.Client) {
	defer d.monitor.Done()
	conn := cli.ActiveConnection()
	ctx := d.watches.Context()
	state := conn.GetState()
	for conn.WaitForStateChange(ctx, state) {
		next := conn.GetState()
		if state == connectivity.Ready && next != connectivity.Ready {
			d.logger.Debug("etcd: connection lost", "state", next.String())
			d.mu.Lock()
			close(d.down)
			d.down = make(chan struct{})
			d.mu.Unlock()
		}
		state = next
	}
}

// downSignal returns the channel closed when the connection is next lost,
// or nil (never closed) while the driver has no client yet: a client that
// logs in is built by the read that follows, and a failed login is that
// read's error.
func (d *driver) downSignal() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cli == nil {
		return nil
	}
	return d.down
}

// Read implements [sources.Driver]: one Get (a prefix: one paged read),
// bounded as a whole by ctx and timeout=.
func (d *driver) Read(ctx context.Context, t *sources.Target) sources.Result {
	k, err := parseSpec(t)
	if err != nil {
		return sources.Result{Err: err}
	}
	ctx, cancel := d.watches.ReadContext(ctx, k.timeout)
	defer cancel()
	s, _, gerr := d.get(ctx, k)
	if gerr != nil {
		return sources.Result{Err: gerr}
	}
	return s.result()
}

// get reads k's current state (a prefix in pages, see getPrefix) and
// returns the revision it was read at.
func (d *driver) get(ctx context.Context, k watchKey) (*state, int64, *Error) {
	cli, _, err := d.client()
	if err != nil {
		return nil, 0, classify(k, err, d.cfg.Password)
	}
	var s *state
	if k.prefix {
		s, err = getPrefix(ctx, d.ranger(cli), k)
	} else {
		s, err = getKey(ctx, d.ranger(cli), k)
	}
	if err != nil {
		return nil, 0, classify(k, err, d.cfg.Password)
	}
	return s, s.rev, nil
}

// getKey reads k's one key with one Get, refused by gRPC unread when its
// value is over maxbytes= (see boundedGet).
func getKey(ctx context.Context, kv ranger, k watchKey) (*state, error) {
	resp, rev, err := boundedGet(ctx, kv, k.key, k.maxBytes, len(k.key)+kvOverhead+respOverhead, 0)
	s := newState(k)
	s.rev = rev
	refused, err := s.add(resp, err)
	if err != nil {
		return nil, err
	}
	if !refused {
		s.limit(false)
	}
	return s, nil
}

// Watch implements [sources.Driver]. Fields that read the same key (or
// prefix) with the same options share one etcd watch.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	k, err := parseSpec(t)
	if err != nil {
		return nil, err
	}
	return d.watches.Subscribe(k, sources.Sub[struct{}]{Target: t, Last: last, Emit: emit}, d.run)
}

// Close implements [sources.Driver]: it ends every watch, then closes the
// client if the driver built it. It is idempotent.
func (d *driver) Close() error {
	d.watches.Close()
	d.monitor.Wait()
	d.mu.Lock()
	cli, watchers := d.cli, d.watchers
	d.cli, d.watchers = nil, nil
	d.mu.Unlock()
	for _, w := range watchers {
		_ = w.Close() // the watches have ended: nothing to report
	}
	if cli != nil && cli != d.given {
		_ = cli.Close() // the context canceled error of a client closed with its context
	}
	return nil
}
