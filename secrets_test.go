package livebind

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const s1, s2, s3 = "sk-live-AAAA1111", "sk-live-BBBB2222", "sk-live-CCCC3333"
	var logs fixture.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
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
		assert.Equal(t, "[redacted]", x.New)
	}
	out.WriteString(logs.String())
	for _, s := range []string{s1, s2, s3} {
		assert.NotContains(t, out.String(), s)
	}
	assert.Contains(t, out.String(), "[redacted]")
	assert.Equal(t, s3, b2.Get().APIKey, "Get holds the real value")
}

// Regression (first review, fixed in 5a73683): a decode error of a secret
// document quoted the secret (at Bind, in updates, in Reload's error and in
// logs).
func TestSecretParseErrorsHidden(t *testing.T) {
	t.Parallel()
	const secret = "supersecretvalue"
	dir := dirWith(t, "s.toml", "password = \"ok-"+secret+"\"\nuser = \"u\"\n")
	var logs fixture.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
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
	b := mustBind(t, &c, WithLookupEnv(env.lookup), WithLogger(logger))
	rec := record(t, b)
	var out bytes.Buffer
	// At run time: through a file (driver Check) and through Reload.
	writeFile(t, dir, "s.toml", "password = "+secret+"\n")
	for range 3 { // Password, User, Whole
		u := rec.want(t, Error)
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
	out.WriteString(logs.String())
	assert.NotContains(t, out.String(), secret)
}

// Regression (first review, fixed in 5a73683): FieldChange printed a secret
// through %#v, slog and JSON.
func TestFieldChangeRedactsEverywhere(t *testing.T) {
	t.Parallel()
	c := FieldChange[string]{Update: Update{Kind: Updated, Field: "P", Old: redacted, New: redacted, Secret: true}, Old: "old-s3cret", New: "new-s3cret"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "change", c)
	js, err := json.Marshal(c)
	require.NoError(t, err)
	out := fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c) + logs.String() + string(js)
	assert.NotContains(t, out, "s3cret")
	assert.Equal(t, "new-s3cret", c.New, "the typed value itself is real")
}

type dsnCfg struct {
	Password string `live:"env=PW; poll=5ms; secret"`
	DSN      string `live:"env=DSN_TMPL; depends_on=Password; update=FillDSN"`
}

func (c *dsnCfg) FillDSN(tmpl string) error { c.DSN = tmpl + c.Password; return nil }

// Regression (second review, fixed in 2e9fdf7): a field computed from a
// secret (depends_on= with update=) was printed in clear in its updates.
func TestDependantOfSecretIsRedacted(t *testing.T) {
	env := newEnv("PW", "hunter2", "DSN_TMPL", "postgres://app:")
	var cfg dsnCfg
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	rec := record(t, b)
	env.set("PW", "s3cr3t-2")
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Field == "DSN" })
	t.Log(u)
	assert.NotContains(t, u.String(), "s3cr3t-2")
}

