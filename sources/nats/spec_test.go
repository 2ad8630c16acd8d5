package nats_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// TestSchemeCheck: bad locations and options are Bind errors, without a
// server, each a *nats.Error naming what is wrong.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	bindtest.TypedCheckTable[*lbnats.Error](t, "nats", []bindtest.CheckCase{
		{Note: "entry", Loc: "config/app"},
		{Note: "entry/nested key", Loc: "config/app/db.url", Params: map[string]string{"maxbytes": "1024"}},
		{Note: "subject", Loc: "subject:app.mode"},
		{Note: "subject/wildcards", Loc: "subject:app.*.mode.>"},
		{Note: "entry/no key", Loc: "config", Want: "not bucket/key"},
		{Note: "entry/empty key", Loc: "config/", Want: "not bucket/key"},
		{Note: "entry/bad bucket", Loc: "con.fig/app", Want: "bucket"},
		{Note: "entry/bad key", Loc: "config/a b", Want: "key"},
		{Note: "entry/dot key", Loc: "config/.app", Want: "key"},
		{Note: "subject/empty", Loc: "subject:", Want: "not a NATS subject"},
		{Note: "subject/empty token", Loc: "subject:a..b", Want: "not a NATS subject"},
		{Note: "subject/space", Loc: "subject:a b", Want: "not a NATS subject"},
		{Note: "subject/inner >", Loc: "subject:a.>.b", Want: "not a NATS subject"},
		{Note: "maxbytes/words", Loc: "config/app", Params: map[string]string{"maxbytes": "lots"}, Want: "maxbytes"},
		{Note: "unknown", Loc: "config/app", Params: map[string]string{"wait": "1s"}, Want: "unknown option wait="},
	})
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
