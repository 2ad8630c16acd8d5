package nats_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// TestSchemeCheck: bad locations and options are Bind errors, without a
// server, each a *nats.Error naming what is wrong.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	s, ok := sources.Lookup("nats")
	require.True(t, ok)
	for _, tc := range []struct {
		name, loc string
		params    map[string]string
		wantErr   string
	}{
		{"entry", "config/app", nil, ""},
		{"entry/nested key", "config/app/db.url", map[string]string{"maxbytes": "1024"}, ""},
		{"subject", "subject:app.mode", nil, ""},
		{"subject/wildcards", "subject:app.*.mode.>", nil, ""},
		{"entry/no key", "config", nil, "not bucket/key"},
		{"entry/empty key", "config/", nil, "not bucket/key"},
		{"entry/bad bucket", "con.fig/app", nil, "bucket"},
		{"entry/bad key", "config/a b", nil, "key"},
		{"entry/dot key", "config/.app", nil, "key"},
		{"subject/empty", "subject:", nil, "not a NATS subject"},
		{"subject/empty token", "subject:a..b", nil, "not a NATS subject"},
		{"subject/space", "subject:a b", nil, "not a NATS subject"},
		{"subject/inner >", "subject:a.>.b", nil, "not a NATS subject"},
		{"maxbytes/words", "config/app", map[string]string{"maxbytes": "lots"}, "maxbytes"},
		{"unknown", "config/app", map[string]string{"wait": "1s"}, "unknown option wait="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := s.Check(&sources.Target{Scheme: "nats", Location: tc.loc, Params: tc.params})
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			var e *lbnats.Error
			require.True(t, errors.As(err, &e), "%T", err)
		})
	}
}

// FuzzCheck: no location or maxbytes= makes Check panic, errors are
// typed, and an accepted subject holds no space.
func FuzzCheck(f *testing.F) {
	f.Add("config/app", "1024")
	f.Add("subject:a.*.>", "")
	f.Add("subject:a..b", "0")
	s, _ := sources.Lookup("nats")
	f.Fuzz(func(t *testing.T, loc, maxBytes string) {
		params := map[string]string{}
		if maxBytes != "" {
			params["maxbytes"] = maxBytes
		}
		err := s.Check(&sources.Target{Scheme: "nats", Location: loc, Params: params})
		if err != nil {
			var e *lbnats.Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if subj, ok := strings.CutPrefix(loc, "subject:"); ok && strings.ContainsAny(subj, " \t\r\n") {
			t.Fatalf("accepted subject %q", subj)
		}
	})
}

// TestDocsListOptions: every option of the scheme is in docs/tags.md's
// nats section.
func TestDocsListOptions(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/tags.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(doc), "### nats\n")
	require.True(t, ok, "docs/tags.md has a nats section")
	section, _, _ = strings.Cut(section, "\n#")
	s, _ := sources.Lookup("nats")
	for _, o := range s.Options {
		require.Contains(t, section, "`"+o+"=", "option %s is missing from docs/tags.md", o)
	}
}
