package redis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/bindtest"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
)

// TestSchemeCheck: bad locations and options are Bind errors, without a
// server, each a *redis.Error naming what is wrong.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	bindtest.TypedCheckTable[*lbredis.Error](t, "redis", []bindtest.CheckCase{
		{Note: "key", Loc: "app:config"},
		{Note: "key/all options", Loc: "app:config", Params: map[string]string{"addr": "cache:6380", "db": "2", "notify": "enable", "maxbytes": "1024"}, Poll: time.Second},
		{Note: "key/prefixed", Loc: "key:channel:x"},
		{Note: "channel", Loc: "channel:events", Params: map[string]string{"maxbytes": "10"}},
		{Note: "key/empty", Loc: "", Want: "empty key"},
		{Note: "channel/empty", Loc: "channel:", Want: "empty channel"},
		{Note: "channel/poll", Loc: "channel:x", Poll: time.Second, Want: "poll= on a channel"},
		{Note: "channel/notify", Loc: "channel:x", Params: map[string]string{"notify": "enable"}, Want: "notify=enable on a channel"},
		{Note: "addr/no port", Loc: "k", Params: map[string]string{"addr": "cache"}, Want: "not host:port"},
		{Note: "db/negative", Loc: "k", Params: map[string]string{"db": "-1"}, Want: "not a database number"},
		{Note: "db/words", Loc: "k", Params: map[string]string{"db": "one"}, Want: "not a database number"},
		{Note: "notify/other", Loc: "k", Params: map[string]string{"notify": "on"}, Want: "only value is notify=enable"},
		{Note: "maxbytes/zero", Loc: "k", Params: map[string]string{"maxbytes": "0"}, Want: "maxbytes"},
		{Note: "unknown", Loc: "k", Params: map[string]string{"wait": "1s"}, Want: "unknown option wait="},
	})
}

// FuzzCheck: no location or option value makes Check panic, and what it
// accepts a driver accepts too.
func FuzzCheck(f *testing.F) {
	f.Add("app:config", "127.0.0.1:6379", "0", "enable", "1024")
	f.Add("channel:x", "", "", "", "")
	f.Add("key:channel:y", "[::1]:1", "15", "no", "-1")
	s, _ := sources.Lookup("redis")
	f.Fuzz(func(t *testing.T, loc, addr, db, notify, maxBytes string) {
		params := map[string]string{}
		for k, v := range map[string]string{"addr": addr, "db": db, "notify": notify, "maxbytes": maxBytes} {
			if v != "" {
				params[k] = v
			}
		}
		tg := &sources.Target{Scheme: "redis", Location: loc, Params: params}
		if err := s.Check(tg); err != nil {
			var e *lbredis.Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
	})
}

// TestDocsListOptions: every option of the scheme is in docs/tags.md's
// redis section.
func TestDocsListOptions(t *testing.T) {
	t.Parallel()
	fixture.DocsListOptions(t, "../../docs/tags.md", "redis")
}
