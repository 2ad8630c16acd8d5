package livebind

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

func TestParseTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tag     string
		want    tagSpec
		wantErr string
	}{
		{name: "source/only", tag: "file=app.toml", want: tagSpec{scheme: "file", location: "app.toml"}},
		{
			name: "options/flags-and-values",
			tag:  " file=app.yaml ;key=server.port; default=8080;required ",
			want: tagSpec{scheme: "file", location: "app.yaml", options: []tagOption{
				{name: "key", value: "server.port", hasValue: true},
				{name: "default", value: "8080", hasValue: true},
				{name: "required"},
			}},
		},
		{
			name: "url/keeps-commas-equals-queries",
			tag:  "http=https://x.example/live?env=prod&a=1,2; poll=30s",
			want: tagSpec{scheme: "http", location: "https://x.example/live?env=prod&a=1,2", options: []tagOption{{name: "poll", value: "30s", hasValue: true}}},
		},
		{
			name: "escape/semicolon-and-backslash",
			tag:  `env=X; default=a\;b\\c\d`,
			want: tagSpec{scheme: "env", location: "X", options: []tagOption{{name: "default", value: `a;b\c\d`, hasValue: true}}},
		},
		{
			name: "when/value-with-equals",
			tag:  `file=dev.toml; when=Mode == "development"`,
			want: tagSpec{scheme: "file", location: "dev.toml", options: []tagOption{{name: "when", value: `Mode == "development"`, hasValue: true}}},
		},
		{name: "empty/trailing-semicolons", tag: "env=A;;; ", want: tagSpec{scheme: "env", location: "A"}},
		{name: "error/empty", tag: "  ", wantErr: "empty tag"},
		{name: "error/no-source", tag: "debounce", wantErr: "not a source"},
		{name: "error/empty-location", tag: "file= ", wantErr: "empty location"},
		{name: "error/bad-scheme", tag: "File=x", wantErr: "invalid scheme name"},
		{name: "error/duplicate-option", tag: "file=x; poll=1s; poll=2s", wantErr: "given twice"},
		{name: "error/bad-option-name", tag: "file=x; Poll=1s", wantErr: "invalid option name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseTag(tt.tag)
			fixture.WantParsed(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestParseTagJoinsAllProblems(t *testing.T) {
	t.Parallel()
	_, err := parseTag("x; B=1; c=1; c=2")
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{"not a source", "invalid option name", "given twice"} {
		assert.Contains(t, msg, want)
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DIR": "/etc/app", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct{ in, want, wantErr string }{
		{in: "plain", want: "plain"},
		{in: "${DIR}/app.toml", want: "/etc/app/app.toml"},
		{in: "${MISSING}/x", wantErr: "environment variable MISSING is not set"},
		{in: "${MISSING:-}/x", want: "/x"},
		{in: "${MISSING-}/x", want: "/x"},
		{in: "${DIR}/${NOPE}/${NOPE}/${ALSO}", wantErr: "variables NOPE, ALSO are not set"},
		{in: "${MISSING:-.}/x", want: "./x"},
		{in: "${EMPTY:-def}", want: "def"},
		{in: "${EMPTY-def}", want: ""},
		{in: "${MISSING-def}", want: "def"},
		{in: "pa$$word$x", want: "pa$$word$x"},
		{in: "$${DIR}", want: "${DIR}"},
		{in: "${DIR", wantErr: "unterminated"},
		{in: "${1X}", wantErr: "invalid variable name"},
		{in: "${}", wantErr: "invalid variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := expand(tt.in, lookup)
			fixture.WantParsed(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// FuzzParseTag checks that no tag makes the parser panic, and that a parsed
// tag's parts never contain an unescaped separator.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{
		"file=app.toml; debounce=200ms", "env=A; required; secret", `http=https://x/?a=b,c; header=Authorization: Bearer ${T}`,
		`a=b\;c\\`, ";;;", "=", "x=", `when=A == "b"`, "\\", "file=a;key=a.b.c;default=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		spec, err := parseTag(tag)
		if err != nil {
			return
		}
		if spec.scheme == "" || spec.location == "" {
			t.Fatalf("parsed %q without a source: %+v", tag, spec)
		}
		if !isName(spec.scheme) {
			t.Fatalf("bad scheme %q", spec.scheme)
		}
		seen := map[string]bool{}
		for _, o := range spec.options {
			if !isName(o.name) || seen[o.name] {
				t.Fatalf("bad or repeated option %q in %q", o.name, tag)
			}
			seen[o.name] = true
			if o.value != strings.TrimSpace(o.value) {
				t.Fatalf("untrimmed value %q", o.value)
			}
		}
	})
}

// FuzzExpand checks that expansion never panics and is the identity on
// strings without "${".
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"${A}", "${A:-b}", "${A-b}", "$${A}", "${", "a$b", "${A:-${B}}"} {
		f.Add(s)
	}
	lookup := func(k string) (string, bool) { return "v" + k, k != "UNSET" }
	f.Fuzz(func(t *testing.T, s string) {
		got, err := expand(s, lookup)
		if !strings.Contains(s, "${") && (err != nil || got != s) {
			t.Fatalf("expand(%q) = %q, %v; want identity", s, got, err)
		}
	})
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key     string
		want    []string
		wantErr string
	}{
		{key: "", want: nil},
		{key: "server", want: []string{"server"}},
		{key: "server.port", want: []string{"server", "port"}},
		{key: "servers.0.host", want: []string{"servers", "0", "host"}},
		{key: `labels."app.kubernetes.io/name"`, want: []string{"labels", "app.kubernetes.io/name"}},
		{key: `hosts."db.example.com".port`, want: []string{"hosts", "db.example.com", "port"}},
		{key: `"a.b"`, want: []string{"a.b"}},
		{key: `"say \"hi\"".x`, want: []string{`say "hi"`, "x"}},
		{key: `"back\\slash"`, want: []string{`back\slash`}},
		{key: `"odd\x"`, want: []string{`odd\x`}},
		{key: `a.""`, want: []string{"a", ""}},
		{key: "a..b", wantErr: "empty segment"},
		{key: ".a", wantErr: "empty segment"},
		{key: "a.", wantErr: "empty segment"},
		{key: `a."b`, wantErr: "unterminated quote"},
		{key: `a."b"c`, wantErr: "quoted segment must be followed"},
		{key: `a.b"c"`, wantErr: "quote a whole segment"},
		{key: `"a"."b".`, wantErr: "empty segment"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			got, err := parseKey(tt.key)
			fixture.WantParsed(t, got, err, tt.want, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			again, err := parseKey(joinKey(got))
			require.NoError(t, err)
			assert.Equal(t, got, again, "joinKey(%q) = %q", got, joinKey(got))
		})
	}
}

// FuzzParseKey checks that the key parser never panics, that what it
// accepts survives joinKey and parseKey again, and that any list of
// segments (here separated by NUL) can be written as a key.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"a.b", `labels."app.kubernetes.io/name"`, `"a\"b".c`, `"\\"`, "a..b", `"`, `a."b"c`, "x\x00y.z\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := parseKey(s); err == nil {
			again, err := parseKey(joinKey(got))
			if err != nil || !slices.Equal(got, again) {
				t.Fatalf("parseKey(%q) = %q; joinKey gives %q, which parses to %q, %v", s, got, joinKey(got), again, err)
			}
			if s != "" && len(got) == 0 {
				t.Fatalf("parseKey(%q) selects the whole document", s)
			}
		}
		segs := strings.Split(s, "\x00")
		got, err := parseKey(joinKey(segs))
		if err != nil || !slices.Equal(got, segs) {
			t.Fatalf("segments %q: joinKey gives %q, which parses to %q, %v", segs, joinKey(segs), got, err)
		}
	})
}

