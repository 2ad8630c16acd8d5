package vault

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// marker is a secret value planted in bodies: no error may quote it.
const marker = "s3cr3t-MARKER"

func TestParseKV2Read(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name        string
		status      int
		body        string
		wantData    string
		wantVersion string
		missing     bool
		wantErr     string
	}{
		{
			name: "ok", status: 200, body: `{"data":{"data":{"password":"` + marker + `","n":1},"metadata":{"version":3,"deletion_time":"","destroyed":false}},"lease_duration":0,"warnings":null}`,
			wantData: `{"password":"` + marker + `","n":1}`, wantVersion: "3",
		},
		{
			name: "deleted", status: 404, body: `{"data":{"data":null,"metadata":{"version":4,"deletion_time":"` + now.Format(time.RFC3339Nano) + `","destroyed":false}}}`,
			missing: true, wantVersion: "4",
		},
		{name: "destroyed", status: 404, body: `{"data":{"data":null,"metadata":{"version":5,"deletion_time":"","destroyed":true}}}`, missing: true, wantVersion: "5"},
		{name: "absent", status: 404, body: `{"errors":[]}`, missing: true},
		{name: "absent no body", status: 404, body: ``, missing: true},
		{name: "not json", status: 200, body: `{"data": {"data": {"password": "` + marker + `"`, wantErr: "not JSON (syntax error at byte"},
		{name: "data not object", status: 200, body: `{"data":"` + marker + `"}`, wantErr: "is a JSON string"},
		{name: "inner data not object", status: 200, body: `{"data":{"data":["` + marker + `"],"metadata":{"version":1}}}`, wantErr: "data is not a JSON object"},
		{name: "no metadata", status: 200, body: `{"data":{"data":{"k":"` + marker + `"}}}`, wantErr: "no data.metadata"},
		{name: "version wrong type", status: 200, body: `{"data":{"data":{},"metadata":{"version":"` + marker + `"}}}`, wantErr: "metadata.version is a JSON string"},
		{name: "version float", status: 200, body: `{"data":{"data":{},"metadata":{"version":1.5}}}`, wantErr: "is a JSON number, want int64"},
		{name: "wrapped", status: 200, body: `{"wrap_info":{"token":"` + marker + `"},"data":null}`, wantErr: "wrapped"},
		{name: "null data 200", status: 200, body: `{"data":null}`, wantErr: "no data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs, _, err := parseKV2Read([]byte(tt.body), tt.status)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorIs(t, err, ErrMalformed)
				require.NotContains(t, err.Error(), marker)
				require.NotContains(t, err.Error(), "1.5")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.missing, obs.missing)
			require.Equal(t, tt.wantVersion, obs.version)
			if tt.wantData != "" {
				require.Equal(t, tt.wantData, string(obs.raw))
			}
		})
	}
}

func TestObservationResult(t *testing.T) {
	t.Parallel()
	obs, err := newObservation(json.RawMessage(`{ "s": "text\nline", "n": 1.50, "o": {"a": [1, 2]}, "z": null, "e": "" }`), "7")
	require.NoError(t, err)
	r := obs.result(location{path: "p"})
	require.Equal(t, sources.Result{Data: []byte(`{"s":"text\nline","n":1.50,"o":{"a":[1,2]},"z":null,"e":""}`), Format: formatJSON, Version: "7"}, r)
	require.Equal(t, sources.Result{Data: []byte("text\nline"), Format: formatText, Version: "7"}, obs.result(location{field: "s", hasField: true}))
	require.Equal(t, sources.Result{Data: []byte("1.50"), Format: formatJSON, Version: "7"}, obs.result(location{field: "n", hasField: true}))
	require.Equal(t, sources.Result{Data: []byte(`{"a":[1,2]}`), Format: formatJSON, Version: "7"}, obs.result(location{field: "o", hasField: true}))
	require.Equal(t, sources.Result{Data: []byte{}, Format: formatText, Version: "7"}, obs.result(location{field: "e", hasField: true}))
	require.Equal(t, sources.Result{Missing: true, Version: "7"}, obs.result(location{field: "z", hasField: true}), "null is missing")
	require.Equal(t, sources.Result{Missing: true, Version: "7"}, obs.result(location{field: "nope", hasField: true}))

	gone := &observation{missing: true, version: "8"}
	require.Equal(t, sources.Result{Missing: true, Version: "8"}, gone.result(location{field: "s", hasField: true}))
}

