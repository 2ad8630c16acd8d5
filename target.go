package livebind

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/livebind/livebind/internal/throttle"
	"github.com/livebind/livebind/sources"
)

// target is one watched location shared by the fields that read it.
type target struct {
	spec     sources.Target
	scheme   sources.Scheme
	driver   sources.Driver
	format   string     // from format= (or text for env); "" means decided per result
	guess    string     // inferred from the location's extension, or
	viaEnv   string     // NAME_FILE when an env field was turned into a file
	whenSrc  string     // when= expression; fields with different conditions never share a target
	when     *condition // compiled whenSrc
	throttle time.Duration
	burst    int
	fields   []*boundField

	gate   *throttle.Gate[stamped]
	stop   func()
	seq    atomic.Uint64 // numbers the watch's results as the driver emits them
	active atomic.Bool   // unconditional, or its condition holds: the watch runs; written by the applier

	// Applier state.
	applied  uint64 // newest seq applied; older results (held in a gate) are stale
	present  bool
	lastData []byte
	failing  error
	failData []byte        // the data that failed to parse or decode, if that is why
	cached   []byte        // what WithCache saved last
	runaway  chan struct{} // closed when an abandoned when= evaluation ends; nil if none runs

	hideLoc   bool     // secretlocation: the location is never shown
	hidden    []string // with hideLoc: the forms of the location scrubbed (locationForms), set at Bind
	safeQuery []string // safequery=: query parameters whose values are shown
	unwatched string   // why an optional field's location cannot be watched (empty after expansion); "" for a watched one
	name      string   // String, fixed once the target's fields are resolved (updates name it on every change)
}

// identity is the key under which fields share a target.
func (t *target) identity() string {
	b := make([]byte, 0, len(t.spec.Scheme)+len(t.spec.Location)+len(t.format)+len(t.whenSrc)+64)
	b = append(append(append(b, t.spec.Scheme...), 0), t.spec.Location...)
	b = append(append(append(b, 0), t.format...), 0)
	for _, d := range []time.Duration{t.spec.Poll, t.spec.Debounce, t.spec.MaxWait, t.spec.Timeout, t.throttle} {
		b = append(strconv.AppendInt(b, int64(d), 10), 0)
	}
	b = append(strconv.AppendInt(b, int64(t.burst), 10), 0)
	b = append(append(b, t.whenSrc...), 0)
	b = append(b, t.unwatched...)
	for _, k := range slices.Sorted(maps.Keys(t.spec.Params)) {
		b = append(append(append(append(b, 0), k...), '='), t.spec.Params[k]...)
	}
	return string(b)
}

// document names what the target reads, whatever the options: targets with
// the same document see the same bytes, so they share secrecy.
func (t *target) document() string {
	return t.spec.Scheme + "\x00" + t.spec.Location
}

// textOnly reports whether every result of t is decoded as text, a single
// value in which key= selects nothing: format=text, env= without format=,
// or a local source (which declares no format) whose location has a .txt or
// unknown extension.
func (t *target) textOnly() bool {
	if t.format != "" {
		return t.format == formatText
	}
	return t.scheme.Local && (t.guess == "" || t.guess == formatText)
}

// String names the target for updates, errors, logs, Status and metric
// labels. The scheme's Redact hides credentials in the location (for URLs:
// user information and every query value, except the parameters of
// safequery=); secretlocation hides the whole location.
func (t *target) String() string {
	if t.name != "" {
		return t.name
	}
	return t.describe()
}

// describe builds what String returns.
func (t *target) describe() string {
	var loc string
	switch {
	case t.hideLoc:
		loc = sources.HiddenLocation
		if len(t.fields) > 0 {
			loc = "[secret location of " + t.fields[0].plan.path + "]"
		}
	case t.scheme.Redact != nil:
		loc = sources.ShowSafeQuery(t.scheme.Redact(t.spec.Location), t.spec.Location, t.safeQuery)
	default:
		loc = t.spec.Location
	}
	s := t.spec.Scheme + ":" + loc
	if t.viaEnv != "" {
		s += " (" + t.viaEnv + ")"
	}
	return s
}

