package livebind

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
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
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
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
