package http

import (
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// TestRedactURL: the http scheme shows locations by the conservative rule
// of sources.RedactURL (tested there in full): the same text for each kind
// of location, and never a credential.
func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{
		"https://config.example:8443/live.json",
		"https://user:pa55@config.example/x",
		"https://h/x?pass=pa55&pw=pa55&x-api=pa55&env=prod",
		"http://[::1/x?token=pa55",
	} {
		got := redactURL(loc)
		require.Equal(t, sources.RedactURL(loc), got, loc)
		require.NotContains(t, got, "pa55", loc)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"120", "0", "-1", "Wed, 01 May 2024 12:01:00 GMT", "Wednesday, 01-May-24 12:00:30 GMT", "Wed May  1 12:00:30 2024", "99999999999999999999", " 5 ", ""} {
		f.Add(s, "Wed, 01 May 2024 11:00:00 GMT")
	}
	f.Fuzz(func(t *testing.T, v, date string) {
		d, ok := parseRetryAfter(v, date, now)
		if !ok {
			require.Zero(t, d)
			return
		}
		require.GreaterOrEqual(t, d, time.Duration(0))
		if n, isSecs := seconds(strings.TrimSpace(v)); isSecs {
			require.Equal(t, time.Duration(n)*time.Second, d)
		}
	})
}

// TestConfigHidesHeaderValues: a Config printed in any way, or logged, does
// not show the values of its headers (an Authorization token), only their
// names.
func TestConfigHidesHeaderValues(t *testing.T) {
	t.Parallel()
	fixture.WantHeaderHidden(t, func(h nethttp.Header) Config { return Config{Header: h} })
}