// formatFor decides the format of one result by the one rule docs/tags.md
// states: format= wins; then a specific type the source declares (an HTTP
// Content-Type of application/json, application/yaml or application/toml,
// or a format name); then the location's extension; then text. Generic
// declarations (text/plain, application/octet-stream, unknown types) count
// for nothing, so a .json file served as text/plain is JSON.
func (t *target) formatFor(r sources.Result) string {
	if t.format != "" {
		return t.format
	}
	if f := formatFromMedia(r.Format); f != "" {
		return f
	}
	if t.guess != "" {
		return t.guess
	}
	if t.wantsStructure() && looksLikeJSON(r.Data) {
		return formatJSON
	}
	return formatText
}

// wantsStructure reports whether a field of t needs a structured document:
// it has a key=, or its type is a struct, map, slice or array that is not
// read from text itself ([]byte, or a type with UnmarshalText). For such a target a value whose
// location and source say nothing of its format is sniffed (formatFor).
func (t *target) wantsStructure() bool {
	for _, f := range t.fields {
		if len(f.keyPath) > 0 || structuredType(f.plan.typ) {
			return true // key= selects inside a document, so it needs one
		}
	}
	return false
}

// structuredType reports whether typ is filled from a structured document
// rather than from one text value.
func structuredType(typ reflect.Type) bool {
	if typ == bytesType || reflect.PointerTo(typ).Implements(textUnmarshalerType) {
		return false
	}
	switch typ.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return true
	}
	return false
}

// looksLikeJSON reports whether data, past a byte-order mark and white
// space, starts a JSON object or array.
func looksLikeJSON(data []byte) bool {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(data) > 0 && (data[0] == '{' || data[0] == '[')
}

// errKeyInText explains a key= on a value read as text.
var errKeyInText = errors.New("the value was read as text (nothing says its format and it is not a JSON object or array), and key= selects inside a document: add format=json, format=yaml or format=toml")

// formatHint explains a structured field that got text: the source did not
// say what the value is, and it is no JSON object or array.
func formatHint(typ reflect.Type, format string, t *target) string {
	if format != formatText || t.format != "" || !structuredType(typ) || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array {
		return ""
	}
	return " (the value was read as text: nothing says its format and it is not a JSON object or array; add format=json, format=yaml or format=toml)"
}

// staticFormat is the format known before any result: format= or the
// extension ("" for neither). Drivers that check reads with it (files)
// declare no type of their own, so for them it is what formatFor decides.
func (t *target) staticFormat() string {
	if t.format != "" {
		return t.format
	}
	return t.guess
}

// checkError marks a document that failed the check a driver ran, so that
// livebind reports it as a decode error rather than a source failure.
type checkError struct{ err error }

func (e *checkError) Error() string { return e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }

// check is handed to drivers that can observe half-written values. For a
// target that holds a secret the error says nothing of the content.
func (t *target) check(data []byte) error {
	f := t.staticFormat()
	if f == "" || f == formatText {
		return nil
	}
	if _, err := parseDoc(f, data); err != nil {
		return &checkError{t.hide(err, f)}
	}
	return nil
}

// hide replaces a parse error by a content-free one when t holds a secret.
func (t *target) hide(err error, format string) error {
	if !t.spec.Secret || err == nil || errors.Is(err, ErrEmpty) || errors.Is(err, ErrLimit) {
		return err // LimitError holds numbers, no content
	}
	var ce *checkError
	if errors.As(err, &ce) {
		return err // check already hid it
	}
	return fmt.Errorf("%s document does not parse (details hidden: it holds a secret)", format)
}

// stamped is a result numbered in the order the driver emitted it.
type stamped struct {
	r   sources.Result
	seq uint64
}

// change is what one observation means for one field.
type change struct {
	f    *boundField
	kind Kind
	val  reflect.Value // new value for Updated and Added
	err  error         // for Error
}

