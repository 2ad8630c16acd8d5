package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/livebind/livebind/sources"
)

const (
	// DefaultKeyColumn is the key column without keycol=.
	DefaultKeyColumn = "key"
	// DefaultValueColumn is the value column without valcol=.
	DefaultValueColumn = "value"
	// DefaultChannel is the LISTEN channel without channel= or
	// [Config].Channel.
	DefaultChannel = "livebind_settings"
	// DefaultMaxBytes is the largest value accepted without maxbytes=.
	DefaultMaxBytes = 1 << 20
	// DefaultTimeout bounds one read (and one connection attempt) without
	// timeout=.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxBackoff caps the wait between retries when [Config] sets no
	// other cap.
	DefaultMaxBackoff = 30 * time.Second
	// HealthInterval is how long the LISTEN connection may stay silent
	// before the driver pings the server over it (an empty statement); a
	// ping unanswered for another interval counts as a lost connection.
	// An idle Binding costs one ping per interval, however many fields it
	// has.
	HealthInterval = 30 * time.Second
	// ApplicationName is the application_name of the driver's connections
	// unless the connection config sets one.
	ApplicationName = "livebind"
)

const (
	transientBase = 100 * time.Millisecond
	permanentBase = 5 * time.Second
	transientMax  = time.Second
)

// Config is the value to hand the postgres scheme with
// livebind.WithSourceConfig("postgres", postgres.Config{...}). A DSN
// string, a *pgx.ConnConfig (from pgx.ParseConfig) and a func(context.Context)
// (*pgx.ConnConfig, error) are accepted too, as if given as DSN,
// ConnConfig or Connect. Its String, GoString and LogValue hide the
// password.
type Config struct {
	// DSN is a connection string ("postgres://user:pw@host/db" or
	// "host=... user=..."), parsed by pgx.ParseConfig, which also reads the
	// PG* environment variables. Empty means the environment alone.
	DSN string
	// ConnConfig, when set, is used instead of DSN (a copy per connection).
	ConnConfig *pgx.ConnConfig
	// Connect, when set, is called before every connection and reconnection
	// for the config to use, so that rotated credentials (for example a
	// password leased from Vault) are picked up: after a failed login the
	// driver calls it again on each retry. It wins over DSN and ConnConfig.
	Connect func(ctx context.Context) (*pgx.ConnConfig, error)
	// Channel is the LISTEN channel of targets without channel=. Empty
	// means [DefaultChannel].
	Channel string
	// MaxBackoff caps the wait between retries. Zero means
	// [DefaultMaxBackoff]; failures that clear up by themselves are retried
	// at least every second.
	MaxBackoff time.Duration
	// HealthInterval overrides [HealthInterval] (tests). Zero means the
	// default.
	HealthInterval time.Duration
}

// String describes c without its password.
func (c Config) String() string {
	dsn := ""
	if c.DSN != "" {
		dsn = sources.Redacted
	}
	return fmt.Sprintf("postgres.Config{DSN: %q, ConnConfig: %t, Connect: %t, Channel: %q}", dsn, c.ConnConfig != nil, c.Connect != nil, c.Channel)
}

// GoString is String, so that %#v hides the password too.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func init() {
	sources.Register(sources.Scheme{
		Name:    "postgres",
		Options: []string{"keycol", "valcol", "query", "channel", "maxbytes"},
		Timeout: true,
		Check: func(t *sources.Target) error {
			_, err := parseSpec(t, DefaultChannel)
			return err
		},
		Open: open,
	})
}

// driver is the postgres scheme's driver for one Binding: one connection
// for reads (shared by every field, one query at a time), one LISTEN
// connection shared by every watch (started with the first), and one watch
// per distinct row or query.
type driver struct {
	logger     *slog.Logger
	connect    func(ctx context.Context) (*pgx.ConnConfig, error)
	channel    string
	maxBackoff time.Duration
	health     time.Duration // the LISTEN connection's HealthInterval

	// busy is the read connection's lock (a send holds it), taken with
	// the read's context: a read waiting behind a slow one (timeout= may
	// be minutes) must still end when its own context does.
	busy     chan struct{}
	conn     *pgx.Conn
	password atomic.Pointer[string] // of the last config Connect gave, to scrub from errors; read by the LISTEN hub too

	hub     hub
	watches sources.Watches[spec, struct{}]
}