func TestParseMetadata(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	past, future := now.Add(-time.Minute).Format(time.RFC3339Nano), now.Add(time.Hour).Format(time.RFC3339Nano)
	body := func(cur int, del string, destroyed bool) []byte {
		b, _ := json.Marshal(map[string]any{"data": map[string]any{
			"current_version": cur,
			"versions": map[string]any{
				"1": map[string]any{"deletion_time": "", "destroyed": false},
				"2": map[string]any{"deletion_time": del, "destroyed": destroyed},
			},
		}})
		return b
	}
	for _, tt := range []struct {
		name    string
		body    []byte
		cur     int64
		gone    bool
		wantErr string
	}{
		{name: "present", body: body(2, "", false), cur: 2},
		{name: "deleted", body: body(2, past, false), cur: 2, gone: true},
		{name: "deletion scheduled", body: body(2, future, false), cur: 2},
		{name: "destroyed", body: body(2, "", true), cur: 2, gone: true},
		{name: "pruned entry", body: body(3, "", false), cur: 3},
		{name: "no versions", body: []byte(`{"data":{"current_version":0,"versions":{}}}`), gone: true},
		{name: "bad time", body: body(2, "yesterday", false), wantErr: "deletion_time is not an RFC 3339 time"},
		{name: "negative", body: []byte(`{"data":{"current_version":-1}}`), wantErr: "negative"},
		{name: "no data", body: []byte(`{"data":null}`), wantErr: "no data"},
		{name: "versions wrong", body: []byte(`{"data":{"current_version":1,"versions":[]}}`), wantErr: "versions is a JSON array"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cur, gone, err := parseMetadata(tt.body, now)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.cur, cur)
			require.Equal(t, tt.gone, gone)
		})
	}
}

func TestParsePlainReadAndMount(t *testing.T) {
	t.Parallel()
	obs, env, err := parsePlainRead([]byte(`{"lease_id":"database/creds/app/x","lease_duration":60,"renewable":true,"data":{"username":"u","password":"p"}}`), 200)
	require.NoError(t, err)
	require.Equal(t, "database/creds/app/x", obs.version)
	require.Equal(t, int64(60), env.LeaseDuration)
	require.True(t, env.Renewable)

	obs, env, err = parsePlainRead([]byte(`{"lease_id":"","lease_duration":2764800,"data":{"token":"t"}}`), 200)
	require.NoError(t, err)
	require.Empty(t, obs.version, "a KV v1 refresh interval is no lease")
	require.Zero(t, env.LeaseDuration)

	obs, env, err = parsePlainRead([]byte(`{"errors":[],"warnings":["Invalid path"]}`), 404)
	require.NoError(t, err)
	require.True(t, obs.missing)
	require.Equal(t, []string{"Invalid path"}, env.Warnings)

	_, _, err = parsePlainRead([]byte(`{"lease_duration":-5,"data":{}}`), 200)
	require.ErrorContains(t, err, "negative lease_duration")

	m, err := parseMount([]byte(`{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}`))
	require.NoError(t, err)
	require.Equal(t, mountInfo{path: "secret/", typ: "kv", version: 2}, m)
	m, err = parseMount([]byte(`{"data":{"path":"kv1","type":"kv","options":null}}`))
	require.NoError(t, err)
	require.Equal(t, mountInfo{path: "kv1/", typ: "kv", version: 1}, m)
	m, err = parseMount([]byte(`{"data":{"path":"old/","type":"generic","options":{"version":1}}}`))
	require.NoError(t, err)
	require.Equal(t, 1, m.version)
	m, err = parseMount([]byte(`{"data":{"path":"database/","type":"database","options":null}}`))
	require.NoError(t, err)
	require.Equal(t, mountInfo{path: "database/", typ: "database"}, m)
	_, err = parseMount([]byte(`{"data":{"path":"x/","type":"kv","options":{"version":"9"}}}`))
	require.ErrorIs(t, err, ErrMalformed)
	_, err = parseMount([]byte(`{"data":{}}`))
	require.ErrorIs(t, err, ErrMalformed)
}

