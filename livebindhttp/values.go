package livebindhttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

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
	rt := reflect.TypeFor[T]()
	plans := make([]fieldPlan, 0, len(st.Fields))
	for _, f := range st.Fields {
		plans = append(plans, fieldPlan{path: f.Field, index: fieldIndex(rt, f.Field), secret: f.Secret})
	}
	return plans
}

// fieldIndex returns the index sequence of the field at path in rt, or nil.
func fieldIndex(rt reflect.Type, path string) []int {
	var index []int
	for seg := range strings.SplitSeq(path, ".") {
		for rt.Kind() == reflect.Pointer {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct {
			return nil
		}
		sf, ok := rt.FieldByName(seg)
		if !ok {
			return nil
		}
		index = append(index, sf.Index...)
		rt = sf.Type
	}
	return index
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
	out := make([]fieldValue, 0, len(plans))
	for _, p := range plans {
		if only != nil && !slices.Contains(only, p.path) {
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
