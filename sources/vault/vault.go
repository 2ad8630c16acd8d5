package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultPoll is how often a KV secret (or any secret without a lease)
	// is checked for a new version when neither poll= nor [Config] sets an
	// interval. Each wait is jittered by ±10%.
	DefaultPoll = 30 * time.Second
	// DefaultTimeout bounds one request to Vault (including the client's own
	// retries) when neither timeout= nor [Config] sets a bound.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBackoff caps the wait between retries after failures when
	// [Config] sets no other cap.
	DefaultMaxBackoff = time.Minute
)

const (
	// transientBase is the first backoff after a failure that may clear up
	// soon: no answer, sealed, 5xx, 429.
	transientBase = time.Second
	// permanentBase is the first backoff after a 403 or another 4xx or a
	// malformed answer, which will not clear up until someone acts: no hot
	// retries.
	permanentBase = 10 * time.Second
	// refusalBase is the first wait before new leased credentials are read
	// after an update= method refused the ones handed out (see
	// [driver.Rejected]); it doubles with each refusal in a row.
	refusalBase = 250 * time.Millisecond
	// maxBody caps a response body.
	maxBody = 8 << 20
	// tokenCheckGap is how long a lookup-self that found the token invalid
	// is trusted when explaining further 403s.
	tokenCheckGap = 5 * time.Second
	// lookupTimeout bounds a lookup-self.
	lookupTimeout = 5 * time.Second
)

// Config is the value to hand the vault scheme with
// livebind.WithSourceConfig("vault", vault.Config{...}). A bare *api.Client
// is accepted too.
type Config struct {
	// Client talks to Vault. Nil means a client built with api.DefaultConfig
	// and api.NewClient, which read VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT,
	// VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY,
	// VAULT_TLS_SERVER_NAME, VAULT_NAMESPACE, VAULT_MAX_RETRIES and the other
	// VAULT_* variables from the process environment. Response wrapping is
	// turned off on a client the driver builds.
	Client *api.Client
	// Poll is the interval of targets without poll=. Zero means
	// [DefaultPoll].
	Poll time.Duration
	// Timeout bounds each request of targets without timeout=. Zero means
	// [DefaultTimeout].
	Timeout time.Duration
	// MaxBackoff caps the wait between retries after failures. Zero means
	// [DefaultMaxBackoff].
	MaxBackoff time.Duration
	// SkipTokenRenewal stops the driver from renewing the client's token
	// (auth/token/renew-self). Set it when something else renews the token:
	// Vault Agent, or your own api.LifetimeWatcher.
	SkipTokenRenewal bool
}

func init() {
	sources.Register(sources.Scheme{
		Name:           "vault",
		Options:        []string{"kv", "mount", "write"},
		Poll:           true,
		Timeout:        true,
		NativeDebounce: false,
		Secret:         true,
		Check: func(t *sources.Target) error {
			_, err := parseSpec(t, DefaultPoll, DefaultTimeout)
			return err
		},
		Open: sources.OpenClient("vault", func(client *api.Client) Config { return Config{Client: client} }, open),
	})
}

// driver is the vault scheme's driver for one Binding: one client, one
// goroutine per distinct watched secret (shared by every Watch of it) and
// one goroutine that renews the client's token.
type driver struct {
	logger     *slog.Logger
	client     *api.Client
	own        *http.Transport // the transport the driver created, or nil
	poll       time.Duration
	timeout    time.Duration
	maxBackoff time.Duration
	renewToken bool
	rnd        func() float64 // jitter in [0, 1)

	watches sources.Watches[watchKey, subValue]
	ctx     context.Context                     // the watches': canceled by Close, ends every request in flight
	token   sources.Watches[struct{}, struct{}] // the token renewer, from the first Watch
	tokenOn sync.Once

	mu     sync.Mutex
	states map[resolved]*secretState

	mountMu sync.Mutex  // serializes mount detection
	mounts  []mountInfo // detected mounts; guarded by mu

	tok tokenState
}

