package livebindhttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/livebind/livebind"
)

// redactedJSON is what every secret value is replaced by.
var redactedJSON = json.RawMessage(`"[redacted]"`)

// fieldPlan locates one tagged field in a snapshot.
type fieldPlan struct {
	path   string
	index  []int // nil when the path could not be resolved
	secret bool
}

// planFields resolves the status's field paths ("DB.Password", promoted
// names of embedded structs) to reflect indexes of T, once per handler.
func planFields[T any](st livebind.Status) []fieldPlan {
	indexes := map[string][]int{}
	tagged(reflect.TypeFor[T](), nil, "", indexes)
	plans := make([]fieldPlan, 0, len(st.Fields))
	for _, f := range st.Fields {
		plans = append(plans, fieldPlan{path: f.Field, index: indexes[f.Field], secret: f.Secret})
	}
	return plans
}

// tagged records the index of every field of rt with a live tag under the
// path livebind gives it: it descends into untagged struct fields, adding
// "Name." for a named one and nothing for an embedded one (livebind's
// walkFields). Go's selector rules (reflect.Type.FieldByName) are not the
// same: an untagged outer field shadows a tagged one promoted from an
// embedded struct, and the handler then showed the outer field's value, one
// livebind never bound and does not know to redact. The first field of a
// path wins, as in livebind, which refuses two tagged fields of one path.
func tagged(rt reflect.Type, index []int, prefix string, out map[string][]int) {
	if rt.Kind() != reflect.Struct {
		return
	}
	for i := range rt.NumField() {
		sf := rt.Field(i)
		tag, ok := sf.Tag.Lookup("live")
		idx := append(slices.Clone(index), i)
		switch {
		case tag == "-":
		case ok:
			if _, dup := out[prefix+sf.Name]; !dup {
				out[prefix+sf.Name] = idx
			}
		case sf.Type.Kind() == reflect.Struct:
			next := prefix + sf.Name + "."
			if sf.Anonymous {
				next = prefix
			}
			tagged(sf.Type, idx, next, out)
		}
	}
}

// value returns the field's value in root (a struct), following pointers;
// ok is false when a nil pointer is on the way.
func (p fieldPlan) value(root reflect.Value) (reflect.Value, bool) {
	if p.index == nil {
		return reflect.Value{}, false
	}
	v, err := root.FieldByIndexErr(p.index)
	if err != nil {
		return reflect.Value{}, false
	}
	return v, true
}

// fieldValue is one field's JSON value, already redacted.
type fieldValue struct {
	path string
	json json.RawMessage
}

// snapshotFields encodes the fields of snap (a *T) in field order, secret
// values replaced. With only set, just those paths are included.
func snapshotFields(plans []fieldPlan, snap any, only []string, escapeHTML bool) []fieldValue {
	root := reflect.ValueOf(snap)
	if root.Kind() != reflect.Pointer || root.IsNil() {
		return nil
	}
	root = root.Elem()
	var want map[string]bool // a history entry may list every field: no search of only per plan
	if only != nil {
		want = make(map[string]bool, len(only))
		for _, path := range only {
			want[path] = true
		}
	}
	out := make([]fieldValue, 0, len(plans))
	for _, p := range plans {
		if only != nil && !want[p.path] {
			continue
		}
		if p.secret {
			out = append(out, fieldValue{path: p.path, json: redactedJSON})
			continue
		}
		v, ok := p.value(root)
		if !ok {
			out = append(out, fieldValue{path: p.path, json: json.RawMessage("null")})
			continue
		}
		out = append(out, fieldValue{path: p.path, json: encodeValue(v.Interface(), escapeHTML)})
	}
	return out
}

// encodeValue encodes a non-secret value with encoding/json. A value that
// encoding/json refuses (a NaN, a channel, a failing MarshalJSON) is shown as
// a JSON string of its fmt form instead of failing the whole response.
func encodeValue(v any, escapeHTML bool) (out json.RawMessage) {
	defer func() {
		if r := recover(); r != nil {
			out = mustString(fmt.Sprintf("(cannot encode: panic: %v)", r))
		}
	}()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(v); err != nil {
		return mustString(fmt.Sprintf("%v", v))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// mustString encodes s as a JSON string; encoding a string cannot fail.
func mustString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// fieldObject is a JSON object of field values that keeps field order.
type fieldObject []fieldValue

// MarshalJSON writes the fields as one object, in field order.
func (o fieldObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(mustString(f.path))
		buf.WriteByte(':')
		buf.Write(f.json)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
