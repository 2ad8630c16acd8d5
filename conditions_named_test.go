package livebind

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type appMode string

const modeDev appMode = "development"

type namedConds struct {
	Mode    appMode       `live:"env=MODE"`
	Level   int8          `live:"env=LEVEL; default=0"`
	Timeout time.Duration `live:"env=TIMEOUT; default=1s"`
	Typed   struct {
		Rank rank `live:"env=RANK; default=0"`
	}
	ByString string `live:"env=A; default=a; when=Mode == \"development\""`
	ByIn     string `live:"env=B; default=b; when=Mode in [\"staging\", \"development\"]"`
	ByRank   string `live:"env=C; default=c; when=Typed.Rank > 2"`
	ByMethod string `live:"env=D; default=d; when=Dev()"`
	ByDur    string `live:"env=E; default=e; when=Timeout > duration(\"500ms\")"`
	Never    string `live:"env=F; default=f; when=Mode == \"production\""`
}

type rank int

// Dev is how a condition refers to a Go constant: constants do not exist at
// run time, so the struct offers a method that uses it.
func (c *namedConds) Dev() bool { return c.Mode == modeDev }

// TestConditionsOnNamedTypes: a field of a named type with a basic
// underlying kind compares with a literal of that kind, as in Go (issue 14,
// item 2); Go constants are reached through a method of the struct.
func TestConditionsOnNamedTypes(t *testing.T) {
	t.Parallel()
	var c namedConds
	b := mustBind(t, &c, WithLookupEnv(newEnv("MODE", "development", "RANK", "3").lookup))
	got := b.Get()
	assert.Equal(t, "a", got.ByString)
	assert.Equal(t, "b", got.ByIn)
	assert.Equal(t, "c", got.ByRank)
	assert.Equal(t, "d", got.ByMethod)
	assert.Equal(t, "e", got.ByDur)
	assert.Empty(t, got.Never, "a false condition keeps the field zero")
}

// TestConditionTypeErrorsStillFail: comparing a named string with a number
// is still a Bind error naming the field and when=.
func TestConditionTypeErrorsStillFail(t *testing.T) {
	t.Parallel()
	var c struct {
		Mode appMode `live:"env=MODE"`
		X    string  `live:"env=X; when=Mode > 3"`
	}
	wantBindErr(t, &c, newEnv("MODE", "dev"), ErrTag, "when", "X")
}
