package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// Formats the driver declares in a Result.
const (
	formatJSON = "application/json"
	formatText = "text/plain"
)

// envelope is the part of Vault's response body the driver uses. Every
// answer of a logical read has this shape (see Vault's "HTTP API" page).
type envelope struct {
	LeaseID       string          `json:"lease_id"`
	LeaseDuration int64           `json:"lease_duration"`
	Renewable     bool            `json:"renewable"`
	Data          json.RawMessage `json:"data"`
	Warnings      []string        `json:"warnings"`
	WrapInfo      json.RawMessage `json:"wrap_info"`
}

// parseEnvelope decodes a response body. Its errors never quote the body,
// which may hold secrets: they give a byte offset or a field name.
func parseEnvelope(body []byte) (envelope, error) {
	var e envelope
	if err := unmarshal(body, &e); err != nil {
		return envelope{}, err
	}
	if !isNull(e.WrapInfo) {
		return envelope{}, fmt.Errorf("%w: the response is wrapped (unset VAULT_WRAP_TTL)", ErrMalformed)
	}
	if e.LeaseDuration < 0 {
		return envelope{}, fmt.Errorf("%w: negative lease_duration", ErrMalformed)
	}
	return e, nil
}

// unmarshal decodes JSON with errors that say where, never what.
func unmarshal(b []byte, v any) error {
	err := json.Unmarshal(b, v)
	if err == nil {
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%w: not JSON (syntax error at byte %d of %d)", ErrMalformed, syn.Offset, len(b))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the document"
		}
		kind, _, _ := strings.Cut(typ.Value, " ") // "number 1.5" names the value: keep "number"
		return fmt.Errorf("%w: %s is a JSON %s, want %s", ErrMalformed, field, kind, typ.Type)
	default:
		return fmt.Errorf("%w: not JSON", ErrMalformed)
	}
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// observation is one look at a secret: its data object, or its absence.
// It is shared read-only by every subscriber of the secret.
type observation struct {
	fields  map[string]json.RawMessage // top-level fields of the data; nil when missing
	raw     []byte                     // the data object as compact JSON
	version string                     // KV v2 version or lease id; never secret data
	missing bool
}

// newObservation checks that raw is a JSON object and indexes its fields.
// A null data is missing.
func newObservation(raw json.RawMessage, version string) (*observation, error) {
	if isNull(raw) {
		return &observation{missing: true, version: version}, nil
	}
	t := bytes.TrimSpace(raw)
	if t[0] != '{' {
		return nil, fmt.Errorf("%w: data is not a JSON object", ErrMalformed)
	}
	var fields map[string]json.RawMessage
	if err := unmarshal(t, &fields); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, t); err != nil {
		return nil, fmt.Errorf("%w: data is not JSON", ErrMalformed)
	}
	return &observation{fields: fields, raw: buf.Bytes(), version: version}, nil
}

// result turns the observation into what one target reports: the whole
// data object as JSON, or one field: a string field as its raw text, any
// other value as JSON. An absent or null field is missing.
func (o *observation) result(l location) sources.Result {
	if o.missing {
		return sources.Result{Missing: true, Version: o.version}
	}
	if !l.hasField {
		return sources.Result{Data: o.raw, Format: formatJSON, Version: o.version}
	}
	v, ok := o.fields[l.field]
	if !ok || isNull(v) {
		return sources.Result{Missing: true, Version: o.version}
	}
	v = bytes.TrimSpace(v)
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil { // cannot happen: fields came from a valid object
			return sources.Result{Err: fmt.Errorf("%w: field is not a valid JSON string", ErrMalformed)}
		}
		return sources.Result{Data: []byte(s), Format: formatText, Version: o.version}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return sources.Result{Err: fmt.Errorf("%w: field is not valid JSON", ErrMalformed)}
	}
	return sources.Result{Data: buf.Bytes(), Format: formatJSON, Version: o.version}
}

// versionMeta is a KV v2 version's metadata, in data.metadata of a read and
// in data.versions of a metadata read.
type versionMeta struct {
	Version      int64  `json:"version"`
	DeletionTime string `json:"deletion_time"`
	Destroyed    bool   `json:"destroyed"`
}

// gone reports whether the version is destroyed or deleted by now. A
// deletion_time in the future (delete_version_after) is not a deletion yet.
func (m versionMeta) gone(now time.Time) (bool, error) {
	if m.Destroyed {
		return true, nil
	}
	if m.DeletionTime == "" {
		return false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, m.DeletionTime)
	if err != nil {
		return false, fmt.Errorf("%w: deletion_time is not an RFC 3339 time", ErrMalformed)
	}
	return !t.After(now), nil
}

// kv2Data is data of a KV v2 read: the secret and its version's metadata.
type kv2Data struct {
	Data     json.RawMessage `json:"data"`
	Metadata *versionMeta    `json:"metadata"`
}