func open(cfg sources.Config) (sources.Driver, error) {
	var c Config
	switch v := cfg.Value.(type) {
	case nil:
	case Config:
		c = v
	case *Config:
		if v != nil {
			c = *v
		}
	case string:
		c.DSN = v
	case *pgx.ConnConfig:
		c.ConnConfig = v
	case func(context.Context) (*pgx.ConnConfig, error):
		c.Connect = v
	default:
		return nil, fmt.Errorf("postgres: source config of type %T; want postgres.Config, a DSN string, *pgx.ConnConfig or func(context.Context) (*pgx.ConnConfig, error)", cfg.Value)
	}
	d := &driver{logger: sources.DriverLogger(cfg), channel: c.Channel, maxBackoff: sources.OrDefault(c.MaxBackoff, DefaultMaxBackoff), health: sources.OrDefault(c.HealthInterval, HealthInterval), busy: make(chan struct{}, 1)}
	if d.channel == "" {
		d.channel = DefaultChannel
	}
	if len(d.channel) > maxChannel || strings.ContainsRune(d.channel, 0) {
		return nil, fmt.Errorf("postgres: Config.Channel %q is not a channel name (1 to %d bytes)", d.channel, maxChannel)
	}
	switch {
	case c.Connect != nil:
		d.connect = c.Connect
	case c.ConnConfig != nil:
		cc := c.ConnConfig
		d.connect = func(context.Context) (*pgx.ConnConfig, error) { return cc.Copy(), nil }
	default:
		cc, err := pgx.ParseConfig(c.DSN)
		if err != nil {
			// pgx's parse errors quote the DSN (its password): never show them.
			return nil, errors.New("postgres: Config.DSN does not parse as a connection string")
		}
		d.connect = func(context.Context) (*pgx.ConnConfig, error) { return cc.Copy(), nil }
	}
	d.hub.init(d)
	return d, nil
}

// dial opens a new connection from the current config, and keeps its
// password to scrub from later errors.
func (d *driver) dial(ctx context.Context) (*pgx.Conn, error) {
	cc, err := d.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connection config: %w", err)
	}
	if cc == nil {
		return nil, errors.New("connection config: nil *pgx.ConnConfig")
	}
	cc = cc.Copy() // Connect may hand out one config every time: never change it
	// No message while connecting, nor on the LISTEN connection (a
	// notification is at most 8000 bytes), may be larger than wireSlack:
	// pgx allocates a message's whole declared body (up to 1 GiB) before
	// reading it. query raises the limit for a read's answer.
	build := cc.BuildFrontend
	if build == nil {
		build = pgproto3.NewFrontend
	}
	cc.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		f := build(r, w)
		f.SetMaxBodyLen(wireSlack)
		return f
	}
	if cc.Password != "" {
		pw := cc.Password
		d.password.Store(&pw)
	}
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = ApplicationName
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	var ml *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &ml) { // not ErrTooLarge: no value was read, the server is unusable
		return nil, fmt.Errorf("the server sent a message of %d bytes while connecting, more than %d: not a PostgreSQL server?", ml.ActualBodyLen, wireSlack)
	}
	return conn, err
}

// lastPassword is the password of the last config Connect gave: a failed
// Connect gives none, but its error may quote the one before.
func (d *driver) lastPassword() string {
	if pw := d.password.Load(); pw != nil {
		return *pw
	}
	return ""
}

// Read implements [sources.Driver]: one query, bounded by ctx and timeout=.
func (d *driver) Read(ctx context.Context, t *sources.Target) sources.Result {
	s, err := parseSpec(t, d.channel)
	if err != nil {
		return sources.Result{Err: err}
	}
	ctx, cancel := d.watches.ReadContext(ctx, s.timeout)
	defer cancel()
	return d.fetch(ctx, s)
}

