package livebind

import (
	"errors"
	"fmt"
	"go/token"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// boundField is one tagged field as resolved for one Binding.
type boundField struct {
	plan       *fieldPlan
	key        string
	keyPath    []string
	secret     bool
	required   bool
	hasDefault bool
	def        reflect.Value
	target     *target
	dependsOn  []string      // depends_on= field paths
	updateName string        // update= method name
	update     reflect.Value // the method's func, taking (*T, F) and returning error
	deps       []*boundField // resolved dependsOn

	present bool          // applier state: the source currently provides a value
	srcVal  reflect.Value // applier state: the published source value (update= fields re-run with it)
}

// coreOptions are the tag options livebind itself handles, and whether each
// is a flag (takes no value).
var coreOptions = map[string]bool{
	"key": false, "format": false, "secret": true, "required": true, "default": false,
	"debounce": false, "maxwait": false, "throttle": false, "burst": false,
	"poll": false, "timeout": false,
	"depends_on": false, "update": false, "when": false,
	"safequery": false, "secretlocation": true, // issue 17: location redaction
}

// resolved is the outcome of resolving every field of a plan.
type resolved struct {
	fields  []*boundField
	targets []*target
}

// resolveFields expands and checks every field's tag against the registered
// schemes and groups fields that read the same location into shared targets.
func resolveFields(p *typePlan, lookup func(string) (string, bool)) (resolved, error) {
	var (
		res     resolved
		errs    []error
		targets = map[string]*target{}
	)
	for i := range p.fields {
		fp := &p.fields[i]
		f, t, err := resolveField(fp, lookup)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		id := t.identity()
		if shared, ok := targets[id]; ok {
			shared.shareLocationRules(t)
			t = shared
			t.spec.Secret = t.spec.Secret || f.secret
		} else {
			targets[id] = t
			res.targets = append(res.targets, t)
		}
		f.target = t
		t.fields = append(t.fields, f)
		res.fields = append(res.fields, f)
	}
	for _, t := range res.targets {
		spreadSecrecy(t)
	}
	return res, errors.Join(errs...)
}

// spreadSecrecy marks as secret every field of t whose value contains a
// secret field's value: the whole document, or a key that is a prefix of the
// secret's key. Otherwise `DB` next to `DB.Password; secret` would print the
// password in DB's updates.
func spreadSecrecy(t *target) {
	for _, s := range t.fields {
		if !s.secret {
			continue
		}
		t.spec.Secret = true
		for _, f := range t.fields {
			if f.key == "" || f.key == s.key || strings.HasPrefix(s.key, f.key+".") {
				f.secret = true
			}
		}
	}
}

// resolveField resolves one field into a boundField and a fresh target.
func resolveField(fp *fieldPlan, lookup func(string) (string, bool)) (*boundField, *target, error) {
	var errs []error
	fail := func(option string, err error) {
		errs = append(errs, tagError(fp.path, option, err))
	}
	scheme, ok := sources.Lookup(fp.tag.scheme)
	if !ok {
		return nil, nil, &FieldError{Field: fp.path, Err: fmt.Errorf(
			"%w %q: import _ \"github.com/livebind/livebind/sources/%s\" to register it (registered: %s)",
			ErrScheme, fp.tag.scheme, fp.tag.scheme, strings.Join(sources.Names(), ", "))}
	}
	loc, err := expand(fp.tag.location, lookup)
	if err != nil {
		fail("", fmt.Errorf("location: %w", err))
	}
	f := &boundField{plan: fp, secret: scheme.Secret}
	var defRaw string
	t := &target{
		spec:   sources.Target{Scheme: scheme.Name, Location: loc},
		scheme: scheme,
	}
	for _, o := range fp.tag.options {
		flag, core := coreOptions[o.name]
		schemeOpt := slices.Contains(scheme.Options, o.name)
		_, isScheme := sources.Lookup(o.name)
		switch {
		case !core && !schemeOpt && isScheme:
			fail(o.name, fmt.Errorf("a field takes exactly one source; %s= is a second one after %s=", o.name, fp.tag.scheme))
			continue
		case !core && !schemeOpt:
			fail(o.name, fmt.Errorf("unknown option for %s sources%s", scheme.Name, suggest(o.name, scheme.Options)))
			continue
		case flag && o.hasValue:
			fail(o.name, errors.New("is a flag and takes no value"))
			continue
		case !flag && !o.hasValue && core:
			fail(o.name, errors.New("needs a value: "+o.name+"=..."))
			continue
		}
		val := o.value
		if o.name != "when" && o.name != "update" && o.name != "depends_on" {
			if val, err = expand(o.value, lookup); err != nil {
				fail(o.name, err)
				continue
			}
		}
		if !core {
			if t.spec.Params == nil {
				t.spec.Params = map[string]string{}
			}
			if !o.hasValue {
				val = "true"
			}
			t.spec.Params[o.name] = val
			continue
		}
		switch o.name {
		case "key":
			f.key, f.keyPath = val, splitKey(val)
			if slices.Contains(f.keyPath, "") {
				fail(o.name, fmt.Errorf("empty segment in key %q", val))
			}
		case "format":
			if !validFormat(val) {
				fail(o.name, fmt.Errorf("unknown format %q (want toml, yaml, json or text)", clip(val)))
			}
			t.format = val
		case "secret":
			f.secret = true
		case "required":
			f.required = true
		case "default":
			f.hasDefault, defRaw = true, val
		case "debounce", "maxwait", "poll", "timeout", "throttle":
			d, err := parsePositiveDuration(val, o.name == "debounce")
			if err != nil {
				fail(o.name, err)
				continue
			}
			switch o.name {
			case "debounce":
				t.spec.Debounce = d
				t.debounceSet = true
			case "maxwait":
				t.spec.MaxWait = d
			case "poll":
				if !scheme.Poll {
					fail(o.name, fmt.Errorf("%s sources do not poll", scheme.Name))
				}
				t.spec.Poll = d
			case "timeout":
				if !scheme.Timeout {
					fail(o.name, fmt.Errorf("%s sources take no timeout", scheme.Name))
				}
				t.spec.Timeout = d
			case "throttle":
				t.throttle = d
			}
		case "burst":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				fail(o.name, fmt.Errorf("want a whole number of at least 1, got %q", clip(val)))
				continue
			}
			t.burst = n
		case "depends_on":
			for _, d := range strings.Split(val, ",") {
				if d = strings.TrimSpace(d); d != "" {
					f.dependsOn = append(f.dependsOn, d)
				}
			}
			if len(f.dependsOn) == 0 {
				fail(o.name, errors.New("names no field"))
			}
		case "update":
			if !token.IsIdentifier(val) || !token.IsExported(val) {
				fail(o.name, fmt.Errorf("%q is not an exported method name", clip(val)))
			}
			f.updateName = val
		case "when":
			t.whenSrc = val
		case "safequery", "secretlocation":
			if err := t.locationOption(o.name, val); err != nil {
				fail(o.name, err)
			}
		}
	}
	if f.required && f.hasDefault {
		fail("default", errors.New("a required field cannot have a default"))
	}
	if t.burst > 0 && t.throttle == 0 {
		fail("burst", errors.New("burst needs throttle="))
	}
	if t.spec.MaxWait > 0 && t.spec.Debounce > t.spec.MaxWait {
		fail("maxwait", errors.New("maxwait is shorter than debounce"))
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if scheme.Name == "env" {
		if err := envFileConvention(t, lookup); err != nil {
			return nil, nil, &FieldError{Field: fp.path, Source: t.String(), Err: err}
		}
	}
	if t.format == "" && scheme.Name == "env" {
		t.format = formatText
	}
	t.guess = formatFromName(t.spec.Location)
	if f.hasDefault {
		v, err := decodeValue(defRaw, fp.typ, formatText)
		if err != nil {
			return nil, nil, tagError(fp.path, "default", secretSafe(err, f.secret, formatText, fp.typ))
		}
		f.def = v
	}
	t.spec.Secret = f.secret
	f.target = t
	return f, t, nil
}

// envFileConvention turns env=NAME into a watched file when NAME is unset and
// NAME_FILE names a file, the convention Docker and Kubernetes secrets use.
func envFileConvention(t *target, lookup func(string) (string, bool)) error {
	name := t.spec.Location
	_, set := lookup(name)
	path, fileSet := lookup(name + "_FILE")
	switch {
	case set && fileSet:
		return fmt.Errorf("%w: both %s and %s_FILE are set; set only one", ErrTag, name, name)
	case !fileSet:
		return nil
	case path == "":
		return fmt.Errorf("%w: %s_FILE is set but empty", ErrTag, name)
	}
	file, ok := sources.Lookup("file")
	if !ok {
		return fmt.Errorf("%w: %s_FILE needs the file source", ErrScheme, name)
	}
	t.viaEnv = name + "_FILE"
	t.scheme = file
	t.spec.Scheme = file.Name
	t.spec.Location = path
	t.spec.Poll = 0
	if t.format == "" {
		t.format = formatText
	}
	return nil
}

// parsePositiveDuration parses a Go duration that must be > 0, or >= 0 when
// zero is allowed.
func parsePositiveDuration(s string, zeroOK bool) (time.Duration, error) {
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
	for _, c := range slices.Sorted(maps.Keys(coreOptions)) {
		try(c)
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