func open(cfg sources.Config, c Config) (sources.Driver, error) {
	if c.Poll < 0 || c.Timeout < 0 || c.MaxBackoff < 0 {
		return nil, errors.New("vault: Config.Poll, Timeout and MaxBackoff must not be negative")
	}
	d := &driver{
		logger:     sources.DriverLogger(cfg),
		client:     c.Client,
		poll:       c.Poll,
		timeout:    c.Timeout,
		maxBackoff: sources.OrDefault(c.MaxBackoff, DefaultMaxBackoff),
		renewToken: !c.SkipTokenRenewal,
		rnd:        rand.Float64,
		states:     make(map[resolved]*secretState),
	}
	if d.poll == 0 {
		d.poll = DefaultPoll
	}
	if d.timeout == 0 {
		d.timeout = DefaultTimeout
	}
	if d.client == nil {
		ac := api.DefaultConfig()
		if ac == nil || ac.Error != nil {
			var err error
			if ac != nil {
				err = ac.Error
			}
			return nil, fmt.Errorf("vault: client from the VAULT_* environment: %w", err)
		}
		if tr, ok := ac.HttpClient.Transport.(*http.Transport); ok {
			d.own = tr
		}
		client, err := api.NewClient(ac)
		if err != nil {
			return nil, fmt.Errorf("vault: client from the VAULT_* environment: %w", err)
		}
		client.SetWrappingLookupFunc(func(string, string) string { return "" })
		// The api client copies the whole body of a non-2xx answer before
		// the driver sees it: bound it here (after NewClient, which wants
		// an *http.Transport for unix:// addresses).
		ac.HttpClient.Transport = sources.LimitBodies(ac.HttpClient.Transport, maxBody)
		d.client = client
	}
	d.ctx = d.watches.Context()
	return d, nil
}

// Read implements [sources.Driver]: it detects the mount if needed (once
// per mount) and reads the secret once. Dynamic credentials that are still
// fresh (read by an earlier Read or kept by a watch) are handed out again
// rather than read anew, so that every field of one secret gets the same
// credentials and a Reload does not mint new ones.
func (d *driver) Read(ctx context.Context, t *sources.Target) sources.Result {
	s, err := parseSpec(t, d.poll, d.timeout)
	if err != nil {
		return sources.Result{Err: err}
	}
	asOf := time.Now()
	ctx, cancel := d.watches.ReadContext(ctx, s.timeout)
	defer cancel()
	r, ferr := d.resolve(ctx, s)
	if ferr != nil {
		return sources.Result{Err: ferr}
	}
	obs, ferr := d.observe(ctx, r, d.state(r), asOf)
	if ferr != nil {
		return sources.Result{Err: ferr}
	}
	return obs.result(s.location)
}

// Watch implements [sources.Driver]. Watches of the same secret share one
// watch whatever field they select (see watchKey); a watch joining a
// running one makes it look again at once, so that a change between the
// joiner's Read and its Watch is reported. emit must not call the returned
// stop, nor Close.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	s, err := parseSpec(t, d.poll, d.timeout)
	if err != nil {
		return nil, err
	}
	if d.renewToken {
		d.tokenOn.Do(func() {
			_, _ = d.token.Subscribe(struct{}{}, sources.Sub[struct{}]{Emit: func(sources.Result) {}},
				func(*sources.Watch[struct{}, struct{}]) { d.runToken() })
		})
	}
	f := &follower{
		d: d, spec: s, retry: sources.NewRetry(transientBase, permanentBase, d.maxBackoff),
		refusals: sources.Backoff{Base: min(refusalBase, d.maxBackoff), Max: d.maxBackoff},
	}
	key := watchKey{path: s.path, kv: s.kv, mount: s.mount, write: s.write}
	d.mu.Lock()
	r, resolvedNow := d.resolveKnown(s)
	d.mu.Unlock()
	if resolvedNow {
		key, f.pre = watchKey{resolved: r}, &r
	}
	sub := sources.Sub[subValue]{Target: t, Value: subValue{loc: s.location, poll: s.poll, timeout: s.timeout}, Last: last, Emit: emit}
	return d.watches.Subscribe(key, sub, func(w *watch) {
		f.w = w
		f.run()
	})
}

// NextPoll implements [sources.NextPoller]: when the watch of t looks next
// (a poll, a renewal or a rotation).
func (d *driver) NextPoll(t *sources.Target) time.Time { return d.watches.NextPoll(t) }

// Lease implements [sources.LeaseReporter]: the lease of the credentials
// that t's watch holds, as last renewed, and when it is renewed next. It
// never waits for a request in flight.
func (d *driver) Lease(t *sources.Target) (expires, renewal time.Time) {
	s, err := parseSpec(t, d.poll, d.timeout)
	if err != nil {
		return time.Time{}, time.Time{}
	}
	d.mu.Lock()
	r, ok := d.resolveKnown(s)
	st := d.states[r]
	d.mu.Unlock()
	if !ok || st == nil {
		return time.Time{}, time.Time{}
	}
	if l := st.leaseTimes.Load(); l != nil {
		return l[0], l[1]
	}
	return time.Time{}, time.Time{}
}

// Close implements [sources.Driver]. It cancels every request in flight and
// waits for every goroutine. It is idempotent.
func (d *driver) Close() error {
	d.watches.Close()
	d.token.Close()
	if d.own != nil {
		d.own.CloseIdleConnections()
	}
	return nil
}

