package livebind

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReloadBeatsOlderGatedValue: a value waiting in a debounce gate when
// Reload reads a newer one must not overwrite it afterwards.
func TestReloadBeatsOlderGatedValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newEnv("A", "v0")
		var cfg struct {
			A string `live:"env=A; poll=300ms; debounce=100ms"`
		}
		b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
		require.NoError(t, err)
		defer b.Close()
		var got []any
		var mu sync.Mutex
		b.OnChange(func(u Update) { mu.Lock(); got = append(got, u.New); mu.Unlock() })
		time.Sleep(250 * time.Millisecond)
		env.set("A", "v1") // seen by the poll at 300ms, held by the gate until 400ms
		time.Sleep(60 * time.Millisecond)
		env.set("A", "v2")
		require.NoError(t, b.Reload(t.Context()))
		assert.Equal(t, "v2", b.Get().A)
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, "v2", b.Get().A, "the older gated value was dropped")
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []any{"v2"}, got)
	})
}

func TestSecretParseErrorsHidden(t *testing.T) {
	t.Parallel()
	const secret = "supersecretvalue"
	dir := t.TempDir()
	writeFile(t, dir, "s.toml", "password = \"ok-"+secret+"\"\nuser = \"u\"\n")
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&logs, &logMu}, nil))
	env := newEnv("DIR", dir, "CREDS", "password = "+secret)
	type creds struct {
		Password string `live:"file=${DIR}/s.toml; key=password; secret"`
		User     string `live:"file=${DIR}/s.toml; key=user"`
		Whole    struct {
			Password string `toml:"password"`
		} `live:"file=${DIR}/s.toml"`
		Env string `live:"env=CREDS; format=toml; key=password; secret; poll=1h"`
	}
	// At Bind: the env document does not parse and would quote the secret.
	var c creds
	_, err := Bind(t.Context(), &c, WithLookupEnv(env.lookup), WithLogger(logger))
	require.ErrorIs(t, err, ErrDecode)
	assert.NotContains(t, err.Error(), secret)

	env.set("CREDS", "password = \"fine\"")
	b, err := Bind(t.Context(), &c, WithLookupEnv(env.lookup), WithLogger(logger))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	var out bytes.Buffer
	// At run time: through a file (driver Check) and through Reload.
	writeFile(t, dir, "s.toml", "password = "+secret+"\n")
	for range 3 { // Password, User, Whole
		u := rec.next(t, wait)
		require.Equal(t, Error, u.Kind)
		require.ErrorIs(t, u.Err, ErrDecode)
		fmt.Fprintf(&out, "%v %+v %s\n", u, u, u.Err)
	}
	env.set("CREDS", "password = "+secret)
	rerr := b.Reload(t.Context())
	require.Error(t, rerr)
	out.WriteString(rerr.Error())
	// The whole-document sibling of a secret is secret too.
	writeFile(t, dir, "s.toml", "password = \"next-"+secret+"\"\nuser = \"u\"\n")
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Field == "Whole" && u.Kind == Updated })
	assert.True(t, u.Secret)
	fmt.Fprintf(&out, "%v\n", u)
	logMu.Lock()
	out.Write(logs.Bytes())
	logMu.Unlock()
	assert.NotContains(t, out.String(), secret)
}

func TestNullIsAbsent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", "port: 1\nname: x\n")
	var cfg struct {
		Port int    `live:"file=${DIR}/a.yaml; key=port; required"`
		Name string `live:"file=${DIR}/a.yaml; key=name; default=dflt"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DIR", dir).lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	writeFile(t, dir, "a.yaml", "port:\nname: y\n")
	u := rec.next(t, wait)
	assert.Equal(t, Error, u.Kind, "a null required key is missing, not zero")
	assert.ErrorIs(t, u.Err, ErrRequired)
	assert.Equal(t, 1, b.Get().Port)
	writeFile(t, dir, "a.yaml", "port: 2\nname:\n")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Name" })
	assert.Equal(t, "dflt", b.Get().Name)
	assert.Equal(t, 2, b.Get().Port)
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

func TestValidatePanicIsAnError(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "1")
	var cfg panicky
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	env.set("N", "13")
	err = b.Reload(t.Context())
	require.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, err.Error(), "the Validate method panicked: unlucky number")
	assert.Equal(t, 1, b.Get().N)
}

func TestFreshValueNotBlockedByUnchangedSibling(t *testing.T) {
	t.Parallel()
	env := newEnv("MIN", "1", "B", `{"max": 10, "other": "a"}`)
	var cfg struct {
		validatedPair
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	env.set("MIN", "20")
	require.ErrorIs(t, b.Reload(t.Context()), ErrValidation)
	env.set("B", `{"max": 10, "other": "b"}`) // max unchanged, other new
	_ = b.Reload(t.Context())
	assert.Equal(t, "b", b.Get().Other, "Other is published although Min is held back")
	assert.Equal(t, 1, b.Get().Min)
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

// TestUntaggedFieldsAreCopied: untagged fields are the caller's and are
// copied as they are, shallowly, never walked (issue 10: walking them raced
// with a live *http.Client and overflowed the stack on a cycle). So a map in
// an untagged field is shared with *dst, while tagged fields are not (see
// hostile_snapshot_test.go).
func TestUntaggedFieldsAreCopied(t *testing.T) {
	t.Parallel()
	cfg := struct {
		N     int `live:"env=N; poll=1h"`
		Extra map[string]string
	}{Extra: map[string]string{"k": "v"}}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("N", "1").lookup))
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, reflect.ValueOf(cfg.Extra).Pointer(), reflect.ValueOf(b.Get().Extra).Pointer(), "the same map, not a copy")
}

func TestDropNoticeKeepsGenerationOrder(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "0")
	var cfg struct {
		N int `live:"env=N; poll=1h"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup), WithBuffer(2))
	require.NoError(t, err)
	defer b.Close()
	release := make(chan struct{})
	gens := make(chan uint64, 100)
	b.OnChange(func(u Update) { <-release; gens <- u.Gen })
	for i := 1; i <= 10; i++ {
		env.set("N", fmt.Sprint(i))
		require.NoError(t, b.Reload(t.Context()))
	}
	close(release)
	var got []uint64
	for len(got) < 4 {
		select {
		case g := <-gens:
			got = append(got, g)
		case <-time.After(wait):
			t.Fatalf("got %v", got)
		}
	}
	for i := 1; i < len(got); i++ {
		assert.LessOrEqual(t, got[i-1], got[i], "generations in order: %v", got)
	}
}

func TestFieldChangeRedactsEverywhere(t *testing.T) {
	t.Parallel()
	c := FieldChange[string]{Kind: Updated, Field: "P", Old: "old-s3cret", New: "new-s3cret", Secret: true}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "change", c)
	js, err := json.Marshal(c)
	require.NoError(t, err)
	out := fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c) + logs.String() + string(js)
	assert.NotContains(t, out, "s3cret")
	assert.Equal(t, "new-s3cret", c.New, "the typed value itself is real")
}

func TestBindWithCanceledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := contextWithCancel(t)
	cancel()
	var cfg struct {
		N int `live:"env=N; poll=1h"`
	}
	_, err := Bind(ctx, &cfg, WithLookupEnv(newEnv("N", "1").lookup))
	require.Error(t, err)
}
