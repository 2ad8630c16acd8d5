package livebind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const wait = 5 * time.Second // upper bound for anything that should happen

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
	dir := t.TempDir()
	writeFile(t, dir, "app.toml", "name = \"svc\"\nworkers = 4\ntimeout = \"2s\"\n")
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
	assert.Equal(t, uint64(1), b.Generation())
}

func TestFileUpdates(t *testing.T) {
	t.Parallel()
	b, _, dir, _ := bindIssueConfig(t)
	rec := record(t, b)

	writeFile(t, dir, "app.toml", "name = \"svc2\"\nworkers = 4\ntimeout = \"2s\"\n")
	u := rec.next(t, wait)
	assert.Equal(t, Updated, u.Kind)
	assert.Equal(t, "Settings", u.Field)
	assert.Equal(t, "file:"+filepath.Join(dir, "app.toml"), u.Source)
	assert.Equal(t, "svc", u.Old.(appSettings).Name)
	assert.Equal(t, "svc2", u.New.(appSettings).Name)
	assert.Equal(t, uint64(2), u.Gen)
	assert.Equal(t, "svc2", b.Get().Settings.Name)

	// The YAML file appears: its key is Added.
	writeFile(t, dir, "app.yaml", "server:\n  port: 9090\n")
	u = rec.next(t, wait)
	assert.Equal(t, Added, u.Kind)
	assert.Equal(t, "Port", u.Field)
	assert.Equal(t, 9090, b.Get().Port)

	// The key disappears from the document: back to the default.
	writeFile(t, dir, "app.yaml", "server:\n  host: x\n")
	u = rec.next(t, wait)
	assert.Equal(t, Updated, u.Kind)
	assert.Equal(t, 8080, u.New)
	assert.Equal(t, 8080, b.Get().Port)
}

func TestFileBadInputKeepsLastGood(t *testing.T) {
	t.Parallel()
	b, _, dir, _ := bindIssueConfig(t)
	rec := record(t, b)
	good := *b.Get()
	for _, tc := range []struct {
		name, data string
		want       error
	}{
		{name: "syntax", data: "name = \n", want: ErrDecode},
		{name: "wrong-type", data: "workers = \"many\"\n", want: ErrDecode},
		{name: "empty", data: "", want: ErrEmpty},
	} {
		writeFile(t, dir, "app.toml", tc.data)
		u := rec.next(t, wait)
		require.Equal(t, Error, u.Kind, tc.name)
		assert.ErrorIs(t, u.Err, tc.want, tc.name)
		var fe *FieldError
		require.ErrorAs(t, u.Err, &fe, tc.name)
		assert.Equal(t, "Settings", fe.Field)
		assert.Contains(t, fe.Source, "app.toml")
		assert.Equal(t, good, *b.Get(), "%s: last good value kept", tc.name)
		assert.Equal(t, uint64(1), u.Gen)
	}
	writeFile(t, dir, "app.toml", "name = \"fixed\"\n")
	u := rec.next(t, wait)
	assert.Equal(t, Updated, u.Kind)
	assert.Equal(t, "fixed", b.Get().Settings.Name)
}

func TestFileRemovedThenBack(t *testing.T) {
	t.Parallel()
	b, _, dir, _ := bindIssueConfig(t)
	rec := record(t, b)
	path := filepath.Join(dir, "app.toml")
	require.NoError(t, os.Remove(path))
	u := rec.next(t, wait)
	assert.Equal(t, Removed, u.Kind)
	assert.Equal(t, "svc", b.Get().Settings.Name, "value kept while the file is gone")

	writeFile(t, dir, "app.toml", "name = \"back\"\n")
	u = rec.next(t, wait)
	assert.Equal(t, Added, u.Kind)
	assert.Equal(t, "back", b.Get().Settings.Name)
}

