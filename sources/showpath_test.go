package sources

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShowPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/etc/app/app.toml", "/etc/app/app.toml"},
		{"/srv/my app/é.toml", "/srv/my app/é.toml"},
		{"/tmp/a\nlevel=ERROR msg=forged", `"/tmp/a\nlevel=ERROR msg=forged"`},
		{"/tmp/a\rb", `"/tmp/a\rb"`},
		{"/tmp/a\tb", `"/tmp/a\tb"`},
		{"/tmp/a\xffb", `"/tmp/a\xffb"`},
		{"/tmp/a\u202eb", `"/tmp/a\u202eb"`},
		{"/tmp/\"quoted\"", "/tmp/\"quoted\""},
	} {
		require.Equal(t, tc.want, ShowPath(tc.in), "%q", tc.in)
	}
}
