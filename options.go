package livebind

import (
	"log/slog"
	"os"
	"time"
)

// An Option configures [Bind] (the With... options) or one subscription
// ([Fields], [Kinds], [Buffer], [Coalesce] and [From], for
// [Binding.Subscribe] and [WatchField]). An option given to a call it does
// not configure is an error of that call.
type Option interface {
	apply(*options) bool       // false: not a Bind option
	applySub(*subOptions) bool // false: not a subscription option
}

// optionFunc is an [Option] of Bind.
type optionFunc func(*options)

func (f optionFunc) apply(o *options) bool   { f(o); return true }
func (optionFunc) applySub(*subOptions) bool { return false }

type options struct {
	logger       *slog.Logger
	lookupEnv    func(string) (string, bool)
	startTimeout time.Duration
	sourceConfig map[string]any
	history      int
	cacheDir     string
	cacheSeal    func([]byte) ([]byte, error)
	cacheOpen    func([]byte) ([]byte, error)
	closeTimeout time.Duration
}

// DefaultStartTimeout bounds the initial load in [Bind] unless
// [WithStartTimeout] says otherwise.
const DefaultStartTimeout = 30 * time.Second

// DefaultBuffer is how many updates each subscriber may fall behind before
// the oldest are dropped and reported, unless [Buffer] says otherwise; it is
// also how many recent updates the binding keeps for [From] to replay.
const DefaultBuffer = 256

// DefaultCloseTimeout is how long [Binding.Close] waits for running
// callbacks and when= evaluations before it abandons them, unless
// [WithCloseTimeout] says otherwise.
const DefaultCloseTimeout = 5 * time.Second

func defaultOptions() options {
	return options{
		logger:       slog.New(slog.DiscardHandler),
		lookupEnv:    os.LookupEnv,
		startTimeout: DefaultStartTimeout,
		closeTimeout: DefaultCloseTimeout,
	}
}

// WithLogger makes livebind log through l: failures at Warn, applied
// generations at Debug. Secret values are never logged. Without this option
// livebind logs nothing.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = slog.New(safeHandler{l.Handler()}) // a panicking handler never crashes livebind
		}
	})
}

// WithLookupEnv replaces os.LookupEnv for ${VAR} expansion, env= sources and
// the <NAME>_FILE convention. Tests use it to supply an environment; it must
// be safe for concurrent use.
func WithLookupEnv(lookup func(name string) (string, bool)) Option {
	return optionFunc(func(o *options) {
		if lookup != nil {
			o.lookupEnv = lookup
		}
	})
}

// WithStartTimeout bounds how long [Bind] waits for the initial load of all
// sources. The default is [DefaultStartTimeout].
func WithStartTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.startTimeout = d
		}
	})
}

// WithSourceConfig hands v to the driver of scheme, for example a client
// that a source package documents (http.Config, consul.Config, an
// *http.Client or *api.Client). A value of a type the driver does not know
// fails Bind.
func WithSourceConfig(scheme string, v any) Option {
	return optionFunc(func(o *options) {
		if o.sourceConfig == nil {
			o.sourceConfig = make(map[string]any)
		}
		o.sourceConfig[scheme] = v
	})
}

// WithHistory keeps the last n generations for [Binding.History] and
// [Binding.Rollback]. Each entry holds a snapshot pointer (snapshots are
// shared, not copied), so the cost is what those snapshots hold.
func WithHistory(n int) Option {
	return optionFunc(func(o *options) { o.history = max(n, 0) })
}

// WithCloseTimeout bounds how long [Binding.Close] waits for callbacks that
// are still running (a callback stuck on a channel nobody reads, a slow
// network call) and for when= evaluations that the applier gave up on
// after 1 s and that still run (a slow expression, a method it calls that
// blocks): one bound for both, counted from the start of Close. Past d,
// Close abandons them: it logs them at Error level and returns an error
// wrapping [ErrCloseTimeout]; an abandoned callback's goroutine ends when
// the callback returns, and it receives nothing more; an abandoned
// evaluation's ends when its expression returns. A failed Bind waits for
// its evaluations the same way, unless its context has ended.
// The default is [DefaultCloseTimeout].
func WithCloseTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d > 0 {
			o.closeTimeout = d
		}
	})
}
