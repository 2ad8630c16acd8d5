package livebind

import (
	"errors"
	"fmt"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// tagOption is one `name` or `name=value` element of a live tag.
type tagOption struct {
	name     string
	value    string
	hasValue bool
}

// tagSpec is a parsed live tag: the source element first, then the options in
// the order written.
type tagSpec struct {
	scheme   string
	location string
	options  []tagOption
}

// parseTag parses a live tag of the form
//
//	<scheme>=<location>; <option>=<value>; <flag>
//
// Elements are separated by ';' (write `\;` for a literal semicolon and `\\`
// for a backslash) and trimmed of surrounding spaces. Only the first '=' of an
// element separates its name from its value, so values may contain '=', ',',
// '?', '&' and spaces. parseTag is pure: it knows nothing about which schemes
// are registered or which options exist; it checks only the shape. Every
// problem found is returned, joined.
func parseTag(tag string) (tagSpec, error) {
	var spec tagSpec
	elems := splitTag(tag)
	if len(elems) == 0 {
		return spec, errors.New("empty tag: want <scheme>=<location>")
	}
	var errs []error
	name, value, ok := strings.Cut(elems[0], "=")
	name = strings.TrimSpace(name)
	value = strings.TrimSpace(value)
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("first element %q is not a source: want <scheme>=<location>", clip(elems[0])))
	case !isName(name):
		errs = append(errs, fmt.Errorf("invalid scheme name %q", clip(name)))
	case value == "":
		errs = append(errs, fmt.Errorf("source %s has an empty location", name))
	default:
		spec.scheme, spec.location = name, value
	}
	seen := make(map[string]bool, len(elems))
	for _, e := range elems[1:] {
		n, v, has := strings.Cut(e, "=")
		n = strings.TrimSpace(n)
		if !isName(n) {
			errs = append(errs, fmt.Errorf("invalid option name %q", clip(n)))
			continue
		}
		if seen[n] {
			errs = append(errs, fmt.Errorf("option %s given twice", n))
			continue
		}
		seen[n] = true
		spec.options = append(spec.options, tagOption{name: n, value: strings.TrimSpace(v), hasValue: has})
	}
	return spec, errors.Join(errs...)
}

// splitTag splits on unescaped ';', resolves the two escapes and drops empty
// elements.
func splitTag(tag string) []string {
	var (
		elems []string
		cur   strings.Builder
	)
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			elems = append(elems, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		switch c {
		case '\\':
			if i+1 < len(tag) && (tag[i+1] == ';' || tag[i+1] == '\\') {
				cur.WriteByte(tag[i+1])
				i++
				continue
			}
			cur.WriteByte(c)
		case ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return elems
}

// isName reports whether s is a scheme or option name: a lowercase letter
// followed by lowercase letters, digits, '_' or '-'.
func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	const limit = 40
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}

// expand replaces ${VAR}, ${VAR:-default} (default when VAR is unset or
// empty) and ${VAR-default} (default only when VAR is unset) using lookup.
// `$${` stands for a literal `${`. A lone '$' is left alone, so URLs and
// passwords with '$' survive. A variable that is unset and has no default is
// an error naming it (write ${VAR:-} for an explicit empty default): a
// silently empty variable turns `${DIR}/app.toml` into `/app.toml`. Defaults
// are literal: they are not expanded again.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var (
		b     strings.Builder
		unset []string
	)
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ at offset %d", i)
		}
		body := s[i+2 : i+2+end]
		i += 2 + end + 1
		name, def, mode := body, "", ""
		if j := strings.Index(body, ":-"); j >= 0 {
			name, def, mode = body[:j], body[j+2:], ":-"
		} else if j := strings.IndexByte(body, '-'); j >= 0 {
			name, def, mode = body[:j], body[j+1:], "-"
		}
		if !isEnvName(name) {
			return "", fmt.Errorf("invalid variable name %q in ${...}", clip(name))
		}
		v, ok := lookup(name)
		switch {
		case mode == ":-" && v == "":
			v = def
		case mode == "-" && !ok:
			v = def
		case mode == "" && !ok:
			if !slices.Contains(unset, name) {
				unset = append(unset, name)
			}
		}
		b.WriteString(v)
	}
	if len(unset) > 0 {
		return "", &unsetVarError{names: unset}
	}
	return b.String(), nil
}

// unsetVarError reports ${VAR} references to unset variables without a
// default.
type unsetVarError struct{ names []string }

