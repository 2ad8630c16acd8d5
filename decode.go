package livebind

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"path"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/pelletier/go-toml/v2"
	yaml "go.yaml.in/yaml/v3"

	"github.com/livebind/livebind/internal/docguard"
)

// The document formats livebind decodes.
const (
	formatTOML = "toml"
	formatYAML = "yaml"
	formatJSON = "json"
	formatText = "text"
)

// validFormat reports whether f names a supported format.
func validFormat(f string) bool {
	switch f {
	case formatTOML, formatYAML, formatJSON, formatText:
		return true
	}
	return false
}

// formatFromName infers a format from a location's extension; "" if unknown.
// For URLs only the path counts, not the query.
func formatFromName(name string) string {
	if strings.Contains(name, "://") {
		if u, err := url.Parse(name); err == nil {
			name = u.Path
		}
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".toml":
		return formatTOML
	case ".yaml", ".yml":
		return formatYAML
	case ".json":
		return formatJSON
	case ".txt", ".text":
		return formatText
	}
	return ""
}

// formatFromMedia maps what a source declares about a value (an HTTP
// Content-Type, or a format name such as vault's "text") to a format, or ""
// when the declaration is generic and must not override the location's
// extension: text/plain (raw file hosts serve app.json as text/plain),
// application/octet-stream, and anything unknown. Only a specific type
// names a format: application/json and any +json type, application/toml,
// application/yaml (also x-yaml, text/yaml, text/x-yaml, +yaml).
func formatFromMedia(mt string) string {
	mt, _, _ = strings.Cut(mt, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case mt == "application/toml", mt == "application/x-toml", mt == "text/x-toml":
		return formatTOML
	case mt == "application/yaml", mt == "application/x-yaml", mt == "text/yaml", mt == "text/x-yaml",
		strings.HasSuffix(mt, "+yaml"):
		return formatYAML
	case mt == "application/json", strings.HasSuffix(mt, "+json"):
		return formatJSON
	case validFormat(mt):
		return mt // a source that names the format itself
	}
	return ""
}

// parseDoc parses a whole document into a generic tree: map[string]any for
// tables, []any, and scalars. Text documents become one string without the
// final line ending. Structured documents that hold nothing (empty, blank or
// only comments) are an ErrEmpty error, never an empty configuration. A
// UTF-8 byte-order mark before a structured document is ignored.
//
// Before a parser sees a structured document, docguard checks it against
// the nesting, key-length and item limits (an ErrLimit error), so parsing
// costs time and memory linear in the document's size. A parser that panics
// all the same yields an error, never a crash.
func parseDoc(format string, data []byte) (any, error) {
	if format == formatText {
		return string(trimEOL(data)), nil
	}
	return parseStructured(format, data)
}

// parseStructured is parseDoc for the structured formats. It is a function
// of its own so that the text path, the hot one of scalar fields, does not
// pay for the recovered parser's escaping result.
func parseStructured(format string, data []byte) (doc any, err error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	if !validFormat(format) {
		return nil, fmt.Errorf("unknown format %q", format)
	}
	if err := docguard.Check(format, data); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("%s parser panicked: %v", format, r)
		}
	}()
	switch format {
	case formatTOML:
		var m map[string]any
		if err := toml.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		doc = tomlTimes(m)
	case formatYAML:
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
	case formatJSON:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, err
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errors.New("unexpected data after the JSON value")
		}
	}
	if doc == nil {
		return nil, ErrEmpty
	}
	return doc, nil
}

var utf8BOM = []byte("\uFEFF")

// tomlTimes replaces, in place, the TOML parser's local date, time and
// date-time values by time.Time values in time.Local (a local time is on
// 0000-01-01), so that they decode into time.Time fields like offset
// date-times do. Depth is bounded by docguard.MaxDepth.
func tomlTimes(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = tomlTimes(e)
		}
	case []any:
		for i, e := range v {
			v[i] = tomlTimes(e)
		}
	case toml.LocalDate:
		return v.AsTime(time.Local)
	case toml.LocalDateTime:
		return v.AsTime(time.Local)
	case toml.LocalTime:
		return time.Date(0, 1, 1, v.Hour, v.Minute, v.Second, v.Nanosecond, time.Local)
	}
	return v
}