// fieldErr wraps err, after sentinel if not nil, as a FieldError for f.
func (t *target) fieldErr(f *boundField, sentinel, err error) *FieldError {
	if sentinel != nil {
		err = fmt.Errorf("%w: %w", sentinel, err)
	}
	return &FieldError{Field: f.plan.path, Source: t.String(), Key: f.key, Err: err}
}

// observe turns one result into per-field changes and updates the target's
// and fields' presence state. A document that fails to parse or any field
// that fails to decode rejects the whole observation: the target's fields
// change together or not at all.
func (t *target) observe(r sources.Result) []change {
	switch {
	case r.Err != nil:
		sentinel := ErrSource
		if errors.Is(r.Err, ErrEmpty) || errors.As(r.Err, new(*checkError)) {
			sentinel = ErrDecode // the source works; what it holds does not parse
		}
		t.failing, t.failData = fmt.Errorf("%w: %w", sentinel, r.Err), nil
		out := make([]change, 0, len(t.fields))
		for _, f := range t.fields {
			out = append(out, change{f: f, kind: Error, err: t.fieldErr(f, nil, t.failing)})
		}
		return out
	case r.Missing:
		was := t.present
		t.present, t.lastData, t.failing, t.failData = false, nil, nil, nil
		if !was {
			return nil
		}
		var out []change
		for _, f := range t.fields {
			if f.present {
				f.present = false
				out = append(out, change{f: f, kind: Removed})
			}
		}
		return out
	}
	if t.present && t.failing == nil && bytes.Equal(r.Data, t.lastData) {
		return nil
	}
	if t.failing != nil && t.failData != nil && bytes.Equal(r.Data, t.failData) {
		return nil // the same bad value again: reported already
	}
	format := t.formatFor(r)
	t.failData = nil
	doc, err := parseDoc(format, r.Data)
	if err != nil {
		t.failing, t.failData = fmt.Errorf("%w: %w", ErrDecode, t.hide(err, format)), r.Data
		out := make([]change, 0, len(t.fields))
		for _, f := range t.fields {
			out = append(out, change{f: f, kind: Error, err: t.fieldErr(f, nil, t.failing)})
		}
		return out
	}
	out := make([]change, 0, len(t.fields))
	var failed []change
	present := make([]bool, len(t.fields)) // applied only if the observation is accepted
	for i, f := range t.fields {
		if format == formatText && len(f.keyPath) > 0 {
			// A key cannot be found in text: saying "not found" (or
			// nothing, for an optional key) would hide the real mistake.
			failed = append(failed, change{f: f, kind: Error, err: t.fieldErr(f, ErrDecode, fmt.Errorf("key %s: %w", f.key, errKeyInText))})
			continue
		}
		v, ok := selectKey(doc, f.keyPath)
		if !ok {
			switch {
			case f.required:
				failed = append(failed, change{f: f, kind: Error, err: t.fieldErr(f, ErrRequired, fmt.Errorf("key %s not found", f.key))})
			case f.hasDefault:
				out = append(out, change{f: f, kind: Updated, val: f.def})
			case f.present:
				out = append(out, change{f: f, kind: Removed})
			}
			continue
		}
		val, err := decodeValue(v, f.plan.typ, format)
		if err != nil {
			if hint := formatHint(f.plan.typ, format, t); hint != "" {
				err = fmt.Errorf("%w%s", err, hint)
			}
			failed = append(failed, change{f: f, kind: Error, err: t.fieldErr(f, ErrDecode, secretSafe(err, f.secret, format, f.plan.typ))})
			continue
		}
		kind := Updated
		if !f.present {
			kind = Added
		}
		present[i] = true
		out = append(out, change{f: f, kind: kind, val: val})
	}
	if len(failed) > 0 {
		t.failing, t.failData = failed[0].err, r.Data
		return failed
	}
	for i, f := range t.fields {
		f.present = present[i]
	}
	t.present, t.lastData, t.failing = true, r.Data, nil
	return out
}