// TestFileNeverPublishesPartialWrites truncates the file, then writes an
// unparsable first half, pauses longer than the debounce and writes the
// rest, several times, while a reader checks that Get never shows an empty
// or partial value. (A prefix that happens to be a valid document cannot be
// told from a finished one by anybody; docs/ says so.)
func TestFileNeverPublishesPartialWrites(t *testing.T) {
	t.Parallel()
	b, _, dir, _ := bindIssueConfig(t)
	rec := record(t, b)
	path := filepath.Join(dir, "app.toml")
	var bad atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s := b.Get().Settings; s.Name == "" || s.Workers == 0 {
				bad.Add(1)
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
	for i := range 5 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o644)
		require.NoError(t, err)
		time.Sleep(10 * time.Millisecond) // empty for less than debounce=30ms
		_, err = fmt.Fprintf(f, "name = \"v%d", i)
		require.NoError(t, err)
		time.Sleep(40 * time.Millisecond) // half-written for more than the debounce
		_, err = f.WriteString("\"\nworkers = 2\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		u, seen := rec.until(t, wait, func(u Update) bool { return u.Kind == Updated })
		assert.Equal(t, fmt.Sprintf("v%d", i), u.New.(appSettings).Name)
		assert.Equal(t, 2, u.New.(appSettings).Workers)
		for _, s := range seen { // only a very slow machine exhausts the retries
			assert.Equal(t, Error, s.Kind, "no intermediate value: %v", s)
		}
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, bad.Load(), "Get showed an empty or partial value")
}

func TestFileAtomicRenameSave(t *testing.T) {
	t.Parallel()
	b, _, dir, _ := bindIssueConfig(t)
	rec := record(t, b)
	path := filepath.Join(dir, "app.toml")
	tmp := writeFile(t, dir, ".app.toml.swp", "name = \"renamed\"\n")
	require.NoError(t, os.Rename(tmp, path))
	u := rec.next(t, wait)
	assert.Equal(t, Updated, u.Kind)
	assert.Equal(t, "renamed", b.Get().Settings.Name)
	rec.quiet(t, 150*time.Millisecond)
}

// TestKubernetesConfigMap builds the layout kubelet's atomic writer makes
// and swaps ..data the way it does.
func TestKubernetesConfigMap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mkGen := func(name, data string) {
		require.NoError(t, os.Mkdir(filepath.Join(dir, name), 0o755))
		writeFile(t, filepath.Join(dir, name), "app.toml", data)
	}
	mkGen("..2026_11_27_10_00_00.000000001", "name = \"one\"\n")
	require.NoError(t, os.Symlink("..2026_11_27_10_00_00.000000001", filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink("..data/app.toml", filepath.Join(dir, "app.toml")))

	var cfg struct {
		Settings appSettings `live:"file=${DIR}/app.toml"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DIR", dir).lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	assert.Equal(t, "one", b.Get().Settings.Name)

	mkGen("..2026_11_27_10_01_00.000000002", "name = \"two\"\n")
	require.NoError(t, os.Symlink("..2026_11_27_10_01_00.000000002", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "..2026_11_27_10_00_00.000000001")))
	u := rec.next(t, wait)
	assert.Equal(t, Updated, u.Kind)
	assert.Equal(t, "two", b.Get().Settings.Name)
}

func TestEnvUpdates(t *testing.T) {
	t.Parallel()
	b, env, _, _ := bindIssueConfig(t)
	rec := record(t, b)
	env.set("DATABASE_URL", "postgres://db2")
	u := rec.next(t, wait)
	assert.Equal(t, Updated, u.Kind)
	assert.Equal(t, "postgres://db2", u.New)
	env.unset("DATABASE_URL")
	u = rec.next(t, wait)
	assert.Equal(t, Removed, u.Kind)
	assert.Equal(t, "postgres://db2", b.Get().DatabaseURL, "value kept")
	env.set("DATABASE_URL", "postgres://db3")
	u = rec.next(t, wait)
	assert.Equal(t, Added, u.Kind)
	assert.Equal(t, "postgres://db3", b.Get().DatabaseURL)
}

func TestEnvFileConvention(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := writeFile(t, dir, "db_password", "hunter2-initial\n")
	var cfg struct {
		Password string `live:"env=DB_PASSWORD; secret"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DB_PASSWORD_FILE", secretFile).lookup))
	require.NoError(t, err)
	defer b.Close()
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
	dir := t.TempDir()
	writeFile(t, dir, "bad.toml", "x = ")
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
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)

	// Raising both bounds: MIN first makes an invalid pair.
	env.set("MIN", "20")
	u := rec.next(t, wait)
	require.Equal(t, Error, u.Kind)
	assert.ErrorIs(t, u.Err, ErrValidation)
	assert.Contains(t, u.Err.Error(), "min 20 > max 10")
	assert.Equal(t, validated{Min: 1, Max: 10}, *b.Get(), "rejected generation not published")

	env.set("MAX", "30")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Kind == Updated && u.Field == "Max" })
	assert.Equal(t, validated{Min: 20, Max: 30}, *b.Get(), "the pending MIN is applied with MAX")

	_, err = Bind(t.Context(), &validated{}, WithLookupEnv(newEnv("MIN", "5", "MAX", "1").lookup))
	require.ErrorIs(t, err, ErrValidation)
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
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
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
	assert.Equal(t, uint64(1001), b.Generation())
	t.Logf("%d reads", reads.Load())
}

