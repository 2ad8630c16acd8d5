package livebind

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
	"github.com/livebind/livebind/sources/env"
)

// boundField is one tagged field as resolved for one Binding.
type boundField struct {
	plan       *fieldPlan
	key        string
	keyPath    []string
	declared   bool // tagged secret, or read from a secret scheme
	secret     bool // decided by decideSecrecy: never show this field's value
	required   bool
	optional   bool // the optional flag: Status reports its absence as expected
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

// resolved is the outcome of resolving every field of a plan.
type resolved struct {
	fields  []*boundField
	targets []*target
}

// resolveFields expands and checks every field's tag against the registered
// schemes and groups fields that read the same location with the same
// options into shared targets.
func resolveFields(p *typePlan, lookup func(string) (string, bool)) (_ resolved, err error) {
	// The lookup function is user code (WithLookupEnv): a panic in it is a
	// Bind error, never a crash. Its value is not shown (it may be a
	// variable's value).
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("livebind: resolving tags: %w", env.ErrLookupPanicked)
		}
	}()
	var (
		res     resolved
		errs    []error
		hidden  []string // secretlocation locations, scrubbed from every error
		targets = map[string]*target{}
	)
	wd, _ := os.Getwd() // where the file driver, opened now, resolves relative paths
	for i := range p.fields {
		fp := &p.fields[i]
		f, t, err := resolveField(fp, lookup)
		if t != nil && t.hideLoc && t.spec.Location != "" {
			t.hidden = locationForms(t.spec.Scheme, t.spec.Location, wd)
			hidden = append(hidden, t.hidden...)
		}
		if err != nil || f == nil {
			errs = append(errs, err)
			continue
		}
		id := t.identity()
		if shared, ok := targets[id]; ok {
			shared.shareLocationRules(t)
			t = shared
		} else {
			targets[id] = t
			res.targets = append(res.targets, t)
		}
		f.target = t
		t.fields = append(t.fields, f)
		res.fields = append(res.fields, f)
	}
	shareDocumentRules(res.targets)
	for _, t := range res.targets {
		t.name = t.describe()
		if t.hideLoc && t.hidden == nil { // secret through a field that shares it, or no location
			t.hidden = locationForms(t.spec.Scheme, t.spec.Location, wd)
		}
	}
	return res, hideLocations(errors.Join(errs...), hidden)
}

// decideSecrecy decides, once per Binding, which fields and which documents
// are secret. Everything else (updates, logs, errors, Status, the debug
// handler, the cache) reads the flags it sets: boundField.secret and the
// target's spec.Secret.
//
// Secrecy follows the data, and data flows per document: the fields that read
// one location (same scheme and location after expansion, whatever their
// other options, which can give them separate targets) read one document.
// If a field of a document is declared secret (the secret flag, or a secret
// scheme), every field of that document that can see its bytes is secret
// too: one that reads the whole document, one whose key contains the
// secret's key, and one whose key lies inside it. Every target of that
// document is secret, so its parse errors lose their content. Finally a
// field whose update= function depends on a secret field may copy it (a DSN
// built from a password): it is secret, and so is its document. fields must
// be in dependency order.
func decideSecrecy(fields []*boundField) {
	docs := map[string][]*boundField{}
	for _, f := range fields {
		f.secret = f.declared
		id := f.target.document()
		docs[id] = append(docs[id], f)
	}
	markDoc := func(id string) {
		for _, f := range docs[id] {
			f.target.spec.Secret = true
		}
	}
	for id, doc := range docs {
		var seeds []*boundField
		for _, f := range doc {
			if f.declared {
				seeds = append(seeds, f)
			}
		}
		if len(seeds) == 0 {
			continue
		}
		markDoc(id)
		for _, f := range doc {
			for _, s := range seeds {
				if keysOverlap(f.keyPath, s.keyPath) {
					f.secret = true
				}
			}
		}
	}
	for _, f := range fields {
		if f.update.IsValid() && slices.ContainsFunc(f.deps, func(d *boundField) bool { return d.secret }) {
			f.secret = true
			markDoc(f.target.document())
		}
	}
}

// keysOverlap reports whether one key path is a prefix of the other, so that
// the value selected by one contains the value selected by the other.
func keysOverlap(a, b []string) bool {
	n := min(len(a), len(b))
	return slices.Equal(a[:n], b[:n])
}

