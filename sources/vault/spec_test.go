package vault

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

func TestParseLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loc     string
		want    location
		wantErr string
	}{
		{loc: "secret/data/db#password", want: location{path: "secret/data/db", field: "password", hasField: true}},
		{loc: "/secret/db", want: location{path: "secret/db"}},
		{loc: "kv1/app#a#b", want: location{path: "kv1/app", field: "a#b", hasField: true}},
		{loc: "database/creds/app", want: location{path: "database/creds/app"}},
		{loc: "team/kv/odd key?x=1#field name", want: location{path: "team/kv/odd key?x=1", field: "field name", hasField: true}},
		{loc: "", wantErr: "empty path"},
		{loc: "#f", wantErr: "empty path"},
		{loc: "secret/db#", wantErr: "empty field"},
		{loc: "secret/db/", wantErr: "folder"},
		{loc: "v1/secret/db", wantErr: "without the /v1/"},
		{loc: "secret//db", wantErr: "empty segment"},
		{loc: "secret/../db", wantErr: `".." segment`},
		{loc: "secret/./db", wantErr: `"." segment`},
		{loc: "secret/d\x00b", wantErr: "control character at byte 8"},
	}
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			t.Parallel()
			got, err := parseLocation(tt.loc)
			fixture.WantParsed(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestParseSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		target  sources.Target
		want    spec
		wantErr string
	}{
		{
			name:   "defaults",
			target: sources.Target{Location: "secret/db#password"},
			want:   spec{location: location{path: "secret/db", field: "password", hasField: true}, poll: DefaultPoll, timeout: DefaultTimeout},
		},
		{
			name:   "all",
			target: sources.Target{Location: "team/kv/app", Poll: time.Second, Timeout: 2 * time.Second, Params: map[string]string{"kv": "2", "mount": "/team/kv/"}},
			want:   spec{location: location{path: "team/kv/app"}, kv: 2, mount: "team/kv/", poll: time.Second, timeout: 2 * time.Second},
		},
		{name: "kv1", target: sources.Target{Location: "kv1/x", Params: map[string]string{"kv": "1"}}, want: spec{location: location{path: "kv1/x"}, kv: 1, poll: DefaultPoll, timeout: DefaultTimeout}},
		{name: "bad kv", target: sources.Target{Location: "a/b", Params: map[string]string{"kv": "3"}}, wantErr: `vault: "a/b": kv="3": want kv=1 or kv=2`},
		{name: "flag kv", target: sources.Target{Location: "a/b", Params: map[string]string{"kv": "true"}}, wantErr: `kv="true"`},
		{name: "mount without kv", target: sources.Target{Location: "a/b", Params: map[string]string{"mount": "a"}}, wantErr: "mount= needs kv=2"},
		{name: "mount with kv1", target: sources.Target{Location: "a/b", Params: map[string]string{"mount": "a", "kv": "1"}}, wantErr: "mount= needs kv=2"},
		{name: "empty mount", target: sources.Target{Location: "a/b", Params: map[string]string{"mount": "/", "kv": "2"}}, wantErr: "is not a mount path"},
		{name: "path outside mount", target: sources.Target{Location: "a/b", Params: map[string]string{"mount": "c", "kv": "2"}}, wantErr: "not under mount=c"},
		{name: "path is the mount", target: sources.Target{Location: "a/b", Params: map[string]string{"mount": "a/b", "kv": "2"}}, wantErr: "names the mount itself"},
		{name: "unknown", target: sources.Target{Location: "a/b", Params: map[string]string{"wait": "1s"}}, wantErr: "unknown option wait="},
		{
			name:   "issue",
			target: sources.Target{Location: "pki/issue/web#certificate", Params: map[string]string{"write": "common_name=a.example.com"}},
			want: spec{
				location: location{path: "pki/issue/web", field: "certificate", hasField: true},
				poll:     DefaultPoll, timeout: DefaultTimeout, write: `{"common_name":"a.example.com"}`,
			},
		},
		{
			name:   "nested mount",
			target: sources.Target{Location: "team/pki_int/issue/web", Params: map[string]string{"write": "common_name=a"}},
			want:   spec{location: location{path: "team/pki_int/issue/web"}, poll: DefaultPoll, timeout: DefaultTimeout, write: `{"common_name":"a"}`},
		},
		{name: "sign", target: sources.Target{Location: "pki/sign/web", Params: map[string]string{"write": "csr=x"}}, wantErr: "only for <mount>/issue/<role>"},
		{name: "too short", target: sources.Target{Location: "issue/web", Params: map[string]string{"write": "a=1"}}, wantErr: "only for <mount>/issue/<role>"},
		{name: "kv", target: sources.Target{Location: "secret/data/x", Params: map[string]string{"write": "a=1"}}, wantErr: "only for <mount>/issue/<role>"},
		{name: "with poll", target: sources.Target{Location: "pki/issue/web", Poll: time.Second, Params: map[string]string{"write": "a=1"}}, wantErr: "poll= has no effect with write="},
		{name: "with kv", target: sources.Target{Location: "pki/issue/web", Params: map[string]string{"write": "a=1", "kv": "1"}}, wantErr: "takes no kv= or mount="},
		{name: "bad value", target: sources.Target{Location: "pki/issue/web", Params: map[string]string{"write": "a"}}, wantErr: `vault: "pki/issue/web": write=: "a" is not name=value`},
		{name: "empty", target: sources.Target{Location: "pki/issue/web", Params: map[string]string{"write": ""}}, wantErr: "write= needs parameters"},
		{name: "errors joined", target: sources.Target{Location: "a//b#", Params: map[string]string{"kv": "x"}}, wantErr: "empty field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseSpec(&tt.target, DefaultPoll, DefaultTimeout)
			fixture.WantParsed(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestKVPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, mount, data, meta, err string
	}{
		{path: "secret/db", mount: "secret/", data: "secret/data/db", meta: "secret/metadata/db"},
		{path: "secret/data/db", mount: "secret/", data: "secret/data/db", meta: "secret/metadata/db"},
		{path: "secret/data/data/db", mount: "secret/", data: "secret/data/data/db", meta: "secret/metadata/data/db"},
		{path: "team/kv/app/x", mount: "team/kv/", data: "team/kv/data/app/x", meta: "team/kv/metadata/app/x"},
		{path: "secret", mount: "secret/", err: "mount itself"},
		{path: "secret/data", mount: "secret/", err: "names no secret"},
		{path: "other/db", mount: "secret/", err: "not under the mount"},
	}
	for _, tt := range tests {
		data, meta, err := kvPaths(tt.path, tt.mount)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, tt.path)
			continue
		}
		require.NoError(t, err, tt.path)
		require.Equal(t, tt.data, data)
		require.Equal(t, tt.meta, meta)
	}
}

// FuzzParseLocation: the parser never panics; an accepted location has a
// clean path and round-trips.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"secret/data/db#password", "/kv1/app", "a#", "#", "a//b", "v1/x", "a/../b", "a/b#c#d", "x\x00y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		l, err := parseLocation(loc)
		if err != nil {
			return
		}
		if l.path == "" || strings.HasPrefix(l.path, "/") || strings.HasSuffix(l.path, "/") || strings.Contains(l.path, "//") {
			t.Fatalf("accepted %q as path %q", loc, l.path)
		}
		if l.hasField && l.field == "" {
			t.Fatalf("accepted an empty field in %q", loc)
		}
		again := l.path
		if l.hasField {
			again += "#" + l.field
		}
		l2, err := parseLocation(again)
		if err != nil || l2 != l {
			t.Fatalf("%q -> %+v does not round-trip: %+v, %v", loc, l, l2, err)
		}
		if _, _, err := kvPaths(l.path, "secret/"); err == nil && !strings.HasPrefix(l.path, "secret/") {
			t.Fatalf("kvPaths accepted %q outside the mount", l.path)
		}
	})
}