// trimEOL removes one final "\n" or "\r\n", as `echo value > file` adds one.
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// splitKey is [parseKey] for a key known to be valid, such as a constant;
// an invalid key gives nil.
func splitKey(key string) []string {
	path, _ := parseKey(key)
	return path
}

// parseKey parses a key= path into its segments; "" selects the whole
// document. Segments are separated by '.'. A segment that holds a '.' (a
// host name, a Kubernetes label) is written in double quotes, in which `\"`
// is a '"' and `\\` a '\': labels."app.kubernetes.io/name",
// hosts."db.example.com".port. Unquoted segments may not be empty and may
// not hold '"'.
func parseKey(key string) ([]string, error) {
	if key == "" {
		return nil, nil
	}
	var (
		segs []string
		cur  strings.Builder
	)
	for i := 0; ; {
		if i < len(key) && key[i] == '"' {
			i++
			closed := false
			for i < len(key) {
				c := key[i]
				if c == '\\' && i+1 < len(key) && (key[i+1] == '"' || key[i+1] == '\\') {
					cur.WriteByte(key[i+1])
					i += 2
					continue
				}
				i++
				if c == '"' {
					closed = true
					break
				}
				cur.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quote in key %q", clip(key))
			}
			if i < len(key) && key[i] != '.' {
				return nil, fmt.Errorf("key %q: a quoted segment must be followed by '.' or end the key", clip(key))
			}
		} else {
			j := strings.IndexByte(key[i:], '.')
			if j < 0 {
				j = len(key) - i
			}
			seg := key[i : i+j]
			if seg == "" {
				return nil, fmt.Errorf("empty segment in key %q", clip(key))
			}
			if strings.IndexByte(seg, '"') >= 0 {
				return nil, fmt.Errorf("key %q: quote a whole segment (\"a.b\"), not part of one", clip(key))
			}
			cur.WriteString(seg)
			i += j
		}
		segs = append(segs, cur.String())
		cur.Reset()
		if i == len(key) {
			return segs, nil
		}
		i++ // the '.'
		if i == len(key) {
			return nil, fmt.Errorf("empty segment in key %q", clip(key))
		}
	}
}

// joinKey is the inverse of parseKey: it quotes the segments that need it.
func joinKey(path []string) string {
	var b strings.Builder
	for i, s := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		if s != "" && !strings.ContainsAny(s, ".\"\\") {
			b.WriteString(s)
			continue
		}
		b.WriteByte('"')
		for j := 0; j < len(s); j++ {
			if s[j] == '"' || s[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[j])
		}
		b.WriteByte('"')
	}
	return b.String()
}

// selectKey walks a parsed document along path. Map keys match exactly;
// list elements are selected by decimal index. An explicit null (YAML `key:`
// left empty, JSON null) counts as absent, so required and default= apply
// instead of a silent zero value.
func selectKey(doc any, keyPath []string) (any, bool) {
	v, ok := walkKey(doc, keyPath)
	return v, ok && v != nil
}