// fetch reads s once on the read connection, reconnecting it when it was
// lost.
func (d *driver) fetch(ctx context.Context, s spec) sources.Result {
	if ctx.Err() != nil {
		// Not even the lock: with both ready, select picks at random, and
		// a query under a dead context would make fetch drop a healthy
		// connection (the next read would log in again).
		return sources.Result{Err: classify(s, ctx.Err(), d.lastPassword())}
	}
	select {
	case d.busy <- struct{}{}:
	case <-ctx.Done():
		return sources.Result{Err: classify(s, fmt.Errorf("waiting for the read connection: %w", ctx.Err()), d.lastPassword())}
	}
	defer func() { <-d.busy }()
	if d.conn == nil || d.conn.IsClosed() {
		conn, err := d.dial(ctx)
		if err != nil {
			return sources.Result{Err: classify(s, err, d.lastPassword())}
		}
		d.conn = conn
	}
	r, err := d.query(ctx, s)
	if stalePlan(err) {
		// The table changed under the statement pgx keeps prepared (a
		// migration changed a column's type); pgx has dropped it from its
		// cache, so the statement is prepared afresh.
		r, err = d.query(ctx, s)
	}
	if err != nil {
		e := classify(s, err, d.lastPassword())
		// A refused SELECT may be the session's role having lost its grants
		// or been dropped (revoked Vault credentials whose revocation does
		// not end sessions): the next read connects afresh, as whoever
		// Connect names then.
		if d.conn.IsClosed() || ctx.Err() != nil || errors.Is(e, sources.ErrAuth) {
			d.dropConn()
		}
		return sources.Result{Err: e}
	}
	return r
}

// stalePlan reports PostgreSQL's refusal to run a prepared statement whose
// result type changed since it was prepared.
func stalePlan(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "0A000" && strings.Contains(pe.Message, "cached plan must not change result type")
}

// dropConn closes the read connection (d.busy held).
func (d *driver) dropConn() {
	if d.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = d.conn.Close(ctx)
		cancel()
		d.conn = nil
	}
}

// query runs s's statement with every result column in text format (a
// bytea arrives as \x hex and is decoded), and returns its one value: no
// row is Missing, a NULL is Missing too, more rows or columns are ErrQuery.
func (d *driver) query(ctx context.Context, s spec) (sources.Result, error) {
	// No message of the answer may be larger than the row maxbytes= allows
	// (a bytea comes as hex, twice its size): pgx would otherwise take in a
	// row of up to 1 GiB before decodeValue sees its size. A larger one
	// ends the connection (classify reports it as sources.ErrTooLarge);
	// the next read dials afresh.
	d.conn.PgConn().Frontend().SetMaxBodyLen(2*s.maxBytes + wireSlack)
	sql, args := s.sql()
	ctx, abandon := context.WithCancel(ctx)
	defer abandon()
	rows, err := d.conn.Query(ctx, sql, append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)...)
	if err != nil {
		return sources.Result{}, err
	}
	defer rows.Close()
	if n := len(rows.FieldDescriptions()); n != 1 {
		if n > 1 {
			// A row description came: the statement ran. Do not read its
			// rows (see count > 1 below).
			abandon()
		}
		rows.Close() // the statement's own failure, if any, comes first
		if err := rows.Err(); err != nil && n == 0 {
			return sources.Result{}, err
		}
		return sources.Result{}, fmt.Errorf("%w: the statement returns %d columns; want 1", ErrQuery, n)
	}
	isBytea := rows.FieldDescriptions()[0].DataTypeOID == pgtype.ByteaOID
	var (
		r     = sources.Result{Missing: true}
		count int
	)
	for rows.Next() {
		count++
		if count > 1 {
			// Not rows.Close first: it would read every other row, for
			// as long as timeout= allows, holding the connection every
			// field shares. Canceling ends the statement and the
			// connection (pgx closes it); the next read dials afresh.
			abandon()
			rows.Close()
			return sources.Result{}, fmt.Errorf("%w: the statement returns more than one row", ErrQuery)
		}
		raw := rows.RawValues()[0]
		if raw == nil {
			continue // NULL: no value
		}
		data, err := decodeValue(raw, isBytea, s.maxBytes)
		if err != nil {
			return sources.Result{}, err
		}
		r = sources.Result{Data: data}
	}
	if err := rows.Err(); err != nil {
		return sources.Result{}, err
	}
	r.Version = strconv.Itoa(count)
	if r.Missing {
		r.Version = ""
	}
	return r, nil
}

