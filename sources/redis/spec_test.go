package redis_test

import (
	"errors"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
	lbredis "github.com/livebind/livebind/sources/redis"
)

// TestSchemeCheck: bad locations and options are Bind errors, without a
// server, each a *redis.Error naming what is wrong.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, loc string
		params    map[string]string
		poll      time.Duration
		wantErr   string
	}{
		{"key", "app:config", nil, 0, ""},
		{"key/all options", "app:config", map[string]string{"addr": "cache:6380", "db": "2", "notify": "enable", "maxbytes": "1024"}, time.Second, ""},
		{"key/prefixed", "key:channel:x", nil, 0, ""},
		{"channel", "channel:events", map[string]string{"maxbytes": "10"}, 0, ""},
		{"key/empty", "", nil, 0, "empty key"},
		{"channel/empty", "channel:", nil, 0, "empty channel"},
		{"channel/poll", "channel:x", nil, time.Second, "poll= on a channel"},
		{"channel/notify", "channel:x", map[string]string{"notify": "enable"}, 0, "notify=enable on a channel"},
		{"addr/no port", "k", map[string]string{"addr": "cache"}, 0, "not host:port"},
		{"db/negative", "k", map[string]string{"db": "-1"}, 0, "not a database number"},
		{"db/words", "k", map[string]string{"db": "one"}, 0, "not a database number"},
		{"notify/other", "k", map[string]string{"notify": "on"}, 0, "only value is notify=enable"},
		{"maxbytes/zero", "k", map[string]string{"maxbytes": "0"}, 0, "maxbytes"},
		{"unknown", "k", map[string]string{"wait": "1s"}, 0, "unknown option wait="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := &sources.Target{Scheme: "redis", Location: tc.loc, Params: tc.params, Poll: tc.poll}
			fixture.WantCheck(t, "redis", tg, tc.wantErr, func(err error) bool {
				var e *lbredis.Error
				return errors.As(err, &e)
			})
		})
	}
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
