package http

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	nethttp "net/http"
	"time"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultPoll is the poll interval of an http target whose tag has no
	// poll=.
	DefaultPoll = 30 * time.Second
	// DefaultTimeout bounds one request, reading the body included, when the
	// tag has no timeout=.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBytes is the largest body accepted when the tag has no
	// maxbytes=: 16 MiB, the same bound as the file scheme's.
	DefaultMaxBytes = 16 << 20
	// MaxHeaderBytes bounds the response headers a request of the driver's
	// own transport accepts (net/http's default is 10 MiB, which a hostile
	// server could make every poll hold). A client of Config.Client keeps
	// its own transport's MaxResponseHeaderBytes. Headers over the limit
	// are an [*Error] wrapping [sources.ErrTooLarge], retried on the slow
	// backoff as a body over maxbytes= is.
	MaxHeaderBytes = 64 << 10
	// MaxBackoff caps the wait after a failure, both the exponential backoff
	// and a server's Retry-After, unless poll= is longer: then the poll
	// interval is the cap.
	MaxBackoff = 5 * time.Minute
)

const (
	// maxAgeFactor caps how far a Cache-Control max-age stretches poll=.
	maxAgeFactor = 10
	// transientBase is the first backoff after a failure that may clear up
	// soon (transport errors, 429, 5xx), unless poll= is shorter.
	transientBase = time.Second
	// permanentBase is the least first backoff after a failure that will not
	// clear up soon (4xx, 501), unless poll= is longer.
	permanentBase = time.Second
	// errorDrain is how much of an error response's body is read and
	// discarded, so that the connection can be reused.
	errorDrain = 4 << 10
)

// Config is the value to hand the http scheme with
// livebind.WithSourceConfig("http", http.Config{...}). A bare *net/http.Client
// is accepted too.
type Config struct {
	// Client sends the requests: set it for custom TLS roots or client
	// certificates, a proxy, or an authenticating transport. Its Timeout and
	// CheckRedirect apply on top of timeout= and of the rule that configured
	// headers never follow a redirect to another origin. The driver uses a
	// copy; Client itself is not modified. Nil means a client of the
	// driver's own, with a clone of net/http.DefaultTransport.
	Client *nethttp.Client
	// Header is sent with every request to the origin (scheme, host and
	// port) of the target's URL, never to another one a redirect leads to.
	// A header= option of a tag overrides the header of the same name. A
	// name or value net/http cannot send (a control character) fails the
	// driver's opening, at Bind.
	Header nethttp.Header
}

// String describes c with its header values hidden (see
// [sources.HiddenHeader]): a Config printed or logged shows no token.
func (c Config) String() string {
	return fmt.Sprintf("http.Config{Client: %t, Header: %s}", c.Client != nil, sources.HiddenHeader(c.Header))
}

// GoString is String, so that %#v hides the header values too.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON is String as a JSON string: slog's JSON handler marshals a
// struct that holds a Config with encoding/json, which would show it all.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

func init() {
	sources.Register(sources.Scheme{
		Name:           "http",
		Options:        []string{"header", "maxbytes"},
		Poll:           true,
		Timeout:        true,
		NativeDebounce: false,
		Check:          func(t *sources.Target) error { _, err := parseSpec(t); return err },
		Open:           open,
		Redact:         redactURL,
	})
}

// driver is the http scheme's driver for one Binding: a client shared by
// every target and one poll loop per watched URL and headers.
type driver struct {
	logger  *slog.Logger
	client  *nethttp.Client
	header  nethttp.Header     // from Config.Header; never mutated
	own     *nethttp.Transport // the transport the driver created, or nil
	watches sources.Watches[watchKey, subValue]
}

func open(cfg sources.Config) (sources.Driver, error) {
	logger := cfg.Logger
	if logger == nil { // The contract says never nil; do not crash if it is.
		logger = slog.New(slog.DiscardHandler)
	}
	d := &driver{logger: logger}
	switch v := cfg.Value.(type) {
	case nil:
	case Config:
		d.client, d.header = v.Client, v.Header.Clone()
	case *Config:
		if v != nil {
			d.client, d.header = v.Client, v.Header.Clone()
		}
	case *nethttp.Client:
		d.client = v
	default:
		return nil, fmt.Errorf("http: source config of type %T: want http.Config, *http.Config or *http.Client", v)
	}
	for k, vs := range d.header {
		for _, v := range vs {
			// net/http would refuse to send it: say so at Bind, not at
			// every request.
			if _, _, err := sources.ParseHeader(k + ":" + v); err != nil {
				return nil, fmt.Errorf("http: Config.Header: %w", err)
			}
		}
	}
	if d.client == nil {
		if dt, ok := nethttp.DefaultTransport.(*nethttp.Transport); ok {
			d.own = dt.Clone()
			d.own.MaxResponseHeaderBytes = MaxHeaderBytes
			d.client = &nethttp.Client{Transport: d.own}
		} else {
			d.client = &nethttp.Client{} // someone replaced DefaultTransport: use theirs
		}
	}
	d.client = d.withClient(d.client)
	return d, nil
}

// Read implements [sources.Driver]: one unconditional GET, bounded by
// timeout= and by ctx.
func (d *driver) Read(ctx context.Context, t *sources.Target) sources.Result {
	s, err := parseSpec(t)
	if err != nil {
		return sources.Result{Err: err}
	}
	closed := d.watches.Context()
	if closed.Err() != nil {
		return sources.Result{Err: &Error{URL: s.loc, Err: fmt.Errorf("driver closed: %w", context.Canceled)}}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	defer context.AfterFunc(closed, cancel)()
	r := d.fetch(d.newRequest(ctx, s), s, false)
	if r.err != nil && parent.Err() != nil {
		r.err.hint = "" // the caller's context ended it, not timeout=
	}
	switch r.class {
	case classData:
		return r.value().result(d.secrets(s))
	case classMissing:
		return sources.Result{Missing: true}
	default:
		return sources.Result{Err: r.err}
	}
}

// Watch implements [sources.Driver]. Fields that watch the same URL with
// the same header= and maxbytes= share one poll loop, which polls as often
// as the most eager of them asks. The first poll runs at once; it is a
// conditional request when last carries an ETag or Last-Modified version.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	s, err := parseSpec(t)
	if err != nil {
		return nil, err
	}
	key := watchKey{url: t.Location, header: t.Params["header"], maxBytes: s.maxBytes}
	sub := sources.Sub[subValue]{Target: t, Value: subValue{poll: s.poll, timeout: s.timeout}, Last: last, Emit: emit}
	return d.watches.Subscribe(key, sub, func(w *watch) { newPoller(d, s, last).run(w) })
}

// NextPoll implements [sources.NextPoller]: when t's watch polls next.
func (d *driver) NextPoll(t *sources.Target) time.Time { return d.watches.NextPoll(t) }

// Close implements [sources.Driver]. It cancels every request in flight,
// stops every watch still running and waits for their goroutines. It is
// idempotent.
func (d *driver) Close() error {
	d.watches.Close()
	if d.own != nil {
		d.own.CloseIdleConnections()
	}
	return nil
}
