package livebind

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type appSettings struct {
	Name    string        `toml:"name"`
	Workers int           `toml:"workers"`
	Timeout time.Duration `toml:"timeout"`
}

type issueConfig struct {
	Settings    appSettings `live:"file=${CONFIG_DIR:-.}/app.toml; debounce=30ms"`
	Port        int         `live:"file=${CONFIG_DIR:-.}/app.yaml; key=server.port; default=8080"`
	DatabaseURL string      `live:"env=DATABASE_URL; required; poll=10ms"`
	APIKey      string      `live:"env=API_KEY; secret; poll=10ms"`
	Untagged    string
}

func bindIssueConfig(t *testing.T) (*Binding[issueConfig], *testEnv, string, *issueConfig) {
	t.Helper()
	dir := dirWith(t, "app.toml", "name = \"svc\"\nworkers = 4\ntimeout = \"2s\"\n")
	env := newEnv("CONFIG_DIR", dir, "DATABASE_URL", "postgres://db", "API_KEY", "k-0001-secret")
	cfg := &issueConfig{Untagged: "kept"}
	b, err := Bind(t.Context(), cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return b, env, dir, cfg
}

func TestBindLoadsEveryField(t *testing.T) {
	t.Parallel()
	b, _, _, cfg := bindIssueConfig(t)
	want := issueConfig{
		Settings:    appSettings{Name: "svc", Workers: 4, Timeout: 2 * time.Second},
		Port:        8080, // app.yaml is missing: the default applies
		DatabaseURL: "postgres://db",
		APIKey:      "k-0001-secret",
		Untagged:    "kept",
	}
	assert.Equal(t, want, *cfg)
	assert.Equal(t, want, *b.Get())
	assert.Equal(t, uint64(1), gen(b))
}

func TestBindReportsEveryProblem(t *testing.T) {
	t.Parallel()
	type bad struct {
		A int    `live:"env=A; debounc=1s"`
		B int    `live:"file=b.toml; env=B"`
		c int    `live:"env=C"`
		D int    `live:"env=D; poll=fast"`
		E int    `live:"nosuch=x"`
		F int    `live:"env=F; required; default=1"`
		G int    `live:"env=G; secret=yes"`
		H int    `live:"env=H; when=A >>> 1"`
		I string `live:"file=i.toml; wait=2m"`
	}
	var cfg bad
	_ = cfg.c
	_, err := Bind(t.Context(), &cfg)
	require.Error(t, err)
	require.ErrorIs(t, err, ErrTag)
	require.ErrorIs(t, err, ErrScheme)
	msg := err.Error()
	for _, want := range []string{
		"field A: option debounc: invalid live tag: unknown option for env sources (did you mean debounce?)",
		"field B: option env: invalid live tag: a field takes exactly one source; env= is a second one after file=",
		"field c: ",
		"unexported",
		"field D: option poll: ",
		`invalid duration "fast"`,
		`field E: unknown source scheme "nosuch"`,
		"field F: option default: ",
		"field G: option secret: ",
		"field H: option when: invalid live tag: \"A >>> 1\" does not compile",
		"field I: option wait: ",
	} {
		assert.Contains(t, msg, want)
	}
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
}

func TestBindStartFailures(t *testing.T) {
	t.Parallel()
	dir := dirWith(t, "bad.toml", "x = ")
	type cfg struct {
		Req  string          `live:"env=REQ; required"`
		Bad  struct{ X int } `live:"file=${DIR}/bad.toml"`
		Num  int             `live:"env=NUM"`
		Gone int             `live:"file=${DIR}/missing.toml; key=a; required"`
	}
	var c cfg
	_, err := Bind(t.Context(), &c, WithLookupEnv(newEnv("DIR", dir, "NUM", "NaN").lookup))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrRequired)
	assert.ErrorIs(t, err, ErrDecode)
	for _, want := range []string{"field Req (env:REQ)", "field Bad (file:", "field Num (env:NUM)", "field Gone ("} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, cfg{}, c, "*dst untouched when Bind fails")
}

func TestBindRejectsNonStruct(t *testing.T) {
	t.Parallel()
	n := 1
	_, err := Bind(t.Context(), &n)
	require.Error(t, err)
	var nilCfg *issueConfig
	_, err = Bind(t.Context(), nilCfg)
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrTag))
}

