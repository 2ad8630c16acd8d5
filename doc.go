// Package livebind binds a Go struct to live configuration sources with one
// call, and keeps it up to date without races.
//
//	type Config struct {
//		Settings    AppSettings `live:"file=${CONFIG_DIR:-.}/app.toml; debounce=200ms"`
//		Port        int         `live:"file=app.yaml; key=server.port; default=8080"`
//		DatabaseURL string      `live:"env=DATABASE_URL; required"`
//		APIKey      string      `live:"env=API_KEY; secret"`
//	}
//
//	var cfg Config
//	b, err := livebind.Bind(ctx, &cfg) // everything loaded once, or every problem listed
//	defer b.Close()
//	_, _ = b.Subscribe(func(u livebind.Update) { log.Println(u) }, livebind.From(1)) // APIKey prints as [redacted]
//	c := b.Get() // an immutable snapshot, lock-free
//
// # Tags
//
// A live tag names exactly one source, then options, separated by ';':
//
//	live:"<scheme>=<location>; <option>=<value>; <flag>"
//
// Only the first '=' of an element splits name from value, so URLs with ',',
// '=', '?' and '&' need no quoting; write `\;` for a literal ';'. ${VAR},
// ${VAR:-default} (unset or empty) and ${VAR-default} (unset) expand from the
// environment at Bind in the location and every option value except when=,
// update= and depends_on=.
//
//	`live:"file=/etc/app/app.toml"`                       // whole TOML document into the field
//	`live:"file=app.yaml; key=server.port; default=8080"` // one key; 8080 while absent
//	`live:"file=/run/secrets/token; format=text; secret"` // a text file, never printed
//	`live:"file=/mnt/nfs/app.json; poll=5s"`              // stat polling instead of inotify
//	`live:"file=app.toml; debounce=200ms; maxwait=2s"`    // quiet period, and its ceiling
//	`live:"env=DATABASE_URL; required"`                   // Bind fails while unset
//	`live:"env=LIMITS; format=json; poll=5s"`             // a JSON document in a variable
//	`live:"env=RATE; throttle=5s; burst=3"`               // at most 3 quick updates, then one per 5s
//	`live:"file=derived.toml; depends_on=Base; update=MergeDerived"` // re-run when Base changes
//	`live:"file=dev.toml; when=Mode == \"development\""`        // watched only while true
//
// Options livebind handles for every source: key, format (toml, yaml, json,
// text), default, required, optional, secret, debounce, maxwait, throttle,
// burst, depends_on, update, safequery, secretlocation, when; poll and
// timeout where the source supports them. Sources add their own (see their
// packages). An unknown or misspelled option, a second source, a bad
// duration or a tag on an unexported field is a Bind error naming the field
// and the option. docs/tags.md in the repository is the full reference.
//
// # Sources
//
// file, env, http and sse are built in. Other schemes (consul, vault, ws,
// redis, nats, etcd, postgres) register when their package is imported, for
// example:
//
//	import _ "github.com/livebind/livebind/sources/consul"
//
// # Generations
//
// Every change is applied as one generation: decode, drop no-op changes,
// run Validate() error if *T has it, publish a new immutable *T, then notify
// subscribers in order. A step that fails rejects the change: the last good
// snapshot stays and an Error update names the field and source. Secret
// fields are redacted in updates, errors and logs.
//
// # User code
//
// Callbacks run on their subscriber's own goroutine. A panic in one is
// recovered, logged, counted in [Status] and reported to the other
// subscribers ([ErrCallbackPanic]); each subscriber receives its own copies
// of slice, map and pointer values (a value that keeps references in
// unexported fields is copied by its Clone method returning its own type,
// math/big numbers by Set; without one such references stay shared). Close
// may be called from a callback and
// waits for running callbacks at most [WithCloseTimeout]. Reload, Rollback
// and Close called from Validate or an update= method fail with
// [ErrReentrant]. Untagged fields are copied as they are and never read.
//
// # Releasing resources
//
// A configuration type whose update= methods build values that hold
// resources, such as a connection pool built from rotated credentials, may
// have a method Release(dropped *T). It completes the two phases of a
// generation: an update= method builds the new resource on the candidate
// snapshot (phase one: connect, check, or fail and reject the generation),
// and Release lets go of whatever will never be published or is no longer
// published (phase two).
//
// livebind calls Release on the applier goroutine, after the fact, on the
// snapshot that stays, with the one that goes:
//   - after a generation is published: next.Release(previous). Close the
//     resources of previous that next does not share (the old pool).
//   - after a candidate is discarded (rejected by an update= method or
//     Validate, changing nothing, or built at Bind only to evaluate when=
//     conditions): current.Release(candidate). Close the resources of
//     candidate that current does not share.
//
// At Bind, update= methods run once when no field has a when= condition;
// with conditions, once per round that loads the targets of conditions
// turned true, and every round but the last is released.
//
// Compare the resources, as they are copied from snapshot to snapshot:
//
//	func (c *Config) Release(dropped *Config) {
//		if dropped.Pool != nil && dropped.Pool != c.Pool {
//			go dropped.Pool.Close() // waits for its queries in flight
//		}
//	}
//
// Release must not block for long: it holds up the next generation. A
// reader may still hold the dropped snapshot (from [Binding.Get]) for a
// moment, so close in a goroutine, after the queries in flight, or after a
// short grace. A panic in Release is logged and otherwise ignored. The
// snapshot published last is never released: close its resources after
// [Binding.Close]. Snapshots kept by [Binding.History] may hold resources
// that were released; Rollback does not restore untagged fields.
package livebind