// resolveField resolves one field into a boundField and a fresh target.
// On an error it returns the target too (a bare one when the options
// failed), so that its secretlocation still hides the location from every
// Bind error.
func resolveField(fp *fieldPlan, lookup func(string) (string, bool)) (*boundField, *target, error) {
	c := fp.tag
	scheme, ok := sources.Lookup(c.scheme)
	if !ok {
		return nil, nil, &FieldError{Field: fp.path, Err: fmt.Errorf(
			"%w %q: import _ \"github.com/livebind/livebind/sources/%s\" to register it (registered: %s)",
			ErrScheme, c.scheme, c.scheme, strings.Join(sources.Names(), ", "))}
	}
	var errs []error
	o, err := c.options(fp.path, scheme, lookup)
	if err != nil {
		errs = append(errs, err)
	}
	loc, unwatched, err := expandLocation(c.location, o.optional, lookup)
	if err != nil {
		errs = append(errs, tagError(fp.path, "", fmt.Errorf("location: %w", err)))
	}
	if len(errs) > 0 || c.invalid {
		var hide *target // secretlocation still hides the location from the other fields' errors
		if o.secretLocation && loc != "" {
			hide = &target{spec: sources.Target{Scheme: scheme.Name, Location: loc}, hideLoc: true}
		}
		return nil, hide, errors.Join(errs...)
	}
	t := &target{
		spec: sources.Target{
			Scheme: scheme.Name, Location: loc,
			Poll: o.poll, MaxWait: o.maxWait, Timeout: o.timeout, Params: o.params,
		},
		scheme:    scheme,
		format:    o.format,
		throttle:  o.throttle,
		burst:     o.burst,
		whenSrc:   o.when,
		hideLoc:   o.secretLocation,
		safeQuery: o.safeQuery,
		unwatched: unwatched,
	}
	if scheme.Name == "env" && unwatched == "" {
		if err := envFileConvention(t, lookup); err != nil {
			return nil, t, &FieldError{Field: fp.path, Source: t.String(), Err: err}
		}
		// A plain env= value has no extension and declares no format: it is
		// text, unless a structured field's value is a JSON object or array
		// (see formatFor). NAME_FILE stays text as it always was.
	}
	t.guess = formatFromName(t.spec.Location)
	t.spec.Debounce = o.debounce
	if o.hasDebounce && o.debounce == 0 && t.scheme.NativeDebounce {
		t.spec.Debounce = noDebounce // 0 would mean the driver's default
	}
	if err := c.check(fp.path, &o, t); err != nil {
		return nil, t, err
	}
	if t.scheme.Check != nil && unwatched == "" { // the scheme's own options and location, at Bind
		if err := t.scheme.Check(&t.spec); err != nil {
			return nil, t, &FieldError{Field: fp.path, Source: t.String(), Err: fmt.Errorf("%w: %w", ErrTag, err)}
		}
	}
	f := &boundField{
		plan: fp, key: o.key, keyPath: o.keyPath,
		declared: o.secret || scheme.Secret, required: o.required, optional: o.optional, hasDefault: o.hasDefault,
		dependsOn: o.dependsOn, updateName: o.update, target: t,
	}
	if f.hasDefault {
		v, err := decodeValue(o.def, fp.typ, formatText)
		if err != nil {
			return nil, nil, tagError(fp.path, "default", secretSafe(err, f.declared, formatText, fp.typ))
		}
		f.def = v
	}
	return f, t, nil
}

// expandLocation expands a field's location. For an optional field a
// location that is empty after expansion, or that names an unset variable
// without a default, is no error: there is nothing to watch, and unwatched
// says why (for Status). Other fields get the usual errors for those.
func expandLocation(loc string, optional bool, lookup func(string) (string, bool)) (_, unwatched string, _ error) {
	v, err := expand(loc, lookup)
	var unset *unsetVarError
	switch {
	case optional && errors.As(err, &unset):
		return "", "location names unset variable " + strings.Join(unset.names, ", "), nil
	case err != nil:
		return "", "", err
	case optional && strings.TrimSpace(v) == "":
		return "", "location is empty after ${VAR} expansion", nil
	}
	return v, "", nil
}

// noDebounce is the sources.Target.Debounce that says debounce=0 to a driver
// that debounces natively, where 0 means the driver's default.
const noDebounce time.Duration = -1

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