func fnvHex(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// Regression (second review, fixed in 2e9fdf7): Status().Sources[i].Version
// and the sealed cache entry carried an unsalted FNV-64a hash of the secret,
// which lets anyone check guesses offline.
func TestSecretVersionIsNotItsHash(t *testing.T) {
	dir := t.TempDir()
	cdir := t.TempDir()
	addr, stop := serveCached(t, "x")
	defer stop()
	writeFile(t, dir, "pw", "hunter2")
	type cfgT struct {
		Token string `live:"http=http://${ADDR}/token; format=text; poll=1h; secret"`
		PW    string `live:"file=${DIR}/pw; secret"`
	}
	seal := func(p []byte) ([]byte, error) { return append([]byte("sealed:"), reverse(p)...), nil }
	open := func(c []byte) ([]byte, error) { return reverse(bytes.TrimPrefix(c, []byte("sealed:"))), nil }
	var cfg cfgT
	b := mustBind(t, &cfg, WithLookupEnv(newEnv("ADDR", addr, "DIR", dir).lookup), WithCache(cdir), WithCacheEncryption(seal, open))
	for _, s := range b.Status().Sources {
		t.Logf("%s version=%s", s.Source, s.Version)
	}
	assert.NotEqual(t, fnvHex("hunter2"), b.Status().Sources[1].Version, "Status must not carry an unsalted FNV of the secret")
	files, _ := filepath.Glob(filepath.Join(cdir, "livebind-*.json"))
	require.Len(t, files, 1)
	raw, _ := os.ReadFile(files[0])
	t.Logf("cache: %s", raw)
	assert.NotContains(t, string(raw), fnvHex(cacheSecret), "sealed entry carries an FNV of the clear secret")
}

// Regression (second review, fixed in 2e9fdf7): a when= expression that
// failed at run time logged its evaluation error, which quoted the value of
// the secret field it read.
func TestConditionErrorDoesNotLogSecret(t *testing.T) {
	env := newEnv("TOKEN", "hunter2", "X", "1")
	var cfg struct {
		Token string `live:"env=TOKEN; secret"`
		X     int    `live:"env=X; when=Token[0:3] == \"abc\" || int(Token) > 0"`
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	_ = mustBind(t, &cfg, WithLookupEnv(env.lookup), WithLogger(log))
	t.Log(buf.String())
	assert.NotContains(t, buf.String(), "hunter2")
}

// One location read by fields with different options (here poll=) gets one
// target per option set, but it is one location: a field's secretlocation
// hides it on every target, and a query parameter is shown only if every
// field of the location declares it safe. B's own target must not name
// the path A declared secret in Status or in its updates.
func TestSecretLocationCoversEveryTargetOfTheLocation(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tenant-acme-corp")
	require.NoError(t, os.Mkdir(dir, 0o700))
	path := writeFile(t, dir, "v.txt", "one")
	env := newEnv("P", path)
	var c struct {
		A string `live:"file=${P}; secretlocation"`
		B string `live:"file=${P}; poll=20ms"`
	}
	b := mustBind(t, &c, WithLookupEnv(env.lookup))
	rec := record(t, b)
	require.Len(t, b.Status().Sources, 2, "the fields' options differ: two targets")
	for _, s := range b.Status().Sources {
		assert.NotContains(t, s.Source, "tenant-acme-corp")
	}
	writeFile(t, dir, "v.txt", "two")
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Field == "B" })
	assert.NotContains(t, u.String(), "tenant-acme-corp")
	assert.Contains(t, u.Source, "[secret location of B]")

	rm := fixture.ServeRemote(t, "n", false)
	type named struct {
		Name string `json:"name"`
	}
	var q struct {
		A named `live:"http=http://${ADDR}/c.json?env=prod&region=eu; safequery=env,region; poll=1h"`
		B named `live:"http=http://${ADDR}/c.json?env=prod&region=eu; safequery=env; poll=2h"`
	}
	b2 := mustBind(t, &q, WithLookupEnv(newEnv("ADDR", rm.Addr).lookup))
	require.Len(t, b2.Status().Sources, 2)
	for _, s := range b2.Status().Sources {
		assert.Contains(t, s.Source, "env=prod")
		assert.NotContains(t, s.Source, "region=eu", "B did not declare region safe")
	}
}

// A scheme's Check runs at Bind on the expanded location, and its error
// names the location (the http driver shows a URL's path). secretlocation
// must hide it there too: in the field's own error, and in the error of
// another field that reads the same location without the option.
func TestSecretLocationHiddenFromBindCheckErrors(t *testing.T) {
	t.Parallel()
	const hook = "S3CRETpath42hook"
	env := newEnv("HOOK", "https://hooks.example.com/services/"+hook+"/c.json")
	var own struct {
		V string `live:"http=${HOOK}; secretlocation; maxbytes=nope"`
	}
	err := bindError(t, &own, env, ErrTag)
	assert.NotContains(t, err.Error(), hook)
	assert.Contains(t, err.Error(), "option maxbytes", "the error still says what is wrong")

	var other struct {
		A string `live:"http=${HOOK}; secretlocation"`
		B string `live:"http=${HOOK}; maxbytes=nope"`
	}
	err = bindError(t, &other, env, ErrTag)
	assert.NotContains(t, err.Error(), hook)
	fe := fieldError(t, err, "B")
	assert.NotContains(t, fe.Error(), hook, "B's FieldError reached with errors.As")
}

