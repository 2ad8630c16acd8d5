package consul

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

func TestParseSpec(t *testing.T) {
	t.Parallel()
	d := &driver{wait: DefaultWait, rateLimit: DefaultRateLimit}
	tests := []struct {
		name    string
		loc     string
		params  map[string]string
		want    spec
		wantErr string
	}{
		{name: "defaults", loc: "app/x", want: spec{query: queryKey{key: "app/x", wait: DefaultWait}, rateLimit: DefaultRateLimit}},
		{name: "leading slash", loc: "/app/x", want: spec{query: queryKey{key: "app/x", wait: DefaultWait}, rateLimit: DefaultRateLimit}},
		{
			name: "all", loc: "app/", params: map[string]string{"dc": "dc2", "stale": "true", "prefix": "true", "wait": "2m", "ratelimit": "100ms"},
			want: spec{query: queryKey{key: "app/", prefix: true, dc: "dc2", stale: true, wait: 2 * time.Minute}, rateLimit: 100 * time.Millisecond},
		},
		// An explicit zero used to turn the limit off without a word; off
		// is Config.RateLimit < 0 only.
		{name: "ratelimit zero", loc: "k", params: map[string]string{"ratelimit": "0"}, wantErr: `consul: key "k": ratelimit=0 is zero`},
		{name: "ratelimit zero seconds", loc: "k", params: map[string]string{"ratelimit": "0s"}, wantErr: "ratelimit=0s is zero"},
		{name: "ratelimit tiny", loc: "k", params: map[string]string{"ratelimit": "1ns"}, want: spec{query: queryKey{key: "k", wait: DefaultWait}, rateLimit: time.Nanosecond}},
		{name: "wait max", loc: "k", params: map[string]string{"wait": "10m"}, want: spec{query: queryKey{key: "k", wait: MaxWait}, rateLimit: DefaultRateLimit}},
		{name: "wait too long", loc: "app/x", params: map[string]string{"wait": "11m"}, wantErr: `consul: key "app/x": wait=11m exceeds Consul's maximum of 10m0s`},
		{name: "wait not a duration", loc: "k", params: map[string]string{"wait": "soon"}, wantErr: `wait="soon" is not a duration`},
		{name: "wait zero", loc: "k", params: map[string]string{"wait": "0s"}, wantErr: "wait=0s is too short"},
		{name: "ratelimit negative", loc: "k", params: map[string]string{"ratelimit": "-1s"}, wantErr: "ratelimit=-1s is negative"},
		{name: "ratelimit bad", loc: "k", params: map[string]string{"ratelimit": "fast"}, wantErr: `ratelimit="fast" is not a duration`},
		{name: "stale with value", loc: "k", params: map[string]string{"stale": "yes"}, wantErr: `stale is a flag`},
		{name: "empty dc", loc: "k", params: map[string]string{"dc": ""}, wantErr: "dc= needs a datacenter name"},
		{name: "bad dc", loc: "k", params: map[string]string{"dc": "a/b"}, wantErr: `dc="a/b" is not a datacenter name`},
		{name: "empty key", loc: "", wantErr: "empty key"},
		{name: "empty prefix is the whole store", loc: "", params: map[string]string{"prefix": "true"}, want: spec{query: queryKey{prefix: true, wait: DefaultWait}, rateLimit: DefaultRateLimit}},
		{name: "unknown", loc: "k", params: map[string]string{"poll": "1s"}, wantErr: "unknown option poll="},
		{name: "errors in dc", loc: "k", params: map[string]string{"dc": "dc2", "wait": "1h"}, wantErr: `consul: key "k" in dc "dc2": wait=1h`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.parseSpec(&sources.Target{Scheme: "consul", Location: tt.loc, Params: tt.params})
			fixture.WantParsed(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestSame(t *testing.T) {
	t.Parallel()
	data := func(s, v string) sources.Result { return sources.Result{Data: []byte(s), Version: v} }
	require.True(t, sources.Same(data("a", "1"), data("a", "2")), "a new index alone is no change")
	require.False(t, sources.Same(data("a", "1"), data("b", "1")))
	require.True(t, sources.Same(sources.Result{Missing: true, Version: "3"}, sources.Result{Missing: true, Version: "9"}))
	require.False(t, sources.Same(data("", "1"), sources.Result{Missing: true}), "empty is not missing")
	e1 := sources.Result{Err: &Error{Key: "k", Err: sources.ErrUnreachable}}
	e2 := sources.Result{Err: &Error{Key: "k", Err: sources.ErrUnreachable}}
	require.True(t, sources.Same(e1, e2))
	require.False(t, sources.Same(e1, data("a", "1")))
}

// FuzzParseSpec: no location or option value makes parseSpec panic; an
// error is the driver's and names the key; what it accepts keeps the
// bounds the checks promise (a dc with nothing a URL would read as a
// separator, a wait Consul takes, a rate limit that is positive, a
// key unless the prefix flag is set).
func FuzzParseSpec(f *testing.F) {
	f.Add("app/x", "dc2", "true", "", "2m", "100ms")
	f.Add("/", "", "", "true", "0s", "-1s")
	f.Add("", "a b", "yes", "false", "11m", "fast")
	// One seed a refused value each, so a lost check fails go test itself.
	for _, refused := range [][2]string{{"dc", "a/b"}, {"dc", "a\tb"}, {"wait", "0s"}, {"wait", "11m"}, {"ratelimit", "-1s"}, {"ratelimit", "0"}, {"loc", ""}} {
		args := map[string]string{"loc": "k", refused[0]: refused[1]}
		f.Add(args["loc"], args["dc"], "", "", args["wait"], args["ratelimit"])
	}
	d := &driver{wait: DefaultWait, rateLimit: DefaultRateLimit}
	f.Fuzz(func(t *testing.T, loc, dc, stale, prefix, wait, rateLimit string) {
		params := map[string]string{}
		for name, val := range map[string]string{"dc": dc, "stale": stale, "prefix": prefix, "wait": wait, "ratelimit": rateLimit} {
			if val != "" {
				params[name] = val
			}
		}
		s, err := d.parseSpec(&sources.Target{Scheme: "consul", Location: loc, Params: params})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "consul: ") {
				t.Fatalf("error without the driver's prefix: %v", err)
			}
			return
		}
		q := s.query
		switch {
		case q.key != strings.TrimPrefix(loc, "/"):
			t.Fatalf("key %q from location %q", q.key, loc)
		case q.key == "" && !q.prefix:
			t.Fatal("accepted an empty key without the prefix flag")
		case strings.ContainsAny(q.dc, "/?#&= \t\n"):
			t.Fatalf("accepted dc %q", q.dc)
		case q.wait < time.Millisecond || q.wait > MaxWait:
			t.Fatalf("accepted wait %s", q.wait)
		case s.rateLimit <= 0:
			t.Fatalf("accepted ratelimit %s (given %q): only Config.RateLimit turns the limit off", s.rateLimit, rateLimit)
		}
	})
}
