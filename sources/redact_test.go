package sources_test

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		// Scheme, host, port and path are shown.
		{"https://config.example:8443/live/app.json", "https://config.example:8443/live/app.json"},
		{"http://[::1]:80/a", "http://[::1]:80/a"},
		// User information is hidden whole.
		{"https://user:pa55@config.example/x", "https://xxxxx@config.example/x"},
		{"https://ghp_TOKEN@config.example/x", "https://xxxxx@config.example/x"},
		{"https://user:@config.example/x", "https://xxxxx@config.example/x"},
		// Every query value, whatever its name.
		{"https://h/x?pass=a&pw=b&x-api=c", "https://h/x?pass=xxxxx&pw=xxxxx&x-api=xxxxx"},
		{"https://h/x?env=prod&token=abc", "https://h/x?env=xxxxx&token=xxxxx"},
		{"https://h/x?%70ass=abc", "https://h/x?%70ass=xxxxx"},
		{"https://h/x?a=1;key=abc", "https://h/x?a=xxxxx;key=xxxxx"},
		{"https://h/x?next=http%3A%2F%2Fo%2F%3Ftoken%3Dabc", "https://h/x?next=xxxxx"},
		{"https://h/x?token=a=b", "https://h/x?token=xxxxx"},
		{"https://h/x?token=", "https://h/x?token=xxxxx"},
		// An element without '=' may itself be the key.
		{"https://h/x?sk_live_abc", "https://h/x?xxxxx"},
		{"https://h/x?a=1&&b", "https://h/x?a=xxxxx&&xxxxx"},
		{"https://h/x?", "https://h/x"},
		// The fragment is hidden whole.
		{"https://h/x#access_token=abc&state=1", "https://h/x#xxxxx"},
		{"https://h/x#section", "https://h/x#xxxxx"},
		// Not a URL: not shown.
		{"http://[::1/x?token=SECRET", "<invalid URL>"},
		{"http://h:abc/x?token=SECRET", "<invalid URL>"},
		{"config.example/live?token=abc", "config.example/live?token=xxxxx"},
		{"", ""},
		// A URL missing its // has its user information in the opaque part
		// or the path: hidden all the same.
		{"http:user:S3CRETpw@host/cfg?k=v", "http:xxxxx@host/cfg?k=xxxxx"},
		{"https:/user:S3CRETpw@host/x", "https:/xxxxx@host/x"},
		{"http:///user:S3CRETpw@h/x", "http:///xxxxx@h/x"},
		{"user:S3CRETpw@host/cfg", "user:xxxxx@host/cfg"}, // "user" parses as the scheme
		{"https:/plain/path", "https:/plain/path"},
		{"https://h/a@b", "https://h/a@b"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sources.RedactURL(tt.in), tt.in)
	}
}

func TestShowSafeQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		safe []string
		want string
	}{
		{"https://h/x?env=prod&pass=s3", []string{"env"}, "https://h/x?env=prod&pass=xxxxx"},
		{"https://h/x?%65nv=prod&pass=s3", []string{"env"}, "https://h/x?%65nv=prod&pass=xxxxx"},
		{"https://h/x?env=prod&env=dev;pass=s3", []string{"env"}, "https://h/x?env=prod&env=dev;pass=xxxxx"},
		{"https://h/x?raw&pass=s3", []string{"raw"}, "https://h/x?raw&pass=xxxxx"},
		{"https://u:p@h/x?env=prod#frag", []string{"env"}, "https://xxxxx@h/x?env=prod#xxxxx"},
		{"https://h/x?pass=s3", nil, "https://h/x?pass=xxxxx"},
		{"https://h/x?pass=s3", []string{"PASS"}, "https://h/x?pass=xxxxx"},
	}
	for _, tt := range tests {
		got := sources.ShowSafeQuery(sources.RedactURL(tt.in), tt.in, tt.safe)
		assert.Equal(t, tt.want, got, "%s %v", tt.in, tt.safe)
	}
	// Nothing that does not line up is revealed.
	assert.Equal(t, "https://h/x?a=xxxxx", sources.ShowSafeQuery("https://h/x?a=xxxxx", "https://h/x?b=1&a=2", []string{"a"}))
	assert.Equal(t, "https://h/x?a=xxxxx", sources.ShowSafeQuery("https://h/x?a=xxxxx", "https://h/x?b=1", []string{"a", "b"}))
}

func TestScrubLocation(t *testing.T) {
	t.Parallel()
	loc := "https://hooks.example/services/T0001/B0002/XyZsecretPathToken42?key=v"
	for _, msg := range []string{
		`Get "https://hooks.example/services/T0001/B0002/XyZsecretPathToken42?key=xxxxx": dial tcp: refused`,
		`POST /services/T0001/B0002/XyZsecretPathToken42 failed`,
		`token XyZsecretPathToken42 rejected`,
		`redirected to http://other.example/XyZsecretPathToken42/`,
		`path ` + url.PathEscape("XyZsecretPathToken42") + ` gone`,
	} {
		got := sources.ScrubLocation(msg, loc)
		assert.NotContains(t, got, "XyZsecretPathToken42", msg)
		assert.Contains(t, got, sources.HiddenLocation, msg)
	}
	assert.Equal(t, "status 503", sources.ScrubLocation("status 503", loc))

	err := sources.ScrubError(&fs.PathError{Op: "open", Path: "/run/secrets/db-token-abc123", Err: fs.ErrPermission}, "/run/secrets/db-token-abc123")
	assert.Equal(t, "open "+sources.HiddenLocation+": permission denied", err.Error())
	assert.ErrorIs(t, err, fs.ErrPermission)
	var pe *fs.PathError
	assert.True(t, errors.As(err, &pe))
	assert.NoError(t, sources.ScrubError(nil, "x"))
}

func TestScrubLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	loc := "https://h.example/bot123456:SECRETbotTOKEN/getUpdates"
	l := sources.ScrubLogger(slog.New(slog.NewTextHandler(&buf, nil)), []string{loc})
	l = l.With("loc", loc).WithGroup("g")
	l.Info("polling "+loc, "err", errors.New("failed: "+loc), "n", 3, slog.Group("inner", "u", loc), "any", struct{ S string }{loc})
	out := buf.String()
	require.NotEmpty(t, out)
	assert.NotContains(t, out, "SECRETbotTOKEN")
	assert.NotContains(t, out, "h.example")
	assert.Contains(t, out, "n=3")
	assert.Same(t, slog.Default(), sources.ScrubLogger(slog.Default(), nil))
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
		"http://h/?bare&x==y",
	} {
		f.Add(s, "env")
	}
	f.Fuzz(func(t *testing.T, loc, safe string) {
		out := sources.RedactURL(loc)
		u, err := url.Parse(loc)
		if err != nil {
			require.Equal(t, "<invalid URL>", out)
			return
		}
		// No query value, user information or fragment of 3 bytes or more
		// survives unless it also appears in the shown parts.
		shown := u.Scheme + "://" + u.Host + u.Path + u.RawPath + u.Opaque + u.RawQuery
		var secrets []string
		if u.User != nil {
			pw, _ := u.User.Password()
			secrets = append(secrets, pw, u.User.Username())
		}
		secrets = append(secrets, u.Fragment)
		var unsafe []string // secrets that ShowSafeQuery must keep hidden too
		unsafe = append(unsafe, secrets...)
		for _, part := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
			if name, value, ok := strings.Cut(part, "="); ok {
				secrets = append(secrets, value)
				shown = strings.Replace(shown, name, "", 1)
				if n, err := url.QueryUnescape(name); err != nil || n != safe {
					unsafe = append(unsafe, value)
				}
			} else {
				secrets = append(secrets, part)
				if n, err := url.QueryUnescape(part); err != nil || n != safe {
					unsafe = append(unsafe, part)
				}
			}
		}
		hidden := func(out string, list []string) {
			for _, s := range list {
				if len(s) >= 3 && !strings.Contains(sources.Redacted, s) && !strings.Contains(shown, s) &&
					!strings.Contains(safe, s) && strings.Count(loc, s) == 1 {
					require.NotContains(t, out, s, "%q leaked from %q (safe %q)", s, loc, safe)
				}
			}
		}
		hidden(out, secrets)
		// Showing safe values reveals nothing else.
		hidden(sources.ShowSafeQuery(out, loc, []string{safe}), unsafe)
	})
}

func FuzzScrubLocation(f *testing.F) {
	f.Add("Get \"https://h/a/TOKEN123456\": refused", "https://h/a/TOKEN123456")
	f.Add("open /run/secrets/abcdefgh: denied", "/run/secrets/abcdefgh")
	f.Fuzz(func(t *testing.T, msg, loc string) {
		out := sources.ScrubLocation(msg, loc)
		if len(loc) >= 8 && !strings.Contains(sources.HiddenLocation, loc) {
			require.NotContains(t, out, loc)
		}
	})
}

// TestSanitizeURLError: a *url.Error's URL is redacted, and the target
// URL's credentials (user, password, query values raw and unescaped, the
// fragment) are scrubbed from its cause, which net/http may have filled
// with a redirect's Location; short values are left alone, and errors.Is
// still sees the cause.
func TestSanitizeURLError(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("https://app:S3CRETpw@h.example/c.json?key=S3CRET%2Fkey&env=eu&S3CRETbare#S3CRETfrag")
	require.NoError(t, err)
	cause := errors.New(`failed to parse Location header "/x?key=S3CRET/key&env=eu&S3CRETbare&pw=S3CRETpw#S3CRETfrag"`)
	in := &url.Error{Op: "Get", URL: u.String(), Err: errors.Join(cause, fs.ErrNotExist)}
	got := sources.SanitizeURLError(in, u)
	assert.NotContains(t, got.Error(), "S3CRET")
	assert.Contains(t, got.Error(), "env=eu", "a 2-byte value is no credential: left alone")
	assert.ErrorIs(t, got, fs.ErrNotExist)
	plain := errors.New("not a url.Error S3CRETpw")
	assert.Same(t, plain, sources.SanitizeURLError(plain, u), "other errors are returned as they are")
}

// TestSanitizeURLErrorShownValues: a query value the redacted URL shows as
// a whole word (the port, a piece of the host) is left in the cause; one
// that is only part of a longer word of the URL ("conf" in "config") is
// still scrubbed.
func TestSanitizeURLErrorShownValues(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("https://h.prod.example.com:8443/config.json?port=8443&env=prod&key=conf")
	require.NoError(t, err)
	in := &url.Error{Op: "Get", URL: u.String(), Err: errors.New(`dial h.prod.example.com:8443; Location "/x?key=conf"`)}
	got := sources.SanitizeURLError(in, u).Error()
	assert.Contains(t, got, "dial h.prod.example.com:8443;")
	assert.NotContains(t, got, "key=conf")
}
