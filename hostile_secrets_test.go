package livebind

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// syncBuffer collects output written from several goroutines.
type syncBuffer = fixture.Buffer

// assertNoSecret checks every way an update can be printed.
func assertNoSecret(t *testing.T, u Update, secrets ...string) {
	t.Helper()
	js, err := json.Marshal(u)
	require.NoError(t, err)
	errText := ""
	if u.Err != nil {
		errText = u.Err.Error()
	}
	for _, s := range secrets {
		for _, out := range []string{u.String(), fmt.Sprintf("%v", u), fmt.Sprintf("%+v", u), fmt.Sprintf("%#v", u), string(js), errText} {
			assert.NotContains(t, out, s, "update %s", u.Field)
		}
	}
}

type wholeDocAndSecretKey struct {
	// The whole document, with options (debounce=) that give it a target of
	// its own...
	Doc map[string]any `live:"file=${DIR}/app.toml; debounce=5ms"`
	// ...and a secret key of the same file.
	Token string `live:"file=${DIR}/app.toml; key=token; secret"`
	// A key beside the secret stays visible.
	Port int `live:"file=${DIR}/app.toml; key=port"`
}

// Issue 10 §6: secrecy is decided per source document. A whole-document
// field with debounce= reading the same file as a secret key printed the
// key's old and new values in updates and Debug logs.
func TestHostileSecretWholeDocumentWithOtherOptions(t *testing.T) {
	t.Parallel()
	const old, rotated, broken = "tok-OLD-s3cr3t", "tok-NEW-s3cr3t", "tok-BROKEN-s3cr3t"
	dir := dirWith(t, "app.toml", fmt.Sprintf("token = %q\nport = 1\n", old))
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var cfg wholeDocAndSecretKey
	b := mustBind(t, &cfg, WithLookupEnv(newEnv("DIR", dir).lookup), WithLogger(logger))
	require.Len(t, b.targets, 2, "Doc and Token/Port read one file through two targets")
	assert.Equal(t, old, b.Get().Doc["token"], "Get holds the real value")
	rec := record(t, b)

	writeFile(t, dir, "app.toml", fmt.Sprintf("token = %q\nport = 2\n", rotated))
	seen := map[string]Update{}
	for len(seen) < 3 {
		u := rec.next(t, wait)
		seen[u.Field] = u
	}
	for field, u := range seen {
		assertNoSecret(t, u, old, rotated)
		if field == "Port" {
			assert.Equal(t, 2, u.New, "a key that does not overlap the secret is not redacted")
			assert.False(t, u.Secret)
			continue
		}
		assert.True(t, u.Secret, field)
		assert.Equal(t, "[redacted]", u.New, field)
		assert.Equal(t, "[redacted]", u.Old, field)
	}

	// A document that no longer parses: its error may quote the line that
	// holds the secret. Every field of the document reports it without it.
	writeFile(t, dir, "app.toml", fmt.Sprintf("token = %q\nport = = 3 %s\n", broken, broken))
	errs := map[string]Update{}
	for len(errs) < 3 {
		u := rec.next(t, wait)
		require.Equal(t, Error, u.Kind, "%v", u)
		errs[u.Field] = u
	}
	for _, u := range errs {
		require.ErrorIs(t, u.Err, ErrDecode)
		assertNoSecret(t, u, old, rotated, broken)
	}
	rerr := b.Reload(t.Context())
	require.Error(t, rerr)
	for _, s := range []string{old, rotated, broken} {
		assert.NotContains(t, rerr.Error(), s)
	}
	st := b.Status()
	for _, s := range st.Sources {
		for _, x := range []string{old, rotated, broken} {
			assert.NotContains(t, s.LastError, x)
		}
		assert.Empty(t, s.Version, "a content hash of a secret document is not shown")
	}
	secret := map[string]bool{}
	for _, f := range st.Fields {
		secret[f.Field] = f.Secret
	}
	assert.Equal(t, map[string]bool{"Doc": true, "Token": true, "Port": false}, secret)

	out := logs.String()
	assert.Contains(t, out, "update applied", "the Debug log was captured")
	for _, s := range []string{old, rotated, broken} {
		assert.NotContains(t, out, s)
	}
}

// A bad document at Bind: the error names the field but not the secret.
func TestHostileSecretBindParseError(t *testing.T) {
	t.Parallel()
	const s = "tok-BIND-s3cr3t"
	dir := dirWith(t, "app.toml", fmt.Sprintf("token = %q\nport = = %s\n", s, s))
	var cfg wholeDocAndSecretKey
	err := bindError(t, &cfg, newEnv("DIR", dir), ErrDecode)
	assert.Contains(t, err.Error(), "field Doc (file:")
	assert.NotContains(t, err.Error(), s)
}