// checkNoLeak fails when an error quotes the planted secret.
func checkNoLeak(t *testing.T, body []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("error does not wrap ErrMalformed: %v", err)
	}
	if strings.Contains(string(body), marker) && strings.Contains(err.Error(), marker) {
		t.Fatalf("error quotes the secret: %v", err)
	}
}

// FuzzParseResponses feeds the same body to every response parser: none
// panics, errors wrap ErrMalformed and never quote the body's secret, and
// an accepted observation yields valid JSON for every field.
func FuzzParseResponses(f *testing.F) {
	seeds := []string{
		`{"data":{"data":{"password":"` + marker + `"},"metadata":{"version":3,"deletion_time":"","destroyed":false}}}`,
		`{"data":{"data":null,"metadata":{"version":4,"deletion_time":"2026-01-02T03:04:05Z","destroyed":false}}}`,
		`{"data":{"current_version":2,"versions":{"2":{"deletion_time":"","destroyed":false}}}}`,
		`{"lease_id":"database/creds/app/x","lease_duration":60,"renewable":true,"data":{"username":"u","password":"` + marker + `"}}`,
		`{"lease_id":"pki/issue/web/x","lease_duration":6,"renewable":false,"data":{"private_key":"` + marker + `","serial_number":"0a","expiration":1700000005}}`,
		`{"data":{"private_key":"` + marker + `","serial_number":"0a","expiration":1700000005}}`,
		`{"lease_id":"pki/issue/web/x","lease_duration":6,"data":{"private_key":"` + marker + `","expiration":1600000000}}`,
		`{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}`,
		`{"errors":["` + marker + `"]}`,
		`{"data":"` + marker + `"}`,
		`{"data":{"data":{"` + marker + `":1e999},"metadata":{"version":1}}}`,
		`[` + marker,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s), 200)
		f.Add([]byte(s), 404)
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		if status != 404 {
			status = 200
		}
		obs, _, err := parseKV2Read(body, status)
		checkNoLeak(t, body, err)
		if err == nil {
			checkObservation(t, obs)
		}
		obs, env, err := parsePlainRead(body, status)
		checkNoLeak(t, body, err)
		if err == nil {
			checkObservation(t, obs)
		}
		if err == nil && !obs.missing { // as an issue answer (write=)
			sent := time.Unix(1_700_000_000, 0)
			l, err := certLease(env, obs, sent, func() float64 { return 0.5 })
			checkNoLeak(t, body, err)
			if err == nil && (!l.expiry.After(sent) || l.renewable && env.LeaseID == "" || l.obs == nil) {
				t.Fatalf("certLease accepted a lease that ends at %s (sent %s), renewable %v", l.expiry, sent, l.renewable)
			}
		}
		_, _, err = parseMetadata(body, time.Now())
		checkNoLeak(t, body, err)
		_, err = parseMount(body)
		checkNoLeak(t, body, err)
	})
}

func checkObservation(t *testing.T, obs *observation) {
	t.Helper()
	if obs.missing {
		if obs.fields != nil || obs.raw != nil {
			t.Fatalf("missing observation with data")
		}
		return
	}
	if !json.Valid(obs.raw) {
		t.Fatalf("whole-secret data is not JSON: %q", obs.raw)
	}
	for name := range obs.fields {
		r := obs.result(location{field: name, hasField: true})
		if r.Err != nil {
			t.Fatalf("field %q: %v", name, r.Err)
		}
		if r.Format == formatJSON && !json.Valid(r.Data) {
			t.Fatalf("field %q is not JSON: %q", name, r.Data)
		}
	}
}