func TestReloadReportsErrors(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "1")
	var cfg struct {
		N int `live:"env=N; poll=1h"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	env.set("N", "two")
	err = b.Reload(t.Context())
	require.ErrorIs(t, err, ErrDecode)
	assert.Equal(t, 1, b.Get().N)
	env.set("N", "2")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, 2, b.Get().N)
	require.NoError(t, b.Close())
	require.ErrorIs(t, b.Reload(t.Context()), ErrClosed)
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const s1, s2, s3 = "sk-live-AAAA1111", "sk-live-BBBB2222", "sk-live-CCCC3333"
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := newEnv("API_KEY", s1, "API_PORT", "1")
	var cfg struct {
		APIKey string `live:"env=API_KEY; secret; poll=5ms"`
		Limit  int    `live:"env=API_KEY; secret; poll=5ms; default=3"` // a secret that fails to decode
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup), WithLogger(logger))
	require.Error(t, err, "the secret does not decode into an int")
	assert.NotContains(t, err.Error(), s1)

	var ok struct {
		APIKey string `live:"env=API_KEY; secret; poll=5ms"`
		Port   int    `live:"env=API_PORT; poll=5ms"`
	}
	b2, err := Bind(t.Context(), &ok, WithLookupEnv(env.lookup), WithLogger(logger))
	require.NoError(t, err)
	_ = b
	rec := record(t, b2)
	env.set("API_KEY", s2)
	u := rec.next(t, wait)
	env.set("API_KEY", s3)
	u2 := rec.next(t, wait)
	require.NoError(t, b2.Close())

	var out strings.Builder
	for _, x := range []Update{u, u2} {
		fmt.Fprintf(&out, "%v|%+v|%#v|%s|%q|%v|%v\n", x, x, x, x, x, x.Old, x.New)
		assert.True(t, x.Secret)
		assert.Equal(t, Redacted{}, x.New)
	}
	logMu.Lock()
	out.Write(logs.Bytes())
	logMu.Unlock()
	for _, s := range []string{s1, s2, s3} {
		assert.NotContains(t, out.String(), s)
	}
	assert.Contains(t, out.String(), "[redacted]")
	assert.Equal(t, s3, b2.Get().APIKey, "Get holds the real value")
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestWatchFieldChecksTypeAndPath(t *testing.T) {
	t.Parallel()
	b, _, _, _ := bindIssueConfig(t)
	_, err := WatchField(b, "Port", func(FieldChange[string]) {})
	require.ErrorIs(t, err, ErrFieldType)
	assert.Contains(t, err.Error(), "field is int, watcher wants string")
	_, err = WatchField(b, "Prot", func(FieldChange[int]) {})
	require.ErrorIs(t, err, ErrUnknownField)
	unsub, err := WatchField(b, "Port", func(FieldChange[int]) {})
	require.NoError(t, err)
	unsub()
	unsub() // idempotent
}

func TestSlowSubscriberGetsDropNotice(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "0")
	var cfg struct {
		N int `live:"env=N; poll=1h"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup), WithBuffer(3))
	require.NoError(t, err)
	defer b.Close()
	release := make(chan struct{})
	got := make(chan Update, 100)
	b.OnChange(func(u Update) {
		<-release
		got <- u
	})
	for i := 1; i <= 10; i++ {
		env.set("N", fmt.Sprint(i))
		start := time.Now()
		require.NoError(t, b.Reload(t.Context()))
		assert.Less(t, time.Since(start), time.Second, "a blocked subscriber must not stall the applier")
		assert.Equal(t, i, b.Get().N, "Get is not delayed by the subscriber")
	}
	close(release)
	var seen []Update
	for len(seen) < 5 {
		select {
		case u := <-got:
			seen = append(seen, u)
		case <-time.After(wait):
			t.Fatalf("got %v", seen)
		}
	}
	// The first update was being delivered when the buffer filled; of the
	// nine after it, six were dropped and the newest three kept.
	assert.Equal(t, 1, seen[0].New)
	var de *DroppedError
	require.ErrorAs(t, seen[1].Err, &de)
	assert.Equal(t, 6, de.Count)
	assert.ErrorIs(t, seen[1].Err, ErrDropped)
	assert.Equal(t, []any{8, 9, 10}, []any{seen[2].New, seen[3].New, seen[4].New})
}

