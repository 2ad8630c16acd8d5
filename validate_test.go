package livebind

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
)

type validated struct {
	Min int `live:"env=MIN; poll=5ms"`
	Max int `live:"env=MAX; poll=5ms"`
}

func (v *validated) Validate() error {
	if v.Min > v.Max {
		return fmt.Errorf("min %d > max %d", v.Min, v.Max)
	}
	return nil
}

func TestValidateRejectsThenConverges(t *testing.T) {
	t.Parallel()
	env := newEnv("MIN", "1", "MAX", "10")
	var cfg validated
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	rec := record(t, b)

	// Raising both bounds: MIN first makes an invalid pair.
	env.set("MIN", "20")
	u := rec.want(t, Error)
	assert.ErrorIs(t, u.Err, ErrValidation)
	assert.Contains(t, u.Err.Error(), "min 20 > max 10")
	assert.Equal(t, validated{Min: 1, Max: 10}, *b.Get(), "rejected generation not published")

	env.set("MAX", "30")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Kind == Updated && u.Field == "Max" })
	assert.Equal(t, validated{Min: 20, Max: 30}, *b.Get(), "the pending MIN is applied with MAX")

	_, err := Bind(t.Context(), &validated{}, WithLookupEnv(newEnv("MIN", "5", "MAX", "1").lookup))
	require.ErrorIs(t, err, ErrValidation)
}

type panicky struct {
	N int `live:"env=N; poll=1h"`
}

func (p *panicky) Validate() error {
	if p.N == 13 {
		panic("unlucky number") // a panic in user code
	}
	return nil
}

// Regression (first review, fixed in 5a73683): a panic in the user's
// Validate method crashed the applier. In a child process: Validate runs
// on the applier goroutine, so a regression kills the test binary.
func TestValidatePanicIsAnError(t *testing.T) {
	t.Parallel()
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		env := newEnv("N", "1")
		var cfg panicky
		b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
		env.set("N", "13")
		err := b.Reload(t.Context())
		require.ErrorIs(t, err, ErrValidation)
		assert.Contains(t, err.Error(), "the Validate method panicked: unlucky number")
		assert.Equal(t, 1, b.Get().N)
	})
}

type validatedPair struct {
	Min   int    `live:"env=MIN; poll=1h"`
	Max   int    `live:"env=B; format=json; key=max; poll=1h"`
	Other string `live:"env=B; format=json; key=other; poll=1h"`
}

func (v *validatedPair) Validate() error {
	if v.Min > v.Max {
		return errors.New("min > max")
	}
	return nil
}

// Regression (first review, fixed in 5a73683): a value held back by Validate
// also held back a fresh value of another key of the same document whose own
// value had not changed.
func TestFreshValueNotBlockedByUnchangedSibling(t *testing.T) {
	t.Parallel()
	env := newEnv("MIN", "1", "B", `{"max": 10, "other": "a"}`)
	var cfg struct {
		validatedPair
	}
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	env.set("MIN", "20")
	require.ErrorIs(t, b.Reload(t.Context()), ErrValidation)
	env.set("B", `{"max": 10, "other": "b"}`) // max unchanged, other new
	_ = b.Reload(t.Context())
	assert.Equal(t, "b", b.Get().Other, "Other is published although Min is held back")
	assert.Equal(t, 1, b.Get().Min)
}

type validatedWithOther struct {
	validated
	Other string `live:"env=OTHER; poll=5ms"`
}

// TestRejectedValueDoesNotBlockOthers: while one source holds a value that
// Validate rejects, changes to unrelated fields are still published.
func TestRejectedValueDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	env := newEnv("MIN", "1", "MAX", "10", "OTHER", "a")
	var cfg validatedWithOther
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	rec := record(t, b)
	env.set("MIN", "50")
	u := rec.want(t, Error)
	require.Equal(t, "Min", u.Field)
	env.set("OTHER", "b")
	u = rec.want(t, Updated)
	assert.Equal(t, "Other", u.Field)
	assert.Equal(t, "b", b.Get().Other)
	assert.Equal(t, 1, b.Get().Min, "the rejected value is still held back")
	rec.quiet(t, 50*time.Millisecond)
	require.ErrorIs(t, b.Reload(t.Context()), ErrValidation, "Reload reports the held-back value")
	env.set("MAX", "100")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Max" && u.Kind == Updated })
	assert.Equal(t, 50, b.Get().Min)
	assert.Equal(t, 100, b.Get().Max)
	require.NoError(t, b.Reload(t.Context()))
}

// stamping records in Validate, in place, the N it last checked: user code
// that edits a map of the candidate it was given.
type stamping struct {
	N      int            `live:"env=N; poll=1h"`
	Limits map[string]int `live:"env=LIMITS; format=json; poll=1h"`
	Tags   []string       `live:"env=TAGS; poll=1h"`
}

func (c *stamping) Validate() error {
	c.Limits["checked"] = c.N
	if len(c.Tags) > 0 {
		c.Tags[0] = fmt.Sprint("checked ", c.N)
	}
	if c.N == 13 {
		return errors.New("unlucky")
	}
	return nil
}

