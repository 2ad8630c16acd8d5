// Package sources is the contract between livebind and the places configuration
// comes from. A scheme (file, env, http, consul, vault ...) registers a [Scheme]
// once, usually from an init function, and livebind asks it for one [Driver] per
// Binding. Users only import a source package for its side effect:
//
//	import _ "github.com/livebind/livebind/sources/consul"
//
// A driver only observes the outside world. It reports raw bytes, absence or a
// failure as a [Result]; it never decodes into, or writes to, the user's struct.
package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/livebind/livebind/internal/docguard"
)

// Sentinel errors shared by every source. Match them with errors.Is.
var (
	// ErrEmpty reports a source that holds zero bytes where a value was expected.
	// An empty file after a write event is treated as a write in progress.
	ErrEmpty = errors.New("empty value")
	// ErrWatchLimit reports that the operating system refused another watch:
	// inotify's max_user_watches (ENOSPC) or max_user_instances / open files
	// (EMFILE). Raise the limit or use the poll= option.
	ErrWatchLimit = errors.New("watch limit reached")
	// ErrTooLarge reports a value larger than the source accepts.
	ErrTooLarge = errors.New("value too large")
	// ErrUnreachable reports a request that got no answer: the server is
	// down or unreachable, the connection was lost, or the request timed
	// out. Every networked driver wraps it; drivers retry it on their
	// transient backoff.
	ErrUnreachable = errors.New("server unreachable")
	// ErrAuth reports a server that refused the credentials or the
	// permission to read: HTTP 401 or 403, an ACL or policy without read
	// access, a wrong user name or password, a revoked token. Every
	// networked driver wraps it; drivers retry it only on their slow
	// (permanent) backoff, so that a fixed policy takes effect.
	ErrAuth = errors.New("authentication or permission refused")
	// ErrHTTPStatus reports an HTTP answer with a status the source does not
	// expect (drivers speaking HTTP: http, sse, ws, consul, vault).
	ErrHTTPStatus = errors.New("unexpected HTTP status")
	// ErrDisconnected is wrapped by the error a push source reports when its
	// connection broke (no orderly close: a reset, a missed keepalive, a
	// document cut off mid-way). The source reconnects by itself. It is an
	// [ErrUnreachable] too: errors.Is matches both.
	ErrDisconnected error = &classError{text: "connection lost", class: ErrUnreachable}
)

// classError is a sentinel inside a wider class: errors.Is matches it by
// identity and its class through Is.
type classError struct {
	text  string
	class error
}

func (e *classError) Error() string { return e.text }

// Is reports whether target is e's class.
func (e *classError) Is(target error) bool { return target == e.class }

// LimitError tells which document limit a TOML, YAML or JSON value exceeded
// (Limit: "depth", "key length", "items" or "keys"), its value (Max) and the
// line. It wraps livebind.ErrLimit and holds no document content. Match it
// with errors.As in an Update's or Bind's error, whether a driver's
// [Target].Check found it or livebind's own parse did; the limits are listed
// in docs/tags.md.
type LimitError = docguard.LimitError

// Target is one watched location: one scheme and location with the options
// that change how it is observed. Fields that read the same location with the
// same options share one Target, and so one watch.
type Target struct {
	// Scheme is the registered scheme name, for example "file".
	Scheme string
	// Location is the scheme-specific address with ${VAR} already expanded,
	// for example a file path or an environment variable name.
	Location string
	// Poll is the poll interval from poll=, or 0 when the tag has none. For a
	// file it switches from change notifications to polling.
	Poll time.Duration
	// Debounce is how long to wait after the last change notification before
	// reading, from debounce= (0 means the driver's default). Only drivers that
	// report [Scheme].NativeDebounce see it; others are debounced by livebind.
	Debounce time.Duration
	// MaxWait caps how long a steady stream of notifications can postpone a
	// read, from maxwait= (0 means the driver's default).
	MaxWait time.Duration
	// Timeout bounds one read, from timeout= (0 means the driver's default).
	Timeout time.Duration
	// Params holds the scheme-specific options named in [Scheme].Options,
	// already ${VAR}-expanded. Flags have the value "true".
	Params map[string]string
	// Secret reports that the value must never be logged or put in an error.
	Secret bool
	// Check, when set, parses data the way livebind will decode it. Drivers
	// whose reads can observe a half-written value (files) call it before
	// reporting data and retry while it fails.
	Check func(data []byte) error
}

// Param returns the value of a scheme-specific option and whether it was set.
func (t *Target) Param(name string) (string, bool) {
	v, ok := t.Params[name]
	return v, ok
}

// String names the target as scheme:location, for errors and logs.
func (t *Target) String() string { return t.Scheme + ":" + t.Location }