func (e *unsetVarError) Error() string {
	what := "environment variable " + e.names[0] + " is not set"
	if len(e.names) > 1 {
		what = "environment variables " + strings.Join(e.names, ", ") + " are not set"
	}
	return fmt.Sprintf("%s and ${%s} has no default (write ${%s:-} for an empty one)", what, e.names[0], e.names[0])
}

// isEnvName reports whether s is a POSIX-style variable name.
func isEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// fieldOptions is what a field's live tag says, typed: the outcome of
// running every option of the tag through its entry in [tagOptionTable].
type fieldOptions struct {
	key         string
	keyPath     []string
	format      string
	secret      bool // the secret flag as written; see decideSecrecy for what is secret
	required    bool
	optional    bool
	hasDefault  bool
	def         string
	debounce    time.Duration
	hasDebounce bool
	maxWait     time.Duration
	poll        time.Duration
	timeout     time.Duration
	throttle    time.Duration
	burst       int
	dependsOn   []string
	update      string
	when        string
	params      map[string]string // options the scheme declares, ${VAR}-expanded
	// safeQuery and secretLocation refine how the location is shown (see
	// location.go and sources.RedactURL).
	safeQuery      []string
	secretLocation bool
}

// optionCheck is what an option's check sees once every option of the field
// is parsed and its target is known.
type optionCheck struct {
	opts   *fieldOptions
	target *target
}

// tagOptionDef describes one option livebind itself handles: the one place
// that says what the option means. The plan compiler, the did-you-mean
// hints and the test that docs/tags.md lists every option all read
// [tagOptionTable].
type tagOptionDef struct {
	name string
	// flag options take no value; the others need one.
	flag bool
	// expand: ${VAR} is expanded in the value at Bind.
	expand bool
	// schemes reports whether a scheme honors the option (nil: every
	// scheme); notFor is the error otherwise, formatted with the scheme name.
	schemes func(sources.Scheme) bool
	notFor  string
	// parse stores the value in o; flags get "".
	parse func(o *fieldOptions, v string) error
	// check, when set, rejects the option where it would have no effect or
	// contradicts another option.
	check func(c optionCheck) error
	// value and doc are the value and the first words of the meaning columns
	// of the option's row in docs/tags.md.
	value, doc string
}