// TestValidateEditsOnlyItsCandidate: the candidate handed to Validate (and
// to update= methods) shared every unchanged map and slice with the
// published snapshot, so a Validate that edits them in place changed the
// snapshot readers hold, the history, and, for a rejected generation,
// what Get returns (and raced with readers). The candidate's tagged
// fields are now its own.
func TestValidateEditsOnlyItsCandidate(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "1", "LIMITS", `{"x":1}`, "TAGS", "a,b")
	b := mustBind(t, &stamping{}, WithLookupEnv(env.lookup), WithHistory(4))
	g1 := b.Get()
	require.Equal(t, map[string]int{"x": 1, "checked": 1}, g1.Limits)
	require.Equal(t, []string{"checked 1", "b"}, g1.Tags)

	env.set("N", "2")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, 2, b.Get().N)
	assert.Equal(t, map[string]int{"x": 1, "checked": 1}, g1.Limits, "generation 1, held by a reader")
	assert.Equal(t, []string{"checked 1", "b"}, g1.Tags, "generation 1, held by a reader")
	assert.Equal(t, map[string]int{"x": 1, "checked": 1}, b.History()[0].Value.Limits, "generation 1 in the history")
	g2 := b.Get()

	env.set("N", "13")
	require.ErrorIs(t, b.Reload(t.Context()), ErrValidation)
	assert.Same(t, g2, b.Get(), "rejected")
	assert.Equal(t, map[string]int{"x": 1, "checked": 2}, b.Get().Limits, "a rejected candidate's edits are not published")
	assert.Equal(t, []string{"checked 2", "b"}, b.Get().Tags, "a rejected candidate's edits are not published")
}

// stampingDefault is stamping with a default= for its slice, read as a
// key of a document that may leave it out.
type stampingDefault struct {
	N    int      `live:"env=N; poll=1h"`
	Tags []string `live:"env=DOC; format=json; key=tags; default=a,b; poll=1h"`
}

func (c *stampingDefault) Validate() error {
	if len(c.Tags) > 0 {
		c.Tags[0] = fmt.Sprint("checked ", c.N)
	}
	return nil
}

// TestValidateEditsNoValueItDidNotGet: a value that enters a candidate
// from its source (a decoded value, or the field's default=) was put in
// after the candidate's own copies were made, so Validate edited the
// value itself: the default= kept the edit, and a generation that took
// the default again shared it with every earlier one that had, so a
// Validate stamping it rewrote generation 1 under its readers.
func TestValidateEditsNoValueItDidNotGet(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "1", "DOC", `{}`)
	b := mustBind(t, &stampingDefault{}, WithLookupEnv(env.lookup), WithHistory(8))
	g1 := b.Get()
	require.Equal(t, []string{"checked 1", "b"}, g1.Tags)

	env.set("DOC", `{"tags": ["x"]}`)
	require.NoError(t, b.Reload(t.Context()))
	require.Equal(t, []string{"checked 1"}, b.Get().Tags)

	env.set("N", "2")
	env.set("DOC", `{}`) // the default again
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, []string{"checked 2", "b"}, b.Get().Tags)
	assert.Equal(t, []string{"checked 1", "b"}, g1.Tags, "generation 1, held by a reader")
	assert.Equal(t, []string{"checked 1", "b"}, b.History()[0].Value.Tags, "generation 1 in the history")
}

// hostileErr is an error of the user's whose Unwrap panics, or returns
// the error itself (a cycle).
type hostileErr struct{ cycle bool }

func (e *hostileErr) Error() string { return "hostile" }

func (e *hostileErr) Unwrap() error {
	if e.cycle {
		return e
	}
	panic("Unwrap panicked")
}

// hostileJoin is a joined error that holds itself.
type hostileJoin struct{}

func (e *hostileJoin) Error() string   { return "joined" }
func (e *hostileJoin) Unwrap() []error { return []error{e, e} }

type hostileErrCfg struct {
	N int `live:"env=N; poll=1h"`
}

func (c *hostileErrCfg) Validate() error {
	switch c.N {
	case 13:
		return &hostileErr{}
	case 14:
		return &hostileErr{cycle: true}
	case 15:
		return &hostileJoin{}
	}
	return nil
}

// TestValidateErrorWithHostileChain: the applier looked for a *FieldError
// in a rejected generation's error with errors.As, walking the user's own
// error: an Unwrap that panics killed the process, and one that returns
// its own error (or a join that holds itself) looped forever. In a child process: the old behavior
// kills or hangs it.
func TestValidateErrorWithHostileChain(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		for _, n := range []string{"13", "14", "15"} {
			env := newEnv("N", "1")
			b := mustBind(t, &hostileErrCfg{}, WithLookupEnv(env.lookup))
			rec := record(t, b)
			env.set("N", n)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			err := b.Reload(ctx)
			cancel()
			require.ErrorIs(t, err, ErrValidation)
			u := rec.want(t, Error)
			assert.Equal(t, "N", u.Field)
			assert.Equal(t, 1, b.Get().N)
		}
	})
}
