package livebindhttp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/livebind/livebind"
)

// The JSON shapes of the endpoints. Times are RFC 3339; zero times are left
// out. docs/operations.md shows examples.

type statusJSON struct {
	Generation uint64       `json:"generation"`
	Closed     bool         `json:"closed"`
	Rejected   uint64       `json:"rejected"`
	Reloads    uint64       `json:"reloads"`
	Sources    []sourceJSON `json:"sources"`
	Fields     []fieldJSON  `json:"fields"`
}

type sourceJSON struct {
	Source           string    `json:"source"`
	Fields           []string  `json:"fields"`
	Active           bool      `json:"active"`
	Healthy          bool      `json:"healthy"`
	Present          bool      `json:"present"`
	LastSuccess      time.Time `json:"last_success,omitzero"`
	FailingSince     time.Time `json:"failing_since,omitzero"`
	StalenessSeconds float64   `json:"staleness_seconds"`
	LastError        string    `json:"last_error,omitempty"`
	LastErrorTime    time.Time `json:"last_error_time,omitzero"`
	Version          string    `json:"version,omitempty"`
	Observations     uint64    `json:"observations"`
	Errors           uint64    `json:"errors"`
	FromCache        bool      `json:"from_cache"`
	CacheError       string    `json:"cache_error,omitempty"`
	NextPoll         time.Time `json:"next_poll,omitzero"`
	LeaseExpires     time.Time `json:"lease_expires,omitzero"`
	LeaseRenewal     time.Time `json:"lease_renewal,omitzero"`
}

type fieldJSON struct {
	Field      string    `json:"field"`
	Source     string    `json:"source"`
	Secret     bool      `json:"secret"`
	Required   bool      `json:"required"`
	Optional   bool      `json:"optional"`
	State      string    `json:"state"`
	Updates    uint64    `json:"updates"`
	Errors     uint64    `json:"errors"`
	LastUpdate time.Time `json:"last_update,omitzero"`
}

// staleness is how long a source's values have been stale: zero while it is
// healthy, else the time since its current run of failures began.
func staleness(s livebind.SourceStatus, now time.Time) time.Duration {
	if s.Healthy || s.FailingSince.IsZero() {
		return 0
	}
	return now.Sub(s.FailingSince)
}

func newStatusJSON(st livebind.Status, now time.Time) statusJSON {
	out := statusJSON{
		Generation: st.Generation, Closed: st.Closed, Rejected: st.Rejected, Reloads: st.Reloads,
		Sources: make([]sourceJSON, 0, len(st.Sources)),
		Fields:  make([]fieldJSON, 0, len(st.Fields)),
	}
	for _, s := range st.Sources {
		fields := s.Fields
		if fields == nil {
			fields = []string{}
		}
		out.Sources = append(out.Sources, sourceJSON{
			Source: s.Source, Fields: fields, Active: s.Active, Healthy: s.Healthy, Present: s.Present,
			LastSuccess: s.LastSuccess, FailingSince: s.FailingSince,
			StalenessSeconds: staleness(s, now).Seconds(),
			LastError:        s.LastError, LastErrorTime: s.LastErrorTime, Version: s.Version,
			Observations: s.Observations, Errors: s.Errors, FromCache: s.FromCache, CacheError: s.CacheError, NextPoll: s.NextPoll,
			LeaseExpires: s.LeaseExpires, LeaseRenewal: s.LeaseRenewal,
		})
	}
	for _, f := range st.Fields {
		out.Fields = append(out.Fields, fieldJSON{
			Field: f.Field, Source: f.Source, Secret: f.Secret, Required: f.Required,
			Optional: f.Optional, State: f.State, Updates: f.Updates, Errors: f.Errors, LastUpdate: f.LastUpdate,
		})
	}
	return out
}

type configJSON struct {
	Generation uint64      `json:"generation"`
	Fields     fieldObject `json:"fields"`
}

type historyJSON struct {
	Generation uint64             `json:"generation"`
	Entries    []historyEntryJSON `json:"entries"`
}

type historyEntryJSON struct {
	Gen        uint64      `json:"gen"`
	Time       time.Time   `json:"time"`
	Changed    []string    `json:"changed"`
	RollbackOf uint64      `json:"rollback_of,omitempty"`
	Values     fieldObject `json:"values"`
}

// updateFrame encodes an update as one server-sent event, the same JSON as
// updateJSON, written straight into one buffer: with large values it
// allocates the frame and little else. livebind already puts
// [livebind.Redacted] in Old and New of secret fields; the Secret flag is
// honored here as well, so no value of a secret field is ever encoded.
func updateFrame(u livebind.Update) []byte {
	var buf bytes.Buffer
	buf.WriteString("event: update\ndata: {\"kind\":")
	buf.Write(mustString(string(u.Kind)))
	buf.WriteString(",\"field\":")
	buf.Write(mustString(u.Field))
	if u.Source != "" {
		buf.WriteString(",\"source\":")
		buf.Write(mustString(u.Source))
	}
	buf.WriteString(",\"old\":")
	writeValue(&buf, u.Old, u.Secret)
	buf.WriteString(",\"new\":")
	writeValue(&buf, u.New, u.Secret)
	buf.WriteString(",\"gen\":")
	buf.WriteString(strconv.FormatUint(u.Gen, 10))
	if !u.Time.IsZero() {
		t, err := u.Time.MarshalJSON()
		if err == nil {
			buf.WriteString(",\"time\":")
			buf.Write(t)
		}
	}
	if u.Err != nil {
		buf.WriteString(",\"error\":")
		buf.Write(mustString(u.Err.Error()))
	}
	if u.Secret {
		buf.WriteString(",\"secret\":true")
	}
	buf.WriteString("}\n\n")
	return buf.Bytes()
}

// writeValue appends v's JSON (HTML-escaped, as encodeValue makes it), or
// the redacted marker for a secret.
func writeValue(buf *bytes.Buffer, v any, secret bool) {
	if secret {
		buf.Write(redactedJSON)
		return
	}
	n := buf.Len()
	ok := func() (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		return json.NewEncoder(buf).Encode(v) == nil // writes only when the whole value encoded
	}()
	if !ok {
		buf.Truncate(n)
		buf.Write(encodeValue(v, true)) // the fallback forms
		return
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
}
