package livebindhttp

import (
	"encoding/json"
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
	NextPoll         time.Time `json:"next_poll,omitzero"`
}

type fieldJSON struct {
	Field      string    `json:"field"`
	Source     string    `json:"source"`
	Secret     bool      `json:"secret"`
	Required   bool      `json:"required"`
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
			Observations: s.Observations, Errors: s.Errors, FromCache: s.FromCache, NextPoll: s.NextPoll,
		})
	}
	for _, f := range st.Fields {
		out.Fields = append(out.Fields, fieldJSON{
			Field: f.Field, Source: f.Source, Secret: f.Secret, Required: f.Required,
			Updates: f.Updates, Errors: f.Errors, LastUpdate: f.LastUpdate,
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

// updateJSON is one server-sent event's data.
type updateJSON struct {
	Kind   string          `json:"kind"`
	Field  string          `json:"field"`
	Source string          `json:"source,omitempty"`
	Old    json.RawMessage `json:"old"`
	New    json.RawMessage `json:"new"`
	Gen    uint64          `json:"gen"`
	Time   time.Time       `json:"time,omitzero"`
	Error  string          `json:"error,omitempty"`
	Secret bool            `json:"secret,omitempty"`
}

// newUpdateJSON converts an update. livebind already puts
// [livebind.Redacted] in Old and New of secret fields; the Secret flag is
// honored here as well, so no value of a secret field is ever encoded.
func newUpdateJSON(u livebind.Update) updateJSON {
	out := updateJSON{
		Kind: u.Kind.String(), Field: u.Field, Source: u.Source,
		Gen: u.Gen, Time: u.Time, Secret: u.Secret,
	}
	if u.Secret {
		out.Old, out.New = redactedJSON, redactedJSON
	} else {
		out.Old, out.New = encodeValue(u.Old, true), encodeValue(u.New, true)
	}
	if u.Err != nil {
		out.Error = u.Err.Error()
	}
	return out
}