func TestUpdatesChannelAndCancel(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "0")
	var cfg struct {
		N int `live:"env=N; poll=5ms"`
	}
	ctx, cancel := context.WithCancel(t.Context())
	b, err := Bind(ctx, &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	ch := b.Updates()
	assert.Equal(t, ch, b.Updates(), "one stream")
	env.set("N", "1")
	select {
	case u := <-ch:
		assert.Equal(t, 1, u.New)
	case <-time.After(wait):
		t.Fatal("no update")
	}
	cancel() // same as Close
	deadline := time.After(wait)
	for open := true; open; {
		select {
		case _, open = <-ch:
		case <-deadline:
			t.Fatal("Updates not closed after the Bind context was canceled")
		}
	}
	require.NoError(t, b.Close())
	assert.Equal(t, 1, b.Get().N, "Get still works after Close")
}

func TestCloseIsIdempotentAndConcurrent(t *testing.T) {
	t.Parallel()
	b, _, _, _ := bindIssueConfig(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { assert.NoError(t, b.Close()) })
	}
	wg.Wait()
	unsub := b.OnChange(func(Update) {})
	unsub()
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
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DB_PASSWORD", "pw").lookup))
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "localhost", b.Get().DB.Host)
	_, err = WatchField(b, "DB.Password", func(FieldChange[string]) {})
	require.NoError(t, err)

	var ptr struct {
		DB *db
	}
	_, err = Bind(t.Context(), &ptr)
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "pointer field")
}

func TestDstIsIndependentOfSnapshots(t *testing.T) {
	t.Parallel()
	var cfg struct {
		Tags []string `live:"env=TAGS"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("TAGS", "a,b").lookup))
	require.NoError(t, err)
	defer b.Close()
	cfg.Tags[0] = "mutated"
	assert.Equal(t, []string{"a", "b"}, b.Get().Tags)
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
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	env.set("MIN", "50")
	u := rec.next(t, wait)
	require.Equal(t, Error, u.Kind)
	require.Equal(t, "Min", u.Field)
	env.set("OTHER", "b")
	u = rec.next(t, wait)
	assert.Equal(t, Updated, u.Kind)
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

// TestThrottleAndDebounceOnEnv puts the generic gate in front of a source
// that does not debounce itself, in a synctest bubble so that the counts are
// exact: a burst of 100 changes 5ms apart.
func TestThrottleAndDebounceOnEnv(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newEnv("T", "0", "D", "0")
		var cfg struct {
			T int `live:"env=T; poll=2ms; throttle=300ms; burst=2"`
			D int `live:"env=D; poll=2ms; debounce=100ms"`
		}
		b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
		require.NoError(t, err)
		defer b.Close()
		var tGot, dGot []int
		var mu sync.Mutex
		b.OnChange(func(u Update) {
			mu.Lock()
			defer mu.Unlock()
			switch u.Field {
			case "T":
				tGot = append(tGot, u.New.(int))
			case "D":
				dGot = append(dGot, u.New.(int))
			}
		})
		time.Sleep(time.Millisecond) // off the poll ticks: no two events at one instant
		for i := 1; i <= 100; i++ {
			env.set("T", strconv.Itoa(i))
			env.set("D", strconv.Itoa(i))
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		// Throttle: two tokens pass the first two changes at once, the rest
		// coalesce into the latest value when the next token frees.
		// 100 changes over 500ms: the next token frees after ~300ms, at the
		// same instant as a poll (so value 60 or 61), the one after when the
		// burst is over: 4 deliveries, the last one final.
		require.Len(t, tGot, 4)
		assert.Equal(t, []int{1, 2}, tGot[:2])
		assert.Contains(t, []int{60, 61}, tGot[2])
		assert.Equal(t, 100, tGot[3])
		// Debounce: changes 5ms apart never leave 100ms of quiet until the end.
		assert.Equal(t, []int{100}, dGot)
		assert.Equal(t, 100, b.Get().T)
	})
}

// TestFileParentDirectoryRecreated removes the directory holding the file
// and creates it again, with a new file.
func TestFileParentDirectoryRecreated(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "conf")
	require.NoError(t, os.Mkdir(dir, 0o755))
	writeFile(t, dir, "app.toml", "name = \"one\"\n")
	var cfg struct {
		Settings appSettings `live:"file=${DIR}/app.toml"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DIR", dir).lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	require.NoError(t, os.RemoveAll(dir))
	u := rec.next(t, wait)
	assert.Equal(t, Removed, u.Kind)
	assert.Equal(t, "one", b.Get().Settings.Name)
	require.NoError(t, os.Mkdir(dir, 0o755))
	writeFile(t, dir, "app.toml", "name = \"two\"\n")
	u = rec.next(t, wait)
	assert.Equal(t, Added, u.Kind)
	assert.Equal(t, "two", b.Get().Settings.Name)
	rec.quiet(t, 100*time.Millisecond)
}

// TestFilePollMode watches with poll= instead of inotify.
func TestFilePollMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "app.json", `{"name": "one"}`)
	var cfg struct {
		Name string `live:"file=${DIR}/app.json; key=name; poll=20ms"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DIR", dir).lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	writeFile(t, dir, "app.json", `{"name": "two"}`)
	u := rec.next(t, wait)
	assert.Equal(t, Updated, u.Kind)
	assert.Equal(t, "two", u.New)
	require.NoError(t, os.Remove(filepath.Join(dir, "app.json")))
	assert.Equal(t, Removed, rec.next(t, wait).Kind)
	writeFile(t, dir, "app.json", `{"name": "three"}`)
	u = rec.next(t, wait)
	assert.Equal(t, Added, u.Kind)
	assert.Equal(t, "three", b.Get().Name)
}

// TestSharedFileOneTarget binds several keys of one file: one target, one
// generation per change.
func TestSharedFileOneTarget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "app.yaml", "a: 1\nb: 1\nc: x\n")
	var cfg struct {
		A int    `live:"file=${DIR}/app.yaml; key=a"`
		B int    `live:"file=${DIR}/app.yaml; key=b"`
		C string `live:"file=${DIR}/app.yaml; key=c"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("DIR", dir).lookup))
	require.NoError(t, err)
	defer b.Close()
	assert.Len(t, b.targets, 1)
	rec := record(t, b)
	writeFile(t, dir, "app.yaml", "a: 2\nb: 2\nc: x\n")
	u1, u2 := rec.next(t, wait), rec.next(t, wait)
	assert.Equal(t, []string{"A", "B"}, []string{u1.Field, u2.Field})
	assert.Equal(t, uint64(2), u1.Gen)
	assert.Equal(t, uint64(2), u2.Gen, "one generation for both fields")
	rec.quiet(t, 150*time.Millisecond) // C did not change: no update
}