// tagOptionTable is the tag language: every option livebind handles. Scheme
// specific options come from each scheme's [sources.Scheme].Options.
var tagOptionTable = []tagOptionDef{
	{
		name: "key", expand: true, value: "dotted path", doc: "Select a value inside the document",
		parse: func(o *fieldOptions, v string) (err error) {
			o.key = v
			o.keyPath, err = parseKey(v)
			return err
		},
		check: func(c optionCheck) error {
			if c.target.textOnly() {
				return errors.New("has no effect: the source is read as text, a single value (give a structured format=, or a .toml, .yaml or .json location)")
			}
			return nil
		},
	},
	{
		name: "format", expand: true, value: "`toml`, `yaml`, `json`, `text`", doc: "Document format",
		parse: func(o *fieldOptions, v string) error {
			if !validFormat(v) {
				return fmt.Errorf("unknown format %q (want toml, yaml, json or text)", clip(v))
			}
			o.format = v
			return nil
		},
	},
	{
		name: "default", expand: true, value: "text", doc: "Value when the source is missing at Bind, or whenever the key is absent",
		parse: func(o *fieldOptions, v string) error { o.hasDefault, o.def = true, v; return nil },
		check: notRequired("a required field cannot have a default"),
	},
	{
		name: "required", flag: true, value: "flag", doc: "Bind fails while the source or key is missing",
		parse: func(o *fieldOptions, _ string) error { o.required = true; return nil },
	},
	{
		name: "optional", flag: true, value: "flag", doc: "Use the source if it is there",
		parse: func(o *fieldOptions, _ string) error { o.optional = true; return nil },
		check: notRequired("a field cannot be both optional and required"),
	},
	{
		name: "secret", flag: true, value: "flag", doc: "The value never appears in updates",
		parse: func(o *fieldOptions, _ string) error { o.secret = true; return nil },
	},
	{
		name: "debounce", expand: true, value: "duration ≥ 0", doc: "Wait this long after the last change notification before reading",
		parse: func(o *fieldOptions, v string) (err error) {
			o.debounce, err = parseDuration(v, true)
			o.hasDebounce = err == nil
			return err
		},
	},
	{
		name: "maxwait", expand: true, value: "duration", doc: "A steady stream of notifications cannot postpone a read longer than this",
		parse: func(o *fieldOptions, v string) (err error) { o.maxWait, err = parseDuration(v, false); return err },
		check: func(c optionCheck) error {
			switch {
			case c.opts.hasDebounce && c.opts.debounce == 0:
				return errors.New("has no effect with debounce=0")
			case !c.opts.hasDebounce && !c.target.scheme.NativeDebounce:
				return fmt.Errorf("has no effect without debounce=: %s sources are not debounced by default", c.target.scheme.Name)
			case c.target.scheme.NativeDebounce && c.target.spec.Poll > 0:
				// A driver that debounces its own notifications has none
				// to debounce while it polls (file=...; poll=).
				return errors.New("has no effect with poll=: a polled change is read at the poll that sees it")
			case c.opts.hasDebounce && c.opts.debounce > c.opts.maxWait:
				return errors.New("maxwait is shorter than debounce")
			}
			return nil
		},
	},
	{
		name: "throttle", expand: true, value: "duration", doc: "Token bucket: one update per `throttle`",
		parse: func(o *fieldOptions, v string) (err error) { o.throttle, err = parseDuration(v, false); return err },
	},
	{
		name: "burst", expand: true, value: "integer ≥ 1", doc: "Bucket size for `throttle`",
		parse: func(o *fieldOptions, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("want a whole number of at least 1, got %q", clip(v))
			}
			o.burst = n
			return nil
		},
		check: func(c optionCheck) error {
			if c.opts.throttle == 0 {
				return errors.New("burst needs throttle=")
			}
			return nil
		},
	},
	{
		name: "poll", expand: true, value: "duration", doc: "Poll interval, for sources that poll",
		schemes: func(s sources.Scheme) bool { return s.Poll }, notFor: "%s sources do not poll",
		parse: func(o *fieldOptions, v string) (err error) { o.poll, err = parseDuration(v, false); return err },
	},
	{
		name: "timeout", expand: true, value: "duration", doc: "Bound on one read, for sources that accept it",
		schemes: func(s sources.Scheme) bool { return s.Timeout }, notFor: "%s sources take no timeout",
		parse: func(o *fieldOptions, v string) (err error) { o.timeout, err = parseDuration(v, false); return err },
	},
	{
		name: "depends_on", value: "field paths, comma-separated", doc: "This field is applied after those fields in every generation",
		parse: func(o *fieldOptions, v string) error {
			o.dependsOn = nil
			for d := range strings.SplitSeq(v, ",") {
				if d = strings.TrimSpace(d); d != "" {
					o.dependsOn = append(o.dependsOn, d)
				}
			}
			if len(o.dependsOn) == 0 {
				return errors.New("names no field")
			}
			return nil
		},
	},
	{
		name: "update", value: "exported method name", doc: "`func (c *T) Method(next F) error`",
		parse: func(o *fieldOptions, v string) error {
			if !token.IsIdentifier(v) || !token.IsExported(v) {
				return fmt.Errorf("%q is not an exported method name", clip(v))
			}
			o.update = v
			return nil
		},
	},
	{
		name: "safequery", expand: true, value: "parameter names, comma-separated", doc: "Show the values of these query parameters",
		schemes: func(s sources.Scheme) bool { return s.Redact != nil }, notFor: "%s locations are shown as they are; safequery= is for URL sources",
		parse: func(o *fieldOptions, v string) error {
			o.safeQuery = nil
			for p := range strings.SplitSeq(v, ",") {
				if p = strings.TrimSpace(p); p != "" && !slices.Contains(o.safeQuery, p) {
					o.safeQuery = append(o.safeQuery, p)
				}
			}
			if len(o.safeQuery) == 0 {
				return errors.New("names no query parameter")
			}
			slices.Sort(o.safeQuery)
			return nil
		},
	},
	{
		name: "secretlocation", flag: true, value: "flag", doc: "The location is never shown",
		parse: func(o *fieldOptions, _ string) error { o.secretLocation = true; return nil },
	},
	{
		name: "when", value: "expression", doc: "A boolean [expr](https://expr-lang.org) expression over the struct's fields",
		parse: func(o *fieldOptions, v string) error { o.when = v; return nil },
	},
}

// tagOptionIndex finds a table entry by name.
var tagOptionIndex = func() map[string]*tagOptionDef {
	m := make(map[string]*tagOptionDef, len(tagOptionTable))
	for i := range tagOptionTable {
		m[tagOptionTable[i].name] = &tagOptionTable[i]
	}
	return m
}()