func walkKey(doc any, keyPath []string) (any, bool) {
	cur := doc
	for _, k := range keyPath {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[k]
			if !ok {
				return nil, false
			}
			cur = next
		case map[any]any:
			next, ok := v[k]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		case []map[string]any: // TOML arrays of tables
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	bytesType           = reflect.TypeFor[[]byte]()
)

// decodeValue converts a value selected from a document into a new value of
// type typ. Structured formats match struct fields by the format's own tag
// (toml, yaml, json), then by a mapstructure tag, then by name ignoring case.
// Text values (env variables, text files, default=) also convert from strings
// to numbers, booleans and comma-separated slices.
//
// decodeValue calls user code (UnmarshalText methods); a panic there is
// recovered and returned as a *decodePanic error.
func decodeValue(v any, typ reflect.Type, format string) (_ reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &decodePanic{typ: typ, value: r}
		}
	}()
	out := reflect.New(typ)
	if s, ok := v.(string); ok && format == formatText {
		switch {
		case typ.Kind() == reflect.String && !reflect.PointerTo(typ).Implements(textUnmarshalerType):
			out.Elem().SetString(s)
			return out.Elem(), nil
		case typ == bytesType:
			out.Elem().SetBytes([]byte(s))
			return out.Elem(), nil
		}
	}
	if s, ok := v.(string); ok && format == formatText {
		if done, err := decodeScalar(s, out.Elem()); done {
			return out.Elem(), err
		}
	}
	hook := structuredHook
	if format == formatText {
		hook = textHook
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:     out.Interface(),
		TagName:    format + ",mapstructure",
		DecodeHook: hook,
		ZeroFields: true,
		Squash:     true,
	})
	if err != nil {
		return reflect.Value{}, err
	}
	if err := dec.Decode(v); err != nil {
		return reflect.Value{}, err
	}
	if userDecodeCanAlias(typ) {
		// An UnmarshalText method may keep a reference to what it set (a
		// buffer it reuses from call to call) and rewrite it at its next
		// call: the generations readers hold must not change with it.
		return deepCopy(out.Elem()), nil
	}
	return out.Elem(), nil
}

var userDecodeCache sync.Map // reflect.Type -> bool

// userDecodeCanAlias reports whether decoding into t runs an UnmarshalText
// method whose result can hold a slice, map or pointer: a value decoded
// into t is then copied, so that it shares nothing with the method.
func userDecodeCanAlias(t reflect.Type) bool {
	if !typeNeedsCopy(t) {
		return false
	}
	if v, ok := userDecodeCache.Load(t); ok {
		return v.(bool)
	}
	v := reachesUnmarshaler(t, map[reflect.Type]bool{})
	userDecodeCache.Store(t, v)
	return v
}

// reachesUnmarshaler reports whether t, or a type the decoder reaches from
// it (elements, map keys and values, exported struct fields), has an
// UnmarshalText method.
func reachesUnmarshaler(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return reachesUnmarshaler(t.Elem(), seen)
	case reflect.Map:
		return reachesUnmarshaler(t.Key(), seen) || reachesUnmarshaler(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && reachesUnmarshaler(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

var (
	structuredHook = mapstructure.ComposeDecodeHookFunc(
		mapstructure.TextUnmarshallerHookFunc(),
		mapstructure.StringToTimeDurationHookFunc(),
		numberFitsHook,
	)
	textHook = mapstructure.ComposeDecodeHookFunc(
		mapstructure.TextUnmarshallerHookFunc(),
		mapstructure.StringToTimeDurationHookFunc(),
		stringToSliceHook,
		mapstructure.StringToBasicTypeHookFunc(),
		numberFitsHook,
	)
	durationType = reflect.TypeFor[time.Duration]()
)

// decodeScalar converts text straight into numbers, booleans and durations,
// the common case for env values, without mapstructure's machinery. It
// reports done=false for anything else.
func decodeScalar(s string, dst reflect.Value) (done bool, err error) {
	typ := dst.Type()
	if reflect.PointerTo(typ).Implements(textUnmarshalerType) {
		return false, nil
	}
	if typ == durationType {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return true, fmt.Errorf("invalid duration %q", s)
		}
		dst.SetInt(int64(d))
		return true, nil
	}
	s = strings.TrimSpace(s)
	switch typ.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, typ.Bits())
		if err != nil {
			return true, fmt.Errorf("invalid %s %q: %w", typ, s, errors.Unwrap(err))
		}
		dst.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(s, 0, typ.Bits())
		if err != nil {
			return true, fmt.Errorf("invalid %s %q: %w", typ, s, errors.Unwrap(err))
		}
		dst.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, typ.Bits())
		if err != nil {
			return true, fmt.Errorf("invalid %s %q: %w", typ, s, errors.Unwrap(err))
		}
		dst.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return true, fmt.Errorf("invalid %s %q", typ, s)
		}
		dst.SetBool(b)
	default:
		return false, nil
	}
	return true, nil
}