// Result is one observation of a target.
type Result struct {
	// Data is the raw value. Drivers must not modify it after reporting it.
	Data []byte
	// Format is the format the source itself declares (for example from an
	// HTTP Content-Type), or "" to let livebind infer it from the location.
	Format string
	// Version identifies the observed value where the source has one (an
	// ETag, a modify index, a content hash). Informational.
	Version string
	// Missing reports that the location does not exist: an absent file,
	// an unset variable, a deleted key. Data is nil.
	Missing bool
	// Err reports that the location could not be observed. Data is nil and
	// livebind keeps the last good value.
	Err error
}

// Config is what livebind hands a scheme when it opens a driver for a Binding.
type Config struct {
	// Logger receives the driver's diagnostics. It is never nil; it discards
	// everything unless the user gave livebind a logger.
	Logger *slog.Logger
	// LookupEnv reads an environment variable. Drivers use it instead of
	// os.LookupEnv so that tests and users can supply their own environment.
	LookupEnv func(name string) (string, bool)
	// Value returns the value the user supplied for this scheme with
	// livebind.WithSourceConfig, or nil. A client such as *api.Client goes here.
	Value any
}

// Driver observes the targets of one scheme for one Binding. Its methods are
// called from several goroutines and must be safe for concurrent use.
type Driver interface {
	// Read observes t once, for the initial load and for Reload. It returns
	// when ctx is done at the latest.
	Read(ctx context.Context, t *Target) Result
	// Watch starts observing t and calls emit with every observation that
	// differs from the previous one, starting from last (what Read returned).
	// Once the watch is established the driver observes t again, so that a
	// change between Read and Watch is not lost. emit never blocks for long.
	// The returned stop ends the watch and waits for every goroutine the
	// driver started for it; after stop returns, emit is not called again.
	Watch(t *Target, last Result, emit func(Result)) (stop func(), err error)
	// Close releases what the driver shares between targets. livebind calls
	// it once, after every stop has returned.
	Close() error
}

// NextPoller is implemented by drivers that observe on a schedule; livebind
// shows the time in its Status. It must be safe for concurrent use.
type NextPoller interface {
	// NextPoll returns when the watch of t (the pointer given to Watch)
	// observes next, or the zero time if t is not watched or not polled.
	NextPoll(t *Target) time.Time
}

// LeaseReporter is implemented by drivers whose values come with a lease
// (Vault's dynamic credentials); livebind shows the lease in its Status. It
// must be safe for concurrent use.
type LeaseReporter interface {
	// Lease returns when the lease behind the value of t (the pointer given
	// to Watch) ends unless renewed, and when the driver renews it next
	// (zero when it will not renew it again: new credentials are read
	// before expires instead). Both are zero when t's value has no lease.
	Lease(t *Target) (expires, renewal time.Time)
}

// Scheme describes a source kind to livebind.
type Scheme struct {
	// Name is the tag scheme, for example "file" in file=app.toml.
	Name string
	// Options lists the scheme-specific tag options this scheme accepts, in
	// addition to livebind's own. Any other option is a Bind error.
	Options []string
	// Poll and Timeout report whether the scheme honors the poll= and
	// timeout= options. An option a scheme ignores is a Bind error rather
	// than a silent no-op.
	Poll, Timeout bool
	// NativeDebounce reports that the driver applies Target.Debounce and
	// Target.MaxWait itself. Otherwise livebind debounces emitted results.
	NativeDebounce bool
	// Secret reports that every value of this scheme is secret (a secret
	// store): livebind treats each of its fields as if tagged secret.
	Secret bool
	// Local reports that the scheme reads state of this machine (files,
	// the environment): livebind.WithCache does not cache it, since a copy
	// on the same disk would add nothing.
	Local bool
	// Check, when set, validates a target's location and scheme options
	// (Params) at Bind, before any driver is opened, so that a bad value
	// is a Bind error naming the field rather than a failure at the first
	// read. It must not do I/O. livebind calls it once per field after its
	// own option checks.
	Check func(t *Target) error
	// Open returns a driver for one Binding.
	Open func(Config) (Driver, error)
	// Redact, when set, rewrites a location for display in updates, errors
	// and logs, hiding credentials (a URL's password or token query values).
	Redact func(location string) string
}

var registry sync.Map // name -> Scheme

// Register makes a scheme available to every later Bind. It panics if the
// scheme has no name or no Open function, or if the name is already taken:
// both are programming errors found at init time.
func Register(s Scheme) {
	if s.Name == "" || s.Open == nil {
		panic("sources: Register needs a Name and an Open function")
	}
	s.Options = slices.Clone(s.Options)
	if _, loaded := registry.LoadOrStore(s.Name, s); loaded {
		panic(fmt.Sprintf("sources: scheme %q registered twice", s.Name))
	}
}

// Lookup returns the registered scheme with the given name.
func Lookup(name string) (Scheme, bool) {
	v, ok := registry.Load(name)
	if !ok {
		return Scheme{}, false
	}
	return v.(Scheme), true
}

// Names returns the registered scheme names, sorted.
func Names() []string {
	var names []string
	registry.Range(func(k, _ any) bool {
		names = append(names, k.(string))
		return true
	})
	sort.Strings(names)
	return names
}
