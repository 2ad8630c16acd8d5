package http

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://config.example/live?env=prod", "https://config.example/live?env=prod"},
		{"https://user:pa55@config.example/x", "https://user:xxxxx@config.example/x"},
		{"https://ghp_TOKEN@config.example/x", "https://xxxxx@config.example/x"},
		{"https://user:@config.example/x", "https://user:xxxxx@config.example/x"},
		{"https://h/x?token=abc&env=prod", "https://h/x?token=xxxxx&env=prod"},
		{"https://h/x?env=prod&access_token=abc", "https://h/x?env=prod&access_token=xxxxx"},
		{"https://h/x?API_KEY=abc&apikey=d&Key=e", "https://h/x?API_KEY=xxxxx&apikey=xxxxx&Key=xxxxx"},
		{"https://h/x?X-Amz-Signature=abc&X-Amz-Credential=d&X-Amz-Date=20240101", "https://h/x?X-Amz-Signature=xxxxx&X-Amz-Credential=xxxxx&X-Amz-Date=20240101"},
		{"https://h/x?sig=a&secret=b&password=c&passwd=d&pwd=e&auth=f&sessionid=g&client_secret=h", "https://h/x?sig=xxxxx&secret=xxxxx&password=xxxxx&passwd=xxxxx&pwd=xxxxx&auth=xxxxx&sessionid=xxxxx&client_secret=xxxxx"},
		{"https://h/x?%74oken=abc", "https://h/x?%74oken=xxxxx"},
		{"https://h/x?a=1;token=abc", "https://h/x?a=1;token=xxxxx"},
		{"https://h/x?token", "https://h/x?token"},
		{"https://h/x?token=", "https://h/x?token=xxxxx"},
		{"https://h/x?token=a=b", "https://h/x?token=xxxxx"},
		{"https://h/x#access_token=abc&state=1", "https://h/x#access_token=xxxxx&state=1"},
		{"https://h/x#section", "https://h/x#section"},
		{"http://[::1/x?token=SECRET", "<invalid URL>"},
		{"http://h:abc/x?token=SECRET", "<invalid URL>"},
		{"config.example/live?token=abc", "config.example/live?token=xxxxx"},
		{"", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, redactURL(tt.in), tt.in)
	}
}

func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{
		"https://user:pa55word@config.example/live?env=prod&token=abc",
		"http://u:p@h:8080/a/b?x=1;api_key=2#auth=3",
		"http://%41:%42@h/",
		"https://TOKEN@h/",
		"//user:secret@host/path",
		"http://[::1]:80/?signature=x",
		"http://h/?a=%zz&token=q",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		out := redactURL(loc)
		u, err := url.Parse(loc)
		if err != nil {
			require.Equal(t, "<invalid URL>", out)
			return
		}
		pw, hasPW := "", false
		if u.User != nil {
			pw, hasPW = u.User.Password()
		}
		// The password never survives, unless it also appears elsewhere
		// in the location (then it is no secret of the userinfo alone).
		if hasPW && len(pw) >= 3 && !strings.Contains(redacted, pw) && strings.Count(loc, pw) == 1 {
			require.NotContains(t, out, pw, "password leaked from %q", loc)
		}
		ru, err := url.Parse(out)
		if err != nil {
			return // net/url does not always round-trip its own output
		}
		if ru.User != nil {
			if p, ok := ru.User.Password(); ok {
				require.Equal(t, redacted, p)
			} else if ru.User.Username() != "" {
				require.Equal(t, redacted, ru.User.Username())
			}
		}
		for k, vs := range ru.Query() {
			if sensitive(k) {
				for _, v := range vs {
					if v != "" { // a bare name has no value to hide
						require.Equal(t, redacted, v, "query %s of %q", k, loc)
					}
				}
			}
		}
	})
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