// quotingValidate is a configuration whose Validate and update= method
// quote a secret value in their errors, as user code easily does.
type quotingValidate struct {
	Token string `live:"env=TOKEN; secret; poll=5ms"`
	Port  int    `live:"env=PORT; poll=5ms; update=CheckPort"`
}

func (c *quotingValidate) Validate() error {
	if !strings.HasPrefix(c.Token, "sk-") {
		return fmt.Errorf("token %q must start with sk-", c.Token)
	}
	return nil
}

func (c *quotingValidate) CheckPort(p int) error {
	if p == 0 {
		return fmt.Errorf("port 0 with token %s", c.Token)
	}
	c.Port = p
	return nil
}

// Validate and update= methods are user code that can quote a secret
// field's value in their errors. livebind removes the text of every secret
// field's value (the candidate's) from those errors, wherever they go: Bind's
// error, Error updates, Reload's error and the log. The rest of the message
// and errors.Is stay.
func TestValidateErrorQuotingSecretIsScrubbed(t *testing.T) {
	t.Parallel()
	const bad1, bad2, bad3 = "bad-S3CRETval1", "bad-S3CRETval2", "sk-S3CRETval3"
	var logs fixture.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := newEnv("TOKEN", bad1, "PORT", "1")
	var c quotingValidate
	_, err := Bind(t.Context(), &c, WithLookupEnv(env.lookup), WithLogger(logger))
	require.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, err.Error(), "must start with sk-", "the rest of the message stays")
	out := err.Error() + "\n"

	env.set("TOKEN", "sk-ok")
	b := mustBind(t, &c, WithLookupEnv(env.lookup), WithLogger(logger))
	rec := record(t, b)
	env.set("TOKEN", bad2)
	u := rec.want(t, Error)
	require.ErrorIs(t, u.Err, ErrValidation)
	out += fmt.Sprintf("%v %+v %s\n", u, u, u.Err)
	if rerr := b.Reload(t.Context()); rerr != nil {
		out += rerr.Error() + "\n"
	}
	env.set("TOKEN", bad3)
	env.set("PORT", "0")
	u, _ = rec.until(t, wait, func(u Update) bool { return u.Kind == Error && errors.Is(u.Err, ErrUpdate) })
	out += fmt.Sprintf("%v %s\n", u, u.Err)
	assert.Contains(t, u.Err.Error(), "port 0 with token")
	require.NoError(t, b.Close())
	out += logs.String()
	for _, s := range []string{bad1, bad2, bad3} {
		assert.NotContains(t, out, s)
	}
}

// shortSecret has a secret whose value is too short to be worth hiding
// in free text.
type shortSecret struct {
	Region string `live:"env=REGION; secret"`
}

func (c *shortSecret) Validate() error {
	return fmt.Errorf("region %s unknown: use one of europe, us-east", c.Region)
}

// A secret value shorter than 4 bytes is not removed from a Validate error:
// removing "eu" everywhere would take apart "europe" and leave a message
// nobody can read, and hides nothing.
func TestValidateErrorShortSecretLeftAlone(t *testing.T) {
	t.Parallel()
	var c shortSecret
	wantBindErr(t, &c, newEnv("REGION", "eu"), ErrValidation, "region eu unknown: use one of europe, us-east")
}

// apiKey is a secret type of the user's own, decoded by UnmarshalText into
// an unexported field (so that it is not printed by accident).
type apiKey struct{ raw string }

func (k *apiKey) UnmarshalText(b []byte) error { k.raw = string(b); return nil }

// quotingEscapes quotes its secrets the way Validate methods do: %q of a
// password (whose quote and backslash %q escapes), and the text of a
// secret of a type of the user's own.
type quotingEscapes struct {
	Password string `live:"env=PASSWORD; secret"`
	Key      apiKey `live:"env=KEY; secret"`
}