// parseKV2Read decodes the body of GET <mount>/data/<name>, whose status
// was 200 or 404. A 404 with metadata is a deleted or destroyed version;
// a 404 without a body, or with only {"errors":[]}, is a secret that does
// not exist.
func parseKV2Read(body []byte, status int) (*observation, []string, error) {
	if status == 404 && len(bytes.TrimSpace(body)) == 0 {
		return &observation{missing: true}, nil, nil
	}
	e, err := parseEnvelope(body)
	if err != nil {
		return nil, nil, err
	}
	if isNull(e.Data) {
		if status == 404 {
			return &observation{missing: true}, e.Warnings, nil
		}
		return nil, e.Warnings, fmt.Errorf("%w: no data in a KV v2 answer", ErrMalformed)
	}
	var d kv2Data
	if err := unmarshal(e.Data, &d); err != nil {
		return nil, e.Warnings, err
	}
	if d.Metadata == nil {
		return nil, e.Warnings, fmt.Errorf("%w: no data.metadata in a KV v2 answer (is the mount KV v1? set kv=1)", ErrMalformed)
	}
	version := strconv.FormatInt(d.Metadata.Version, 10)
	if status == 404 || isNull(d.Data) {
		return &observation{missing: true, version: version}, e.Warnings, nil
	}
	o, err := newObservation(d.Data, version)
	return o, e.Warnings, err
}

// kv2Metadata is data of GET <mount>/metadata/<name>.
type kv2Metadata struct {
	CurrentVersion int64                  `json:"current_version"`
	Versions       map[string]versionMeta `json:"versions"`
}

// parseMetadata decodes a metadata read and returns the current version
// and whether it is gone (deleted by now or destroyed).
func parseMetadata(body []byte, now time.Time) (current int64, gone bool, err error) {
	e, err := parseEnvelope(body)
	if err != nil {
		return 0, false, err
	}
	if isNull(e.Data) {
		return 0, false, fmt.Errorf("%w: no data in a KV v2 metadata answer", ErrMalformed)
	}
	var m kv2Metadata
	if err := unmarshal(e.Data, &m); err != nil {
		return 0, false, err
	}
	if m.CurrentVersion < 0 {
		return 0, false, fmt.Errorf("%w: negative current_version", ErrMalformed)
	}
	if m.CurrentVersion == 0 { // every version erased: nothing to read
		return 0, true, nil
	}
	v, ok := m.Versions[strconv.FormatInt(m.CurrentVersion, 10)]
	if !ok { // pruned by max_versions? Read the data to know.
		return m.CurrentVersion, false, nil
	}
	gone, err = v.gone(now)
	return m.CurrentVersion, gone, err
}

// parsePlainRead decodes the body of a KV v1 or other read (status 200 or
// 404). It returns the data (nil when missing) and the lease, if any.
func parsePlainRead(body []byte, status int) (*observation, envelope, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		if status == 404 || status == 204 {
			return &observation{missing: true}, envelope{}, nil
		}
		return nil, envelope{}, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	e, err := parseEnvelope(body)
	if err != nil {
		return nil, envelope{}, err
	}
	if status == 404 {
		return &observation{missing: true}, e, nil
	}
	if e.LeaseID == "" || e.LeaseDuration == 0 {
		e.LeaseID, e.LeaseDuration, e.Renewable = "", 0, false
	}
	o, err := newObservation(e.Data, e.LeaseID)
	return o, e, err
}

// mountInfo is what sys/internal/ui/mounts says of the mount that serves a
// path.
type mountInfo struct {
	path    string // with a trailing "/"
	typ     string
	version int // KV version: 1 or 2; 0 for other types
}

// parseMount decodes the answer of sys/internal/ui/mounts/<path>.
func parseMount(body []byte) (mountInfo, error) {
	e, err := parseEnvelope(body)
	if err != nil {
		return mountInfo{}, err
	}
	var d struct {
		Path    string                     `json:"path"`
		Type    string                     `json:"type"`
		Options map[string]json.RawMessage `json:"options"`
	}
	if err := unmarshal(e.Data, &d); err != nil {
		return mountInfo{}, err
	}
	if d.Path == "" || d.Type == "" {
		return mountInfo{}, fmt.Errorf("%w: the mount answer has no path or type", ErrMalformed)
	}
	m := mountInfo{path: strings.TrimSuffix(d.Path, "/") + "/", typ: d.Type}
	if d.Type == "kv" || d.Type == "generic" {
		m.version = 1
		if raw, ok := d.Options["version"]; ok && !isNull(raw) {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				s = string(bytes.TrimSpace(raw)) // a number
			}
			switch s {
			case "", "1":
			case "2":
				m.version = 2
			default:
				return mountInfo{}, fmt.Errorf("%w: unknown KV version in the mount answer", ErrMalformed)
			}
		}
	}
	return m, nil
}
