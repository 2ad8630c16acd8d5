package nats_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// TestSchemeCheck: bad locations and options are Bind errors, without a
// server, each a *nats.Error naming what is wrong.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
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
			tg := &sources.Target{Scheme: "nats", Location: tc.loc, Params: tc.params}
			fixture.WantCheck(t, "nats", tg, tc.wantErr, func(err error) bool {
				var e *lbnats.Error
				return errors.As(err, &e)
			})
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
	fixture.DocsListOptions(t, "../../docs/tags.md", "nats")
}