// Regression (first review, fixed in 5a73683): Bind with an already canceled
// context started watchers and returned a Binding.
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

func TestPlanIsCachedPerType(t *testing.T) {
	t.Parallel()
	p1 := planFor(reflect.TypeFor[issueConfig]())
	p2 := planFor(reflect.TypeFor[issueConfig]())
	assert.Same(t, p1, p2)
	assert.Len(t, p1.fields, 4)
	assert.Equal(t, []int{0}, p1.fields[0].index)
}

func TestNestedFieldPaths(t *testing.T) {
	t.Parallel()
	type db struct {
		Password string `live:"env=DB_PASSWORD; secret"`
		Host     string `live:"env=DB_HOST; default=localhost"`
	}
	var cfg struct {
		DB db
	}
	b := mustBind(t, &cfg, WithLookupEnv(newEnv("DB_PASSWORD", "pw").lookup))
	assert.Equal(t, "localhost", b.Get().DB.Host)
	_, err := WatchField(b, "DB.Password", func(FieldChange[string]) {})
	require.NoError(t, err)

	var ptr struct {
		DB *db
	}
	_, err = Bind(t.Context(), &ptr)
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "pointer field")
}

// TestUntaggedFieldsAreCopiedShallowly: untagged fields are the caller's and
// are copied as they are, shallowly, never walked. The first review (fixed in
// 5a73683) had made Bind deep-copy them so that mutating *dst after Bind could
// not reach the snapshot; issue 10 showed that walking objects the library
// does not own races with a live *http.Client and overflows the stack on a
// cycle, so the rule is now: a map in an untagged field is shared with *dst,
// while tagged fields are not (see hostile_snapshot_test.go).
func TestUntaggedFieldsAreCopiedShallowly(t *testing.T) {
	t.Parallel()
	cfg := struct {
		N     int `live:"env=N; poll=1h"`
		Extra map[string]string
	}{Extra: map[string]string{"k": "v"}}
	b := mustBind(t, &cfg, WithLookupEnv(newEnv("N", "1").lookup))
	assert.Equal(t, reflect.ValueOf(cfg.Extra).Pointer(), reflect.ValueOf(b.Get().Extra).Pointer(), "the same map, not a copy")
}

func TestDstIsIndependentOfSnapshots(t *testing.T) {
	t.Parallel()
	var cfg struct {
		Tags []string `live:"env=TAGS"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(newEnv("TAGS", "a,b").lookup))
	cfg.Tags[0] = "mutated"
	assert.Equal(t, []string{"a", "b"}, b.Get().Tags)
}

// TestSnapshotsAreWholeGenerations runs 8 readers while 1,000 generations
// apply; two fields decoded from one document must always be equal.
func TestSnapshotsAreWholeGenerations(t *testing.T) {
	t.Parallel()
	type pair struct {
		A int `live:"env=PAIR; format=json; key=a; poll=1h"`
		B int `live:"env=PAIR; format=json; key=b; poll=1h"`
	}
	env := newEnv("PAIR", `{"a": 0, "b": 0}`)
	var cfg pair
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	var torn, reads atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			last := -1
			for {
				select {
				case <-done:
					return
				default:
				}
				s := b.Get()
				if s.A != s.B || s.A < last {
					torn.Add(1)
				}
				last = s.A
				reads.Add(1)
			}
		})
	}
	for i := 1; i <= 1000; i++ {
		env.set("PAIR", fmt.Sprintf(`{"a": %d, "b": %d}`, i, i))
		require.NoError(t, b.Reload(t.Context()))
	}
	close(done)
	wg.Wait()
	assert.Zero(t, torn.Load())
	assert.Equal(t, 1000, b.Get().A)
	assert.Equal(t, uint64(1001), gen(b))
	t.Logf("%d reads", reads.Load())
}

func TestCloseIsIdempotentAndConcurrent(t *testing.T) {
	t.Parallel()
	b, _, _, _ := bindIssueConfig(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { assert.NoError(t, b.Close()) })
	}
	wg.Wait()
	unsub := onChange(b, func(Update) {})
	unsub()
}
