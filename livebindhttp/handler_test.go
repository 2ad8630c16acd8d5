package livebindhttp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/livebindhttp"
)

// decodeStrict decodes body into v, rejecting unknown keys: the wire types
// (pinned by TestStatusWire and TestUpdateFrameMatchesJSON) and the test
// types below are the documented schema exactly.
func decodeStrict(t *testing.T, body string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
}

// compact returns raw without insignificant white space.
func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatalf("compact %s: %v", raw, err)
	}
	return buf.String()
}

type wantConfig struct {
	Generation uint64                     `json:"generation"`
	Fields     map[string]json.RawMessage `json:"fields"`
}

type wantHistoryEntry struct {
	Gen        uint64                     `json:"gen"`
	Time       time.Time                  `json:"time"`
	Changed    []string                   `json:"changed"`
	RollbackOf uint64                     `json:"rollback_of"`
	Values     map[string]json.RawMessage `json:"values"`
}

type wantHistory struct {
	Generation uint64             `json:"generation"`
	Entries    []wantHistoryEntry `json:"entries"`
}

func TestStatusJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.write(t, "app.toml", "name = \"svc\"\nworkers = [\n") // does not parse
	if err := f.reload(t); err == nil {
		t.Fatal("Reload accepted a broken file")
	}
	resp, body := f.get(t, "status.json")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("status.json: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	var st livebindhttp.StatusJSON
	decodeStrict(t, body, &st)
	if st.Generation != gen(f.b) || st.Closed || st.Reloads != 1 {
		t.Errorf("generation/closed/reloads = %d/%v/%d, want %d/false/1", st.Generation, st.Closed, st.Reloads, gen(f.b))
	}
	if len(st.Sources) != 4 || len(st.Fields) != 5 {
		t.Fatalf("got %d sources and %d fields, want 4 and 5:\n%s", len(st.Sources), len(st.Fields), body)
	}
	app := st.Sources[0]
	if !strings.HasPrefix(app.Source, "file:") || !strings.HasSuffix(app.Source, "app.toml") ||
		!slices.Equal(app.Fields, []string{"Settings"}) {
		t.Errorf("first source = %+v", app)
	}
	if app.Healthy || app.FailingSince.IsZero() || app.StalenessSeconds <= 0 || app.LastError == "" || app.Errors == 0 {
		t.Errorf("failing source not reported as failing: %+v", app)
	}
	// The db source holds a secret: no version (a content hash of a secret
	// could be reversed).
	if db := st.Sources[1]; !db.Healthy || db.StalenessSeconds != 0 || !db.FailingSince.IsZero() || db.Version != "" ||
		!slices.Equal(db.Fields, []string{"DB.Host", "DB.Password"}) {
		t.Errorf("db source = %+v", db)
	}
	secret := map[string]bool{}
	for _, fs := range st.Fields {
		secret[fs.Field] = fs.Secret
	}
	want := map[string]bool{"Settings": false, "DB.Host": false, "DB.Password": true, "APIKey": true, "Mode": false}
	for k, v := range want {
		if got, ok := secret[k]; !ok || got != v {
			t.Errorf("field %s secret = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if st.Fields[0].State != "failing" || st.Fields[4].State != "absent" {
		t.Errorf("states = %q, %q, want failing (Settings does not parse) and absent (MODE unset)", st.Fields[0].State, st.Fields[4].State)
	}
	if st.Fields[0].Errors == 0 {
		t.Errorf("Settings errors = 0 after a failed reload")
	}
}

func TestConfigJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	resp, body := f.get(t, "config.json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("config.json: %s", resp.Status)
	}
	var c wantConfig
	decodeStrict(t, body, &c)
	if c.Generation != 1 {
		t.Errorf("generation = %d, want 1", c.Generation)
	}
	want := map[string]string{
		"Settings":    `{"Name":"svc","Workers":4,"Tags":["a","b"]}`,
		"DB.Host":     `"db.internal"`,
		"DB.Password": `"[redacted]"`,
		"APIKey":      `"[redacted]"`,
		"Mode":        `"prod"`,
	}
	if len(c.Fields) != len(want) {
		t.Errorf("fields = %s", body)
	}
	for k, v := range want {
		if got := compact(t, c.Fields[k]); got != v {
			t.Errorf("fields[%s] = %s, want %s", k, got, v)
		}
	}
	// Field order is the struct's order.
	if i, j := strings.Index(body, `"Settings"`), strings.Index(body, `"Mode"`); i < 0 || j < i {
		t.Errorf("fields out of order:\n%s", body)
	}
}

func TestHistoryJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t, []livebind.Option{livebind.WithHistory(10)})
	f.write(t, "app.toml", "name = \"svc2\"\nworkers = 8\n")
	f.env.Set("API_KEY", "sk-live-rotated-1")
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Rollback(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	_, body := f.get(t, "history.json")
	var h wantHistory
	decodeStrict(t, body, &h)
	// The reload's two changes may land in one generation or two (a
	// source's own poll can report first), so look entries up by content.
	if h.Generation != gen(f.b) || len(h.Entries) < 3 || h.Entries[0].Gen != 1 || len(h.Entries[0].Changed) != 0 {
		t.Fatalf("history = %s", body)
	}
	var sawSettings, sawKey bool
	var kept uint64 // the generation that has Settings svc2
	for _, e := range h.Entries[1 : len(h.Entries)-1] {
		if e.RollbackOf != 0 {
			t.Errorf("entry %d has rollback_of %d", e.Gen, e.RollbackOf)
		}
		if v, ok := e.Values["Settings"]; ok {
			sawSettings = compact(t, v) == `{"Name":"svc2","Workers":8,"Tags":null}`
			kept = e.Gen
		}
		if v, ok := e.Values["APIKey"]; ok {
			sawKey = string(v) == `"[redacted]"`
		}
		if _, ok := e.Values["Mode"]; ok || len(e.Values) != len(e.Changed) {
			t.Errorf("entry %d values do not match its changed fields: %s", e.Gen, body)
		}
	}
	if !sawSettings || !sawKey {
		t.Errorf("history lacks the changed values (Settings %v, APIKey %v):\n%s", sawSettings, sawKey, body)
	}
	last := h.Entries[len(h.Entries)-1]
	if last.Gen != h.Generation || last.RollbackOf != 1 || !slices.Equal(last.Changed, []string{"Settings", "APIKey"}) {
		t.Errorf("rollback entry = %+v", last)
	}

	for _, tc := range []struct {
		name, path string
		code       int
		contains   string
	}{
		{"gen/kept", fmt.Sprintf("config.json?gen=%d", kept), http.StatusOK, `"Workers":8`},
		{"gen/first", "config.json?gen=1", http.StatusOK, `"Workers":4`},
		{"gen/unknown", "config.json?gen=99", http.StatusNotFound, `"error":"generation 99 is not in the history"`},
		{"gen/malformed", "config.json?gen=x", http.StatusBadRequest, `"error"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.get(t, tc.path)
			if resp.StatusCode != tc.code || !strings.Contains(body, tc.contains) {
				t.Errorf("%s: %s\n%s", tc.path, resp.Status, body)
			}
			if strings.Contains(body, "sk-live") || strings.Contains(body, secretPass) {
				t.Errorf("secret in %s", tc.path)
			}
		})
	}
}

func TestHistoryJSONWithoutHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	_, body := f.get(t, "history.json")
	var h wantHistory
	decodeStrict(t, body, &h)
	if h.Generation != 1 || h.Entries == nil || len(h.Entries) != 0 {
		t.Errorf("history without WithHistory = %s", body)
	}
	_, page := f.get(t, "")
	if !strings.Contains(page, "livebind.WithHistory(n)") {
		t.Errorf("page does not explain the missing history")
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, []livebind.Option{livebind.WithHistory(4)}, livebindhttp.WithTitle(`ops <b>"panel"</b>`))
	f.write(t, "app.toml", "name = \"<script>alert('x')</script>&\"\nworkers = 4\n")
	if err := f.reload(t); err != nil {
		t.Fatal(err)
	}
	resp, body := f.get(t, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	t.Run("escaping", func(t *testing.T) {
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>") {
			t.Errorf("page holds unescaped markup from a value or the title:\n%s", body)
		}
		for _, want := range []string{
			`&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;`,
			`<title>ops &lt;b&gt;&#34;panel&#34;&lt;/b&gt;</title>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if n := strings.Count(body, "<script>"); n != 1 {
			t.Errorf("page has %d <script> elements, want only its own", n)
		}
	})
	t.Run("csp", func(t *testing.T) {
		csp := resp.Header.Get("Content-Security-Policy")
		script := regexp.MustCompile(`(?s)<script>(.*)</script>`).FindStringSubmatch(body)
		style := regexp.MustCompile(`(?s)<style>(.*)</style>`).FindStringSubmatch(body)
		if script == nil || style == nil {
			t.Fatal("page has no script or style")
		}
		for _, s := range []string{script[1], style[1]} {
			sum := sha256.Sum256([]byte(s))
			if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, h) {
				t.Errorf("CSP %q lacks %s", csp, h)
			}
		}
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("CSP = %q", csp)
		}
	})
	t.Run("content", func(t *testing.T) {
		for _, want := range []string{
			`<span id="gen">2</span>`,
			`<tr data-field="DB.Host">`, `&#34;db.internal&#34;`,
			`DB.Password (secret)`, `&#34;[redacted]&#34;`,
			`<a href="config.json?gen=2">2</a>`, `<a href="events">`,
			`<td class="state ok">ok</td>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
}

func TestRouting(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	noRedirect := *f.srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range []struct {
		name, method, path string
		code               int
		header, value      string
	}{
		{"page/head", http.MethodHead, "/debug/config/", http.StatusOK, "Content-Type", "text/html; charset=utf-8"},
		{"method/post", http.MethodPost, "/debug/config/status.json", http.StatusMethodNotAllowed, "Allow", "GET, HEAD"},
		{"path/unknown", http.MethodGet, "/debug/config/nope", http.StatusNotFound, "", ""},
		{"json/nosniff", http.MethodGet, "/debug/config/config.json", http.StatusOK, "X-Content-Type-Options", "nosniff"},
		{"json/nostore", http.MethodGet, "/debug/config/status.json", http.StatusOK, "Cache-Control", "no-store"},
		{"events/head", http.MethodHead, "/debug/config/events", http.StatusOK, "Content-Type", "text/event-stream; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, f.srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Errorf("%s %s: %s, want %d", tc.method, tc.path, resp.Status, tc.code)
			}
			if tc.header != "" && resp.Header.Get(tc.header) != tc.value {
				t.Errorf("%s = %q, want %q", tc.header, resp.Header.Get(tc.header), tc.value)
			}
		})
	}
	t.Run("mount/without-slash", func(t *testing.T) {
		// Mounted on an exact pattern, the prefix itself strips to "".
		mux := http.NewServeMux()
		h := livebindhttp.Handler(f.b)
		mux.Handle("/ops", http.StripPrefix("/ops", h))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/ops?x=1", nil))
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/ops/" {
			t.Errorf("got %d Location %q, want 301 to /ops/", rec.Code, rec.Header().Get("Location"))
		}
	})
	// Regression test: mounted with StripPrefix("/ops/"), the prefix
	// redirected to /ops//, which ServeMux redirects back to /ops/ (a loop
	// browsers give up on), and every other path was 404.
	t.Run("mount/strip-with-slash", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle("/ops/", http.StripPrefix("/ops/", livebindhttp.Handler(f.b)))
		for _, path := range []string{"/ops/", "/ops/status.json", "/ops/config.json", "/ops/history.json"} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
			if rec.Code != http.StatusOK {
				t.Errorf("%s: got %d Location %q, want 200", path, rec.Code, rec.Header().Get("Location"))
			}
		}
	})
}

// common is embedded in shadowConfig: its tagged Token is promoted to the
// path "Token", where an untagged field of the outer struct shadows it in
// Go's selector rules.
type common struct {
	Token string `live:"env=TOKEN_NAME; poll=1h"`
}

type shadowConfig struct {
	common
	Token string // untagged: the program's own credential, never bound
	Mode  string `live:"env=MODE; default=prod; poll=1h"`
}

// TestShadowedFieldShowsBoundValue: a tagged field promoted from an embedded
// struct is shown with the value livebind binds to it, not the value of an
// untagged outer field of the same name that shadows it in Go.
//
// Regression test: the handler resolved field paths with
// reflect.Type.FieldByName, which follows Go's shadowing, so config.json,
// history.json and the page showed the outer field: the program's own
// credential, under a field livebind says is not secret.
func TestShadowedFieldShowsBoundValue(t *testing.T) {
	t.Parallel()
	const credential = "sk-program-credential-9d1e"
	env := fixture.NewEnv("TOKEN_NAME", "billing-token")
	cfg := shadowConfig{Token: credential}
	b, err := livebind.Bind(t.Context(), &cfg, livebind.WithHistory(4), livebind.WithLookupEnv(env.Lookup))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	env.Set("TOKEN_NAME", "billing-token-2") // a generation that changes Token, for history.json
	if err := b.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(livebindhttp.Handler(b))
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ path, want string }{
		{"config.json", `"Token":"billing-token-2"`},
		{"config.json?gen=1", `"Token":"billing-token"`},
		{"history.json", `"values":{"Token":"billing-token-2"}`},
		{"", `<td class="value">&#34;billing-token-2&#34;</td>`},
	} {
		_, body := fixture.Get(t, srv.Client(), srv.URL+"/"+tc.path)
		if strings.Contains(body, credential) || !strings.Contains(body, tc.want) {
			t.Errorf("%q shows the outer, unbound field, or lacks %s:\n%.400s", tc.path, tc.want, body[max(0, strings.Index(body, "Token")-100):])
		}
	}
}
