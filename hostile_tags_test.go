package livebind

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 10 §7: tags are as strict as the docs say. Each case is a tag that
// used to be accepted and did nothing (or something else than written); it
// must now fail Bind with an ErrTag naming the field and option.
func TestHostileTagOptionWithoutEffect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := newEnv("DIR", dir, "ENVDOC", "x")
	writeFile(t, dir, "plain.txt", "x\n")
	writeFile(t, dir, "noext", "x\n")
	writeFile(t, dir, "app.toml", "a = 1\n")
	tests := []struct {
		name   string
		bind   func() error
		option string
		want   string
	}{
		{
			name: "key/format-text", option: "key", want: "read as text",
			bind: func() error {
				var c struct {
					A string `live:"file=${DIR}/app.toml; format=text; key=a"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "key/txt-extension", option: "key", want: "read as text",
			bind: func() error {
				var c struct {
					A string `live:"file=${DIR}/plain.txt; key=a"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "key/unknown-extension", option: "key", want: "read as text",
			bind: func() error {
				var c struct {
					A string `live:"file=${DIR}/noext; key=a"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "key/env-without-format", option: "key", want: "read as text",
			bind: func() error {
				var c struct {
					A string `live:"env=ENVDOC; key=a"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "maxwait/without-debounce-on-env", option: "maxwait", want: "env sources are not debounced by default",
			bind: func() error {
				var c struct {
					A string `live:"env=ENVDOC; maxwait=1s"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "maxwait/with-debounce-0", option: "maxwait", want: "no effect with debounce=0",
			bind: func() error {
				var c struct {
					A int `live:"file=${DIR}/app.toml; key=a; debounce=0; maxwait=1s"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "maxwait/file-with-poll", option: "maxwait", want: "no effect with poll=",
			bind: func() error {
				var c struct {
					A int `live:"file=${DIR}/app.toml; key=a; poll=1s; maxwait=1s"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "maxwait/shorter-than-debounce", option: "maxwait", want: "shorter than debounce",
			bind: func() error {
				var c struct {
					A int `live:"file=${DIR}/app.toml; key=a; debounce=2s; maxwait=1s"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "burst/without-throttle", option: "burst", want: "burst needs throttle=",
			bind: func() error {
				var c struct {
					A string `live:"env=ENVDOC; burst=3"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "timeout/on-env", option: "timeout", want: "env sources take no timeout",
			bind: func() error {
				var c struct {
					A string `live:"env=ENVDOC; timeout=1s"`
				}
				return bindErr(t, &c, env)
			},
		},
		{
			name: "default/with-required", option: "default", want: "a required field cannot have a default",
			bind: func() error {
				var c struct {
					A string `live:"env=ENVDOC; required; default=x"`
				}
				return bindErr(t, &c, env)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.bind()
			require.ErrorIs(t, err, ErrTag)
			assert.Equal(t, tt.option, fieldError(t, err, "A").Option)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// The same options where they do have an effect stay accepted.
func TestHostileTagOptionWithEffect(t *testing.T) {
	t.Parallel()
	dir := dirWith(t, "app.toml", "a = 1\n")
	writeFile(t, dir, "app.conf", `{"a": 2}`)
	env := newEnv("DIR", dir, "DOC", `{"a": 3}`)
	var c struct {
		A int `live:"file=${DIR}/app.toml; key=a; maxwait=1s"`               // file debounces by default
		B int `live:"file=${DIR}/app.conf; format=json; key=a"`              // format= makes it structured
		C int `live:"env=DOC; format=json; key=a; debounce=1ms; maxwait=1s"` // env with a format and a debounce
	}
	_ = mustBind(t, &c, WithLookupEnv(env.lookup))
	assert.Equal(t, 1, c.A)
	assert.Equal(t, 2, c.B)
	assert.Equal(t, 3, c.C)
}

// An unset ${VAR} without a default is a Bind error naming VAR (it used to
// turn file=${DIR}/app.toml into /app.toml); ${VAR:-} stays an explicit
// empty default.
func TestHostileTagUnsetVariable(t *testing.T) {
	t.Parallel()
	var c struct {
		File string `live:"file=${CONF_DIR}/app.txt"`
		Head string `live:"env=H; default=${NO_DEFAULT}x"`
	}
	_, err := Bind(t.Context(), &c, WithLookupEnv(newEnv().lookup))
	require.ErrorIs(t, err, ErrTag)
	msg := err.Error()
	assert.Contains(t, msg, "field File: invalid live tag: location: environment variable CONF_DIR is not set")
	assert.Contains(t, msg, "field Head: option default: invalid live tag: environment variable NO_DEFAULT is not set")

	dir := dirWith(t, "app.txt", "hello\n")
	var ok struct {
		File string `live:"file=${DIR}/${CONF_SUB:-}app.txt"`
		Head string `live:"env=H; default=${NO_DEFAULT:-}x"`
	}
	_ = bindDir(t, &ok, dir)
	assert.Equal(t, "hello", ok.File)
	assert.Equal(t, "x", ok.Head)
}

type dupInnerA struct {
	Port int `live:"env=A_PORT"`
}

type dupInnerB struct {
	Port int `live:"env=B_PORT; secret"`
}

// Two tagged fields with one path (two embedded structs, or an outer field
// shadowing an embedded one) are a Bind error naming both Go fields: by path,
// WatchField, Fields and the debug handler would pick one silently.
func TestHostileTagDuplicatePaths(t *testing.T) {
	t.Parallel()
	env := newEnv("A_PORT", "1", "B_PORT", "2", "PORT", "3")
	var two struct {
		dupInnerA
		dupInnerB
	}
	err := bindErr(t, &two, env)
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "field Port: invalid live tag: two tagged fields have the path Port: dupInnerA.Port and dupInnerB.Port")

	var shadow struct {
		dupInnerB
		Port int `live:"env=PORT"`
	}
	err = bindErr(t, &shadow, env)
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "two tagged fields have the path Port: dupInnerB.Port and Port")

	var nested struct {
		DB struct {
			dupInnerA
			Port int `live:"env=PORT"`
		}
	}
	err = bindErr(t, &nested, env)
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "two tagged fields have the path DB.Port: DB.dupInnerA.Port and DB.Port")
}

// debounce=0 means no debounce: the file driver is told so with a negative
// Debounce (0 would mean its 100ms default), other sources get no gate.
func TestHostileTagDebounceZero(t *testing.T) {
	t.Parallel()
	dir := dirWith(t, "app.toml", "a = 1\n")
	env := newEnv("DIR", dir, "E", "1")
	type cfg struct {
		Zero    int `live:"file=${DIR}/app.toml; key=a; debounce=0"`
		Default int `live:"file=${DIR}/app.toml; key=a"`
		Env     int `live:"env=E; debounce=0; poll=1h"`
	}
	res, err := resolveFields(planFor(reflect.TypeFor[cfg]()), env.lookup)
	require.NoError(t, err)
	require.Len(t, res.targets, 3, "debounce=0 and no debounce are different targets for files")
	assert.Equal(t, noDebounce, res.targets[0].spec.Debounce)
	assert.Zero(t, res.targets[1].spec.Debounce, "no debounce= leaves the driver's default")
	assert.Zero(t, res.targets[2].spec.Debounce, "livebind's own gate has no default debounce")

	var c cfg
	b := mustBind(t, &c, WithLookupEnv(env.lookup))
	for _, tg := range b.targets {
		if tg.spec.Scheme == "env" {
			assert.Nil(t, tg.gate, "debounce=0 on env starts no gate")
		}
	}
	rec := record(t, b)
	writeFile(t, dir, "app.toml", "a = 2\n")
	for range 2 {
		u := rec.next(t, wait)
		assert.Equal(t, 2, u.New)
	}
}

// Map keys with dots (host names, Kubernetes labels) are selected with a
// quoted segment.
func TestHostileTagDottedKeys(t *testing.T) {
	t.Parallel()
	dir := dirWith(t, "k8s.yaml", "labels:\n  app.kubernetes.io/name: web\n  app: other\n")
	writeFile(t, dir, "hosts.json", `{"hosts": {"db.example.com": {"port": 5432}, "db": {"example": {"com": {"port": 1}}}}}`)
	env := newEnv("DIR", dir)
	var c struct {
		Name   string `live:"file=${DIR}/k8s.yaml; key=labels.\"app.kubernetes.io/name\""`
		Port   int    `live:"file=${DIR}/hosts.json; key=hosts.\"db.example.com\".port"`
		Nested int    `live:"file=${DIR}/hosts.json; key=hosts.db.example.com.port"`
	}
	_ = mustBind(t, &c, WithLookupEnv(env.lookup))
	assert.Equal(t, "web", c.Name)
	assert.Equal(t, 5432, c.Port)
	assert.Equal(t, 1, c.Nested, "unquoted dots still separate segments")

	var bad struct {
		A int `live:"file=${DIR}/hosts.json; key=hosts.\"db.example.com"`
	}
	err := bindErr(t, &bad, env)
	require.ErrorIs(t, err, ErrTag)
	assert.Contains(t, err.Error(), "option key: invalid live tag: unterminated quote")
}

// An unknown option is rejected with a hint from the table, and scheme
// options of another scheme are not accepted.
func TestHostileTagUnknownOptions(t *testing.T) {
	t.Parallel()
	var c struct {
		A string `live:"env=A; maxbytes=10"`
		B string `live:"http=http://127.0.0.1:1/x.json; maxbyte=10; key=a"`
		C string `live:"env=C; deboune=1s"`
	}
	err := bindErr(t, &c, newEnv())
	require.ErrorIs(t, err, ErrTag)
	msg := err.Error()
	assert.Contains(t, msg, "field A: option maxbytes: invalid live tag: unknown option for env sources")
	assert.Contains(t, msg, "field B: option maxbyte: invalid live tag: unknown option for http sources (did you mean maxbytes?)")
	assert.Contains(t, msg, "field C: option deboune: invalid live tag: unknown option for env sources (did you mean debounce?)")
}

// bindErr binds *c and returns the error; a Binding is closed at once.
func bindErr[T any](t *testing.T, c *T, env *testEnv) error {
	t.Helper()
	b, err := Bind(t.Context(), c, WithLookupEnv(env.lookup), WithStartTimeout(2*time.Second))
	if err == nil {
		require.NoError(t, b.Close())
		return errors.New("Bind succeeded")
	}
	return err
}