func (c *quotingEscapes) Validate() error {
	return fmt.Errorf("password %q is too weak; key %s is revoked", c.Password, c.Key.raw)
}

// The scrub finds a secret as Validate quotes it with %q (escaped), and
// the value of a secret field whose type keeps it in an unexported field.
func TestValidateErrorQuotedAndOwnTypeSecretsScrubbed(t *testing.T) {
	t.Parallel()
	const pw, key = `S3CRET"pw\42`, "S3CRETkey77"
	var c quotingEscapes
	err := bindError(t, &c, newEnv("PASSWORD", pw, "KEY", key), ErrValidation)
	assert.Contains(t, err.Error(), "is too weak", "the rest of the message stays")
	assert.NotContains(t, err.Error(), "S3CRET")
}

// hiddenKey is a secret type that hides itself when printed, yet whose
// Validate quotes the text it holds.
type hiddenKey struct{ raw string }

func (k *hiddenKey) UnmarshalText(b []byte) error { k.raw = string(b); return nil }
func (k hiddenKey) String() string                { return "[hidden]" }

type quotingHiddenKey struct {
	Key hiddenKey `live:"env=KEY; secret"`
}

func (c *quotingHiddenKey) Validate() error { return fmt.Errorf("key %s is revoked", c.Key.raw) }

// A secret type's own String (here one that hides it) does not stop the
// scrub from finding the text the type holds.
func TestValidateErrorSelfHidingSecretTypeScrubbed(t *testing.T) {
	t.Parallel()
	var c quotingHiddenKey
	err := bindError(t, &c, newEnv("KEY", "S3CRETkey88"), ErrValidation)
	assert.NotContains(t, err.Error(), "S3CRET")
	assert.Contains(t, err.Error(), "is revoked")
}

// A field that declares secretlocation but whose own options are wrong
// still hides the location from the error of another field that reads it
// without the option.
func TestSecretLocationHiddenWhenItsFieldsOptionsFail(t *testing.T) {
	t.Parallel()
	const hook = "S3CRETpath43hook"
	env := newEnv("HOOK", "https://hooks.example.com/services/"+hook+"/c.json")
	var c struct {
		A string `live:"http=${HOOK}; secretlocation; poll=nope"`
		B string `live:"http=${HOOK}; maxbytes=nope"`
	}
	err := bindError(t, &c, env, ErrTag)
	assert.NotContains(t, err.Error(), hook)
	assert.Contains(t, err.Error(), "poll", "A's own error is still there")
}

// The file driver reports the path it opened: cleaned, and joined to the
// working directory when relative. A secretlocation written in another
// form (a "./", a doubled slash, a relative path) must be hidden in that
// form too: Bind's error about a directory at the location named it.
func TestSecretLocationHiddenAsTheDriverShowsIt(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "acme", "tok"), 0o700)) // a directory: the read fails
	t.Chdir(dir)
	for _, loc := range []string{dir + "/./acme//tok", "./acme//tok", "acme/tok"} {
		var c struct {
			V string `live:"file=${P}; secretlocation"`
		}
		err := bindError(t, &c, newEnv("P", loc), ErrSource)
		t.Log(err)
		assert.NotContains(t, err.Error(), "acme", "location %q", loc)
		assert.NotContains(t, err.Error(), "tok", "location %q", loc)
	}
	// A name that is not printable UTF-8 is quoted by the driver
	// (sources.ShowPath): it is hidden in that form too.
	for _, name := range []string{"acme\ntokenpart", "acme\xfftokenpart"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name, "tok"), 0o700))
		var c struct {
			V string `live:"file=${P}; secretlocation"`
		}
		err := bindError(t, &c, newEnv("P", filepath.Join(dir, name, "tok")), ErrSource)
		t.Logf("%q", err)
		assert.NotContains(t, err.Error(), "acme", "location %q", name)
		assert.NotContains(t, err.Error(), "tokenpart", "location %q", name)
	}
}