func TestCompileTag(t *testing.T) {
	t.Parallel()
	spec, err := parseTag(`file=app.toml; key=hosts."db.example.com".port; default=${PORT:-5432}; secret; debounce=0; throttle=1s; burst=2; depends_on=A, B; update=Fill; when=On; dc=x`)
	require.NoError(t, err)
	c, err := compileTag("F", spec)
	require.NoError(t, err)
	assert.Equal(t, []string{"hosts", "db.example.com", "port"}, c.opts.keyPath)
	assert.True(t, c.opts.secret)
	assert.True(t, c.opts.hasDebounce)
	assert.Zero(t, c.opts.debounce)
	assert.Equal(t, time.Second, c.opts.throttle)
	assert.Equal(t, 2, c.opts.burst)
	assert.Equal(t, []string{"A", "B"}, c.opts.dependsOn)
	assert.Equal(t, "Fill", c.opts.update)
	assert.Equal(t, "On", c.opts.when)
	assert.False(t, c.opts.hasDefault, "a value with ${VAR} waits for Bind")
	require.Len(t, c.pending, 1)
	assert.Equal(t, "default", c.pending[0].name)
	require.Len(t, c.foreign, 1, "scheme options are sorted out at Bind")
	assert.Equal(t, "dc", c.foreign[0].name)

	// Every problem of one tag comes back at once, each naming its option.
	spec, err = parseTag("env=A; secret=yes; poll; debounce=-1s; burst=0; key=a..b; update=lower; format=ini; depends_on=,")
	require.NoError(t, err)
	c, err = compileTag("F", spec)
	require.ErrorIs(t, err, ErrTag)
	assert.True(t, c.invalid)
	for _, want := range []string{
		"option secret: invalid live tag: is a flag and takes no value",
		"option poll: invalid live tag: needs a value: poll=...",
		`option debounce: invalid live tag: duration "-1s" must be positive`,
		`option burst: invalid live tag: want a whole number of at least 1, got "0"`,
		`option key: invalid live tag: empty segment in key "a..b"`,
		`option update: invalid live tag: "lower" is not an exported method name`,
		`option format: invalid live tag: unknown format "ini"`,
		"option depends_on: invalid live tag: names no field",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestTagOptionTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, d := range tagOptionTable {
		assert.True(t, isName(d.name), "option name %q", d.name)
		assert.False(t, seen[d.name], "option %s listed twice", d.name)
		seen[d.name] = true
		assert.NotNil(t, d.parse, d.name)
		assert.NotEmpty(t, d.doc, d.name)
		assert.Equal(t, d.flag, d.value == "flag", "%s: flags and only flags document their value as flag", d.name)
		assert.Equal(t, d.schemes != nil, d.notFor != "", "%s: a scheme restriction says why", d.name)
		_, isScheme := sources.Lookup(d.name)
		assert.False(t, isScheme, "option %s is also a scheme name", d.name)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	assert.Equal(t, " (did you mean debounce?)", suggest("debounc", nil))
	assert.Equal(t, " (did you mean maxbytes?)", suggest("maxbyte", []string{"maxbytes", "header"}))
	assert.Equal(t, " (did you mean depends_on?)", suggest("dependson", nil))
	assert.Empty(t, suggest("completely-else", []string{"header"}))
}

func TestKeysOverlap(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"", "db.password", true},
		{"db", "db.password", true},
		{"db.password", "db", true},
		{"db.password", "db.password", true},
		{"db.host", "db.password", false},
		{"dbx", "db", false},
		{`"db.password"`, "db.password", false},
	} {
		a, b := splitKey(tt.a), splitKey(tt.b)
		assert.Equal(t, tt.want, keysOverlap(a, b), "%q vs %q", tt.a, tt.b)
		assert.Equal(t, tt.want, keysOverlap(b, a), "%q vs %q", tt.b, tt.a)
	}
}

