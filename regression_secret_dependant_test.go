package livebind

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type dsnCfg struct {
	Password string `live:"env=PW; poll=5ms; secret"`
	DSN      string `live:"env=DSN_TMPL; depends_on=Password; update=FillDSN"`
}

func (c *dsnCfg) FillDSN(tmpl string) error { c.DSN = tmpl + c.Password; return nil }

func TestRegressionDependantOfSecretLeaks(t *testing.T) {
	env := newEnv("PW", "hunter2", "DSN_TMPL", "postgres://app:")
	var cfg dsnCfg
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	env.set("PW", "s3cr3t-2")
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Field == "DSN" })
	t.Log(u)
	assert.NotContains(t, u.String(), "s3cr3t-2")
}