// stringToSliceHook splits a text value on commas into any slice type
// except []byte, trimming spaces around elements; "" is an empty slice.
func stringToSliceHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() != reflect.Slice || to == bytesType {
		return data, nil
	}
	s := strings.TrimSpace(data.(string))
	if s == "" {
		return []string{}, nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, nil
}

// numberFitsHook refuses a number that the target's numeric type cannot
// hold: mapstructure converts as Go's conversions do, so 300 became 44 in
// an int8, 2.5 became 2 in an int, 1e300 became +Inf in a float32 and NaN
// the smallest int64. A float with no fraction converts into an integer
// type (TOML's 1e3, YAML's 8080.0). A JSON number is handed on as the Go
// number it spells, checked the same way.
func numberFitsHook(_, to reflect.Type, data any) (any, error) {
	k := to.Kind()
	isInt := k >= reflect.Int && k <= reflect.Int64
	isUint := k >= reflect.Uint && k <= reflect.Uintptr
	isFloat := k == reflect.Float32 || k == reflect.Float64
	if !isInt && !isUint && !isFloat {
		return data, nil
	}
	if n, ok := data.(json.Number); ok {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			data = i
		} else if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
			data = u
		} else if f, err := n.Float64(); err == nil {
			data = f
		} else {
			return data, nil // mapstructure reports it
		}
	}
	v := reflect.ValueOf(data)
	fits := true
	switch {
	case !v.IsValid():
		return data, nil
	case v.CanInt():
		i := v.Int()
		switch {
		case isInt:
			fits = to.Bits() == 64 || (i >= -1<<(to.Bits()-1) && i < 1<<(to.Bits()-1))
		case isUint:
			fits = i >= 0 && (to.Bits() == 64 || uint64(i) < 1<<to.Bits())
		}
	case v.CanUint():
		u := v.Uint()
		switch {
		case isInt:
			fits = u < 1<<(to.Bits()-1)
		case isUint:
			fits = to.Bits() == 64 || u < 1<<to.Bits()
		}
	case v.CanFloat():
		f := v.Float()
		switch {
		case isInt:
			limit := math.Ldexp(1, to.Bits()-1) // -limit fits, limit does not
			fits = f == math.Trunc(f) && f >= -limit && f < limit
		case isUint:
			fits = f == math.Trunc(f) && f >= 0 && f < math.Ldexp(1, to.Bits())
		case to.Bits() == 32:
			fits = math.IsNaN(f) || math.IsInf(f, 0) || !math.IsInf(float64(float32(f)), 0)
		}
	default:
		return data, nil // not a number: mapstructure decides
	}
	if !fits {
		return nil, fmt.Errorf("%v does not fit in %s", data, to)
	}
	return data, nil
}

// decodePanic is a panic recovered while decoding into typ, most often in a
// user type's UnmarshalText method.
type decodePanic struct {
	typ   reflect.Type
	value any
}

func (e *decodePanic) Error() string {
	return fmt.Sprintf("decoding into %s panicked: %v", e.typ, e.value)
}

// secretSafe replaces err by a message that cannot quote the value, for
// secret fields: parsers and converters put offending input in messages,
// and a panic value may hold it too.
func secretSafe(err error, secret bool, format string, typ reflect.Type) error {
	if !secret || err == nil || errors.Is(err, ErrEmpty) {
		return err
	}
	if errors.As(err, new(*decodePanic)) {
		return fmt.Errorf("decoding %s value into %s panicked (details hidden: the field is secret)", format, typ)
	}
	return fmt.Errorf("%s value does not decode into %s (details hidden: the field is secret)", format, typ)
}
