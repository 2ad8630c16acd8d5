package livebind

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegressionConditionErrorLogsSecret(t *testing.T) {
	env := newEnv("TOKEN", "hunter2", "X", "1")
	var cfg struct {
		Token string `live:"env=TOKEN; secret"`
		X     int    `live:"env=X; when=Token[0:3] == \"abc\" || int(Token) > 0"`
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup), WithLogger(log))
	require.NoError(t, err)
	defer b.Close()
	t.Log(buf.String())
	assert.NotContains(t, buf.String(), "hunter2")
}