// TestSameBadValueReportedOnce: a bad value seen again (a watch and a Reload
// reading the same bytes) is one Error update, but Reload still reports it.
func TestSameBadValueReportedOnce(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "1")
	var cfg struct {
		N int `live:"env=N; poll=1h"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	rec := record(t, b)
	env.set("N", "x")
	require.ErrorIs(t, b.Reload(t.Context()), ErrDecode)
	require.ErrorIs(t, b.Reload(t.Context()), ErrDecode, "still failing")
	assert.Equal(t, Error, rec.next(t, wait).Kind)
	rec.quiet(t, 50*time.Millisecond)
	env.set("N", "y")
	require.ErrorIs(t, b.Reload(t.Context()), ErrDecode)
	assert.Equal(t, Error, rec.next(t, wait).Kind, "a different bad value is reported")
}

// TestMaxWaitCapsADrip: a change every 20ms would postpone a 100ms debounce
// forever; maxwait=300ms forces an update at least that often.
func TestMaxWaitCapsADrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newEnv("M", "0")
		var cfg struct {
			M int `live:"env=M; poll=1ms; debounce=100ms; maxwait=300ms"`
		}
		b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
		require.NoError(t, err)
		defer b.Close()
		start := time.Now()
		var at []time.Duration
		var mu sync.Mutex
		b.OnChange(func(Update) { mu.Lock(); at = append(at, time.Since(start)); mu.Unlock() })
		for i := 1; i <= 50; i++ { // 1s of drip
			env.set("M", strconv.Itoa(i))
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		require.GreaterOrEqual(t, len(at), 4, "at least one update per maxwait during the drip: %v", at)
		// A burst starts at the first change after a delivery, so two
		// deliveries are at most maxwait + one drip interval + one poll apart.
		for i := 1; i < len(at)-1; i++ {
			assert.LessOrEqual(t, at[i]-at[i-1], 300*time.Millisecond+20*time.Millisecond+2*time.Millisecond, "gap %d: %v", i, at)
		}
		assert.Equal(t, 50, b.Get().M)
	})
}
