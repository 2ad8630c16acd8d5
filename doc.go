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
// environment at Bind in the location and every option value except when=.
//
//	`live:"file=/etc/app/app.toml"`                       // whole TOML document into the field
//	`live:"file=app.yaml; key=server.port; default=8080"` // one key; 8080 while absent
//	`live:"file=/run/secrets/token; format=text; secret"` // a text file, never printed
//	`live:"file=/mnt/nfs/app.json; poll=5s"`              // stat/hash polling instead of inotify
//	`live:"file=app.toml; debounce=200ms; maxwait=2s"`    // quiet period, and its ceiling
//	`live:"env=DATABASE_URL; required"`                   // Bind fails while unset
//	`live:"env=LIMITS; format=json; poll=5s"`             // a JSON document in a variable
//	`live:"env=RATE; throttle=5s; burst=3"`               // at most 3 quick updates, then one per 5s
//	`live:"file=derived.toml; depends_on=Base; update=MergeDerived"` // re-run when Base changes
//	`live:"file=dev.toml; when=Mode == \"development\""`        // watched only while true
//
// Options livebind handles for every source: key, format (toml, yaml, json,
// text), default, required, secret, debounce, maxwait, throttle, burst,
// depends_on, update, when; poll and timeout where the source supports them. Sources add their own (see
// their packages). An unknown or misspelled option, a second source, a bad
// duration or a tag on an unexported field is a Bind error naming the field
// and the option. docs/tags.md in the repository is the full reference.
//
// # Sources
//
// file, env, http and sse are built in. Other schemes (consul, vault, ws)
// register when their package is imported, for example:
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
// of slice, map and pointer values. Close may be called from a callback and
// waits for running callbacks at most [WithCloseTimeout]. Reload, Rollback
// and Close called from Validate or an update= method fail with
// [ErrReentrant]. Untagged fields are copied as they are and never read.
package livebind