// BenchmarkBuildPlan compiles the tags of a 1,000-field struct (100 files,
// 10 keys each) without the cache: the work done once per struct type.
func BenchmarkBuildPlan(b *testing.B) {
	rt := reflect.TypeFor[bigStruct]()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		p := buildPlan(rt)
		if p.err != nil {
			b.Fatal(p.err)
		}
		n = len(p.fields)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/field")
}

// BenchmarkResolveFields is the tag work left for each Bind of a cached
// type: expansion, scheme options, checks, targets and secrecy.
func BenchmarkResolveFields(b *testing.B) {
	p := planFor(reflect.TypeFor[bigStruct]())
	env := newEnv("BENCH_DIR", "/tmp/bench")
	var n int
	b.ReportAllocs()
	for b.Loop() {
		res, err := resolveFields(p, env.lookup)
		if err != nil {
			b.Fatal(err)
		}
		decideSecrecy(res.fields)
		n = len(res.fields)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/field")
}

// FuzzCompileTag runs arbitrary tags through the option table and the
// Bind-time steps for the env and file schemes: no panic, and every
// problem is an ErrTag.
func FuzzCompileTag(f *testing.F) {
	for _, s := range []string{
		"env=A; key=a.b; format=json; debounce=0; maxwait=1s", `file=x.toml; key="a.b".c; default=${X:-1}; secret`,
		"file=x; poll=1s; maxwait=2s; burst=2; throttle=1s", "env=A; depends_on=B,C; update=Fill; when=B > 1",
		"env=A; secret=1; required=x; header=a", "file=${X}; key=${Y}; debounc=1s",
	} {
		f.Add(s)
	}
	lookup := func(k string) (string, bool) { return "v", k != "UNSET" && k != "X" }
	env, _ := sources.Lookup("env")
	file, _ := sources.Lookup("file")
	f.Fuzz(func(t *testing.T, tag string) {
		spec, err := parseTag(tag)
		if err != nil {
			return
		}
		c, err := compileTag("F", spec)
		if err != nil && (!errors.Is(err, ErrTag) || !c.invalid) {
			t.Fatalf("compileTag(%q): %v (invalid=%v)", tag, err, c.invalid)
		}
		for _, s := range []sources.Scheme{env, file} {
			o, err := c.options("F", s, lookup)
			if err != nil {
				if !errors.Is(err, ErrTag) {
					t.Fatalf("options(%q, %s): %v does not wrap ErrTag", tag, s.Name, err)
				}
				continue
			}
			tg := &target{scheme: s, format: o.format, guess: formatFromName(spec.location)}
			tg.spec.Poll = o.poll
			if err := c.check("F", &o, tg); err != nil && !errors.Is(err, ErrTag) {
				t.Fatalf("check(%q, %s): %v does not wrap ErrTag", tag, s.Name, err)
			}
		}
	})
}