// The other direction: a secret whole document makes the keys read from it
// secret too, and a secret subtree its keys; a field whose key contains a
// secret key is secret; unrelated documents are not.
func TestHostileSecretSpreadsWithinDocument(t *testing.T) {
	t.Parallel()
	const pw, pw2 = "pw-ONE-s3cr3t", "pw-TWO-s3cr3t"
	dir := t.TempDir()
	doc := "[db]\nuser = \"app\"\npassword = %q\n[server]\nport = %d\n"
	writeFile(t, dir, "db.toml", fmt.Sprintf(doc, pw, 1))
	writeFile(t, dir, "other.toml", "[db]\nuser = \"visible\"\n")
	var cfg struct {
		All struct {
			DB struct{ User, Password string }
		} `live:"file=${DIR}/db.toml; secret"`
		User   string            `live:"file=${DIR}/db.toml; key=db.user; debounce=1ms"`
		DB     map[string]string `live:"file=${DIR}/db.toml; key=db; debounce=2ms"`
		Port   int               `live:"file=${DIR}/db.toml; key=server.port; debounce=3ms"`
		Shared string            `live:"file=${DIR}/other.toml; key=db.user"`
	}
	b := bindDir(t, &cfg, dir)
	got := map[string]bool{}
	for _, f := range b.fields {
		got[f.plan.path] = f.secret
	}
	assert.Equal(t, map[string]bool{"All": true, "User": true, "DB": true, "Port": true, "Shared": false}, got,
		"a secret whole document hides every field read from it")
	for _, tg := range b.targets {
		assert.Equal(t, !strings.HasSuffix(tg.spec.Location, "other.toml"), tg.spec.Secret, tg.spec.Location)
	}

	rec := record(t, b)
	writeFile(t, dir, "db.toml", fmt.Sprintf(doc, pw2, 2))
	seen := map[string]bool{}
	for len(seen) < 3 { // All, DB, Port: User did not change
		u := rec.next(t, wait)
		seen[u.Field] = true
		assertNoSecret(t, u, pw, pw2)
	}
}

// decideSecrecy on its own: keys that overlap a declared secret in one
// document, whatever the targets, and update= dependants.
func TestDecideSecrecy(t *testing.T) {
	t.Parallel()
	mk := func(loc, key string, declared bool) *boundField {
		tg := &target{}
		tg.spec.Scheme, tg.spec.Location = "file", loc
		f := &boundField{key: key, keyPath: splitKey(key), declared: declared, target: tg, plan: &fieldPlan{path: loc + ":" + key}}
		tg.fields = []*boundField{f}
		return f
	}
	secretKey := mk("a.toml", "db.password", true)
	whole := mk("a.toml", "", false)
	parent := mk("a.toml", "db", false)
	sibling := mk("a.toml", "db.user", false)
	child := mk("a.toml", "db.password.hash", false)
	quoted := mk("a.toml", `"db.password"`, false)
	otherDoc := mk("b.toml", "db.password", false)
	derived := mk("c.toml", "dsn", false)
	derived.deps = []*boundField{secretKey}
	derived.update = reflect.ValueOf(func() {})
	plainDep := mk("d.toml", "x", false)
	plainDep.deps = []*boundField{secretKey} // no update= function: assigned, not derived
	fields := []*boundField{secretKey, whole, parent, sibling, child, quoted, otherDoc, derived, plainDep}
	decideSecrecy(fields)
	want := map[*boundField]bool{
		secretKey: true, whole: true, parent: true, sibling: false, child: true,
		quoted: false, otherDoc: false, derived: true, plainDep: false,
	}
	for f, w := range want {
		assert.Equal(t, w, f.secret, "field %s", f.plan.path)
	}
	for _, f := range []*boundField{secretKey, whole, sibling, quoted} {
		assert.True(t, f.target.spec.Secret, "every target of the document is secret: %s", f.plan.path)
	}
	assert.False(t, otherDoc.target.spec.Secret)
	assert.True(t, derived.target.spec.Secret)

	// Deciding again from the declared flags gives the same answer.
	decideSecrecy(fields)
	for f, w := range want {
		assert.Equal(t, w, f.secret, "field %s (second run)", f.plan.path)
	}
}

// A secret field shadowed by another field of the same path was invisible to
// WatchField and shown in clear by the debug handler: now a Bind error.
func TestHostileSecretDuplicatePath(t *testing.T) {
	t.Parallel()
	var cfg struct {
		dupInnerB     // Port, secret
		Port      int `live:"env=PORT"`
	}
	err := bindErr(t, &cfg, newEnv("PORT", "1", "B_PORT", "2"))
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "two tagged fields have the path Port")
}
