package livebindhttp

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/livebind/livebind"
)

// TestStatusWire pins status.json to its documented keys, their order and
// which ones are left out when empty (docs/operations.md): a renamed key
// or a lost omitzero fails here. The handler tests decode responses with
// these same types, so this is where the names are checked.
func TestStatusWire(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 13, 12, 0, 0, time.UTC)
	st := livebind.Status{
		Generation: 7, Closed: true, Rejected: 1, Reloads: 2,
		Sources: []livebind.SourceStatus{{
			Source: "file:/etc/app.toml", Fields: []string{"Settings"}, Active: true, Present: true,
			LastSuccess: at.Add(-time.Minute), FailingSince: at.Add(-42 * time.Second),
			LastError: "bad", LastErrorTime: at.Add(-time.Second), Version: "30984eb7",
			Observations: 9, Errors: 3, FromCache: true, CacheError: "stale", NextPoll: at.Add(time.Second),
			LeaseExpires: at.Add(time.Hour), LeaseRenewal: at.Add(40 * time.Minute),
		}, {Source: "env:MODE", Healthy: true}},
		Fields: []livebind.FieldStatus{{
			Field: "Settings", Source: "file:/etc/app.toml", Secret: true, Required: true, Optional: true,
			State: "failing", Updates: 4, Errors: 3, LastUpdate: at.Add(-time.Minute),
		}, {Field: "Mode", Source: "env:MODE", State: "absent"}},
	}
	got, err := json.Marshal(newStatusJSON(st, at))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"generation":7,"closed":true,"rejected":1,"reloads":2,` +
		`"sources":[{"source":"file:/etc/app.toml","fields":["Settings"],"active":true,"healthy":false,"present":true,` +
		`"last_success":"2026-11-27T13:11:00Z","failing_since":"2026-11-27T13:11:18Z","staleness_seconds":42,` +
		`"last_error":"bad","last_error_time":"2026-11-27T13:11:59Z","version":"30984eb7","observations":9,"errors":3,` +
		`"from_cache":true,"cache_error":"stale","next_poll":"2026-11-27T13:12:01Z",` +
		`"lease_expires":"2026-11-27T14:12:00Z","lease_renewal":"2026-11-27T13:52:00Z"},` +
		`{"source":"env:MODE","fields":[],"active":false,"healthy":true,"present":false,"staleness_seconds":0,` +
		`"observations":0,"errors":0,"from_cache":false}],` +
		`"fields":[{"field":"Settings","source":"file:/etc/app.toml","secret":true,"required":true,"optional":true,` +
		`"state":"failing","updates":4,"errors":3,"last_update":"2026-11-27T13:11:00Z"},` +
		`{"field":"Mode","source":"env:MODE","secret":false,"required":false,"optional":false,"state":"absent","updates":0,"errors":0}]}`
	if string(got) != want {
		t.Errorf("status.json\n%s\nwant\n%s", got, want)
	}
}