// state returns the shared state of a resolved secret.
func (d *driver) state(r resolved) *secretState {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.states[r]
	if st == nil {
		st = &secretState{reading: make(chan struct{}, 1)}
		d.states[r] = st
	}
	return st
}

// secretState is what the driver knows of one secret, shared by its Reads
// and its watcher.
type secretState struct {
	mu      sync.Mutex    // held across a read: concurrent readers share one request
	reading chan struct{} // holds a token while a reader has or awaits mu in observe: a reader waits for it only as long as its context allows
	obs     *observation  // the newest observation of the data
	sent    time.Time     // when the request behind obs was sent
	lease   *lease        // the current dynamic credentials, if the secret has a lease
	plain   bool          // a read came back without a lease: poll it
	rotates time.Time     // a static role's next rotation: read again just after it
	overdue time.Time     // since when a static role's rotation is due and its password unchanged; zero if not

	leaseTimes atomic.Pointer[[2]time.Time] // the lease's expiry and next renewal, for Status; set by noteLease
	refused    atomic.Bool                  // a field's update= method refused the leased credentials handed out last
}

// noteLease records the current lease's expiry and next renewal for
// [driver.Lease], which must not wait for mu. Called with mu held after the
// lease changes.
func (st *secretState) noteLease() {
	if st.lease == nil {
		st.leaseTimes.Store(nil)
		return
	}
	var renewal time.Time
	if at, renew := st.lease.plan(); renew {
		renewal = at
	}
	st.leaseTimes.Store(&[2]time.Time{st.lease.expiry, renewal})
}

// isPlain reports that the secret came back without a lease.
func (st *secretState) isPlain() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.plain && st.lease == nil
}

// nextRotation returns a static role's next rotation, or zero, and since
// when that rotation has been overdue (zero if it is not).
func (st *secretState) nextRotation() (at, overdue time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.rotates, st.overdue
}

// latest returns the newest observation of the data, or nil.
func (st *secretState) latest() *observation {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.obs
}

// observe reads the secret's data, unless fresh credentials are at hand or
// another reader's request, sent after asOf, has just answered.
func (d *driver) observe(ctx context.Context, r resolved, st *secretState, asOf time.Time) (*observation, *Error) {
	// Another reader's request may hang for its whole timeout: wait for
	// it no longer than this reader's own context allows.
	select {
	case st.reading <- struct{}{}:
	case <-ctx.Done():
		return nil, classify("read", r.path, ctx.Err(), d.client.Token())
	}
	defer func() { <-st.reading }()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.lease != nil && st.lease.fresh(time.Now()) {
		return st.lease.obs, nil
	}
	if st.obs != nil && st.sent.After(asOf) {
		return st.obs, nil
	}
	sent := time.Now()
	var (
		obs *observation
		env envelope
		err *Error
	)
	switch r.kind {
	case kindKV2:
		obs, err = d.readKV2(ctx, r.path)
	case kindIssue:
		obs, env, err = d.issue(ctx, r)
	default:
		obs, env, err = d.readPlain(ctx, r.path)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case r.kind == kindIssue:
		// A certificate is followed by its lease (a role with
		// generate_lease=true), else by its expiration: never polled, as
		// each write issues a new certificate.
		l, lerr := certLease(env, obs, sent, d.rnd)
		if lerr != nil {
			return nil, &Error{Op: "issue", Path: r.path, StatusCode: http.StatusOK, Err: lerr}
		}
		obs, st.lease = l.obs, l
		d.logger.Debug("vault: certificate issued", "path", r.path, "lease", leaseRef(l.id), "serial_number", textField(obs, "serial_number"),
			"ttl", l.ttl.String(), "renewable", l.renewable)
	// Lease handling follows the answer, not the mount type: a KV v1 mount
	// can hand out leases too (Vault's leased KV, the dev server's
	// -dev-leased-kv), and a KV v1 answer without a lease_id is polled.
	case r.kind != kindKV2 && !obs.missing:
		if env.LeaseID != "" {
			st.lease = newLease(env.LeaseID, obs, leaseSeconds(env.LeaseDuration), env.Renewable, sent, d.rnd)
			d.logger.Debug("vault: new credentials", "path", r.path, "lease", leaseRef(env.LeaseID),
				"ttl", st.lease.ttl.String(), "renewable", env.Renewable)
		} else {
			st.lease, st.plain = nil, true
			prev := st.obs
			obs, st.rotates, _ = staticRotation(obs, sent)
			switch {
			case st.rotates.IsZero() || st.rotates.After(sent) || prev == nil || prev.missing || prev.version != obs.version:
				st.overdue = time.Time{}
			case st.overdue.IsZero(): // due (ttl 0) and the password is still the old one
				st.overdue = sent
			}
		}
	}
	st.obs, st.sent = obs, sent
	st.noteLease()
	return obs, nil
}