// wireSlack is what a message of a one-value row holds beside the value
// (and the most any other message of a read may take): column count and
// length words, a row description, an error's text.
const wireSlack = 64 << 10

// decodeValue turns one value in text format into the document's bytes:
// a bytea (\x followed by hex digits) is decoded, anything else copied
// (raw belongs to pgx's buffer). A value over limit bytes is an error
// wrapping [sources.ErrTooLarge], found before anything is copied.
func decodeValue(raw []byte, isBytea bool, limit int) ([]byte, error) {
	size := len(raw)
	if isBytea {
		if len(raw) < 2 || raw[0] != '\\' || raw[1] != 'x' || len(raw)%2 != 0 {
			return nil, fmt.Errorf("%w: bytea value not in hex format", ErrQuery)
		}
		size = (len(raw) - 2) / 2
	}
	if size > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than maxbytes=%d", sources.ErrTooLarge, size, limit)
	}
	if !isBytea {
		return append([]byte{}, raw...), nil
	}
	data := make([]byte, size)
	if _, err := hex.Decode(data, raw[2:]); err != nil {
		return nil, fmt.Errorf("%w: bytea value: %w", ErrQuery, err)
	}
	return data, nil
}

// Watch implements [sources.Driver]. Fields that read the same row (or
// query) with the same options share one watch; every watch shares the
// Binding's one LISTEN connection.
func (d *driver) Watch(t *sources.Target, last sources.Result, emit func(sources.Result)) (func(), error) {
	s, err := parseSpec(t, d.channel)
	if err != nil {
		return nil, err
	}
	return d.watches.Subscribe(s, sources.Sub[struct{}]{Target: t, Last: last, Emit: emit}, d.run)
}

// run is the loop of one row or query: read, report, wait for a
// notification of its key on its channel (or for the LISTEN connection
// to be re-established, or lost), read again. Failures are reported at
// once and retried with backoff.
func (d *driver) run(w *sources.Watch[spec, struct{}]) {
	s := w.Key()
	retry := sources.NewRetry(transientBase, permanentBase, d.maxBackoff).CapTransient(transientMax)
	// LISTEN before the first read, so that a change between the read and
	// the LISTEN is not missed (if the listener is down, its reconnection
	// wakes every watch for a full re-read).
	d.hub.listen(w.Context(), s.channel)
	for {
		changed := d.hub.topic(s.channel, s.key)
		look := w.Begin(s.timeout, false)
		r := d.fetch(look.Context(), s)
		look.End()
		if w.Context().Err() != nil {
			return
		}
		look.Report(r)
		var e *Error
		if errors.As(r.Err, &e) && !errors.Is(r.Err, sources.ErrTooLarge) {
			if !w.Sleep(retry.Next(e.permanent())) {
				return
			}
			continue
		}
		retry.Reset()
		if !w.Wait(changed) {
			return
		}
	}
}

// Close implements [sources.Driver]: it ends every watch and the LISTEN
// connection, and closes the read connection. It is idempotent.
func (d *driver) Close() error {
	d.watches.Close()
	d.hub.close()
	d.busy <- struct{}{} // reads in flight end: Close canceled their contexts
	d.dropConn()
	<-d.busy
	return nil
}