// compiledTag is a field's tag as compiled once per struct type: the source,
// the options parsed so far, and what only Bind can finish (values with
// ${VAR}, and options that depend on the registered scheme).
type compiledTag struct {
	scheme   string
	location string
	opts     fieldOptions
	given    []*tagOptionDef // livebind's options in tag order
	pending  []tagOption     // livebind's options whose value holds ${VAR}
	foreign  []tagOption     // other names: a scheme's options, or errors
	invalid  bool            // an option failed already: the field is not bound
}

// compileTag runs spec's options through the table. Every problem is
// returned, joined, as a *FieldError for path.

// notRequired is the check of an option that contradicts required: it
// fails with msg when the field is also required.
func notRequired(msg string) func(optionCheck) error {
	return func(c optionCheck) error {
		if c.opts.required {
			return errors.New(msg)
		}
		return nil
	}
}

func compileTag(path string, spec tagSpec) (compiledTag, error) {
	c := compiledTag{scheme: spec.scheme, location: spec.location}
	var errs []error
	for _, o := range spec.options {
		def, ok := tagOptionIndex[o.name]
		if !ok {
			c.foreign = append(c.foreign, o)
			continue
		}
		switch {
		case def.flag && o.hasValue:
			errs = append(errs, tagError(path, o.name, errors.New("is a flag and takes no value")))
			continue
		case !def.flag && !o.hasValue:
			errs = append(errs, tagError(path, o.name, errors.New("needs a value: "+o.name+"=...")))
			continue
		}
		c.given = append(c.given, def)
		if def.expand && strings.Contains(o.value, "${") {
			c.pending = append(c.pending, o)
			continue
		}
		if err := def.parse(&c.opts, o.value); err != nil {
			errs = append(errs, tagError(path, o.name, err))
		}
	}
	c.invalid = len(errs) > 0
	return c, errors.Join(errs...)
}

// options finishes the tag for one Bind: it expands and parses the pending
// values, sorts the foreign names into scheme options and errors (with a
// did-you-mean hint), and rejects options the scheme does not honor.
func (c *compiledTag) options(path string, scheme sources.Scheme, lookup func(string) (string, bool)) (fieldOptions, error) {
	o := c.opts
	o.params = nil
	var errs []error
	fail := func(option string, err error) { errs = append(errs, tagError(path, option, err)) }
	for _, p := range c.pending {
		v, err := expand(p.value, lookup)
		if err == nil {
			err = tagOptionIndex[p.name].parse(&o, v)
		}
		if err != nil {
			fail(p.name, err)
		}
	}
	for _, f := range c.foreign {
		if !slices.Contains(scheme.Options, f.name) {
			if _, isScheme := sources.Lookup(f.name); isScheme {
				fail(f.name, fmt.Errorf("a field takes exactly one source; %s= is a second one after %s=", f.name, c.scheme))
			} else {
				fail(f.name, fmt.Errorf("unknown option for %s sources%s", scheme.Name, suggest(f.name, scheme.Options)))
			}
			continue
		}
		v := "true"
		if f.hasValue {
			var err error
			if v, err = expand(f.value, lookup); err != nil {
				fail(f.name, err)
				continue
			}
		}
		if o.params == nil {
			o.params = map[string]string{}
		}
		o.params[f.name] = v
	}
	for _, def := range c.given {
		if def.schemes != nil && !def.schemes(scheme) {
			fail(def.name, fmt.Errorf(def.notFor, scheme.Name))
		}
	}
	return o, errors.Join(errs...)
}

// check runs the table's checks of every given option against the target
// the field reads: options without effect and contradictions are errors.
func (c *compiledTag) check(path string, o *fieldOptions, t *target) error {
	var errs []error
	for _, def := range c.given {
		if def.check == nil {
			continue
		}
		if err := def.check(optionCheck{opts: o, target: t}); err != nil {
			errs = append(errs, tagError(path, def.name, err))
		}
	}
	return errors.Join(errs...)
}

// parseDuration parses a Go duration that must be > 0, or >= 0 when zero
// is allowed.
func parseDuration(s string, zeroOK bool) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", clip(s))
	}
	if d < 0 || (d == 0 && !zeroOK) {
		return 0, fmt.Errorf("duration %q must be positive", clip(s))
	}
	return d, nil
}

// suggest proposes the closest known option name for a misspelling.
func suggest(name string, schemeOpts []string) string {
	best, bestDist := "", 3
	try := func(c string) {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	for i := range tagOptionTable {
		try(tagOptionTable[i].name)
	}
	for _, c := range schemeOpts {
		try(c)
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
