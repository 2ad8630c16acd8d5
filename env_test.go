package livebind

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvUpdates(t *testing.T) {
	t.Parallel()
	b, env, _, _ := bindIssueConfig(t)
	rec := record(t, b)
	env.set("DATABASE_URL", "postgres://db2")
	u := rec.want(t, Updated)
	assert.Equal(t, "postgres://db2", u.New)
	env.unset("DATABASE_URL")
	u = rec.want(t, Removed)
	assert.Equal(t, "postgres://db2", b.Get().DatabaseURL, "value kept")
	env.set("DATABASE_URL", "postgres://db3")
	u = rec.want(t, Added)
	assert.Equal(t, "postgres://db3", b.Get().DatabaseURL)
}

func TestEnvFileConvention(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := writeFile(t, dir, "db_password", "hunter2-initial\n")
	var cfg struct {
		Password string `live:"env=DB_PASSWORD; secret"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(newEnv("DB_PASSWORD_FILE", secretFile).lookup))
	assert.Equal(t, "hunter2-initial", cfg.Password, "trailing newline trimmed")
	got := make(chan FieldChange[string], 4)
	unsub, err := WatchField(b, "Password", func(c FieldChange[string]) { got <- c })
	require.NoError(t, err)
	defer unsub()
	writeFile(t, dir, "db_password", "hunter2-rotated\n")
	select {
	case c := <-got:
		assert.Equal(t, Updated, c.Kind)
		assert.Equal(t, "hunter2-rotated", c.New)
		assert.Equal(t, "file:"+secretFile+" (DB_PASSWORD_FILE)", c.Source)
		assert.NotContains(t, c.String(), "hunter2")
	case <-time.After(wait):
		t.Fatal("rotation not seen")
	}

	_, err = Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DB_PASSWORD", "x", "DB_PASSWORD_FILE", secretFile).lookup))
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "both DB_PASSWORD and DB_PASSWORD_FILE")
}
