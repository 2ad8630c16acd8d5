package livebind

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The optional flag: a field whose source is absent at Bind keeps its
// default, Bind succeeds, Status says "absent (optional)", and the location
// stays watched, so its later appearance is an Added update. A location that
// is empty after ${VAR} expansion is not watched at all.

// fieldStatus returns the Status entry of the field at path.
func fieldStatus[T any](tb testing.TB, b *Binding[T], path string) FieldStatus {
	tb.Helper()
	for _, fs := range b.Status().Fields {
		if fs.Field == path {
			return fs
		}
	}
	tb.Fatalf("no field %s in Status", path)
	return FieldStatus{}
}

// TestOptionalEmptyLocation: an optional field whose location is empty
// after expansion (the variable unset, or set to "") keeps its default, is
// not watched (its source is inactive, no driver reads it) and Status says
// why. Without optional the same tag fails Bind.
func TestOptionalEmptyLocation(t *testing.T) {
	t.Parallel()
	type cfg struct {
		Banner string `live:"http=${REMOTE}; optional; format=text; poll=20ms; default=none"`
		Plain  string `live:"env=${NAME}; optional"`
	}
	for _, tc := range []struct {
		name string
		env  []string
		why  string
	}{
		{"unset", nil, "location names unset variable REMOTE"},
		{"empty", []string{"REMOTE", "", "NAME", " "}, "location is empty after ${VAR} expansion"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := cfg{Plain: "kept"}
			b := mustBind(t, &c, WithLookupEnv(newEnv(tc.env...).lookup))
			assert.Equal(t, "none", b.Get().Banner, "the default")
			assert.Equal(t, "kept", b.Get().Plain, "no default: the value *dst held")
			fs := fieldStatus(t, b, "Banner")
			assert.True(t, fs.Optional)
			assert.Equal(t, "not watched (optional): "+tc.why, fs.State)
			assert.Contains(t, fieldStatus(t, b, "Plain").State, "not watched (optional)")
			for _, src := range b.Status().Sources {
				assert.False(t, src.Active, "%s: nothing to watch", src.Source)
			}
			assert.Empty(t, b.drivers, "no driver opened")
			require.NoError(t, b.Reload(t.Context()), "Reload has nothing to read")
			assert.Equal(t, "none", b.Get().Banner)
			require.NoError(t, b.Ready(0))
		})
	}

	t.Run("not optional", func(t *testing.T) {
		t.Parallel()
		var c struct {
			Banner string `live:"http=${REMOTE}; format=text"`
		}
		wantBindErr(t, &c, newEnv(), ErrTag, "REMOTE is not set")
	})
}

// TestOptionalAbsentThenAdded: for each scheme's "missing" (a file that does
// not exist, an env variable that is unset, an HTTP 404) an optional field
// keeps its default at Bind, Status says "absent (optional)", and when the
// source appears the field gets an Added update and Status says "present".
func TestOptionalAbsentThenAdded(t *testing.T) {
	t.Parallel()
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		type cfg struct {
			Port int `live:"file=${DIR}/app.yaml; key=port; optional; default=8080"`
		}
		var c cfg
		b := bindDir(t, &c, dir)
		rec := record(t, b)
		optionalAppears(t, b, rec, "Port", func() { writeFile(t, dir, "app.yaml", "port: 9090\n") },
			func(c *cfg) any { return c.Port }, 8080, 9090)
	})
	t.Run("file in a missing directory", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "later")
		type cfg struct {
			Name string `live:"file=${DIR}/name.txt; optional; default=anon"`
		}
		var c cfg
		b := bindDir(t, &c, dir)
		rec := record(t, b)
		optionalAppears(t, b, rec, "Name", func() {
			require.NoError(t, os.Mkdir(dir, 0o755))
			writeFile(t, dir, "name.txt", "bob\n")
		},
			func(c *cfg) any { return c.Name }, "anon", "bob")
	})
	t.Run("env", func(t *testing.T) {
		t.Parallel()
		env := newEnv()
		type cfg struct {
			Level string `live:"env=LEVEL; optional; default=info; poll=10ms"`
		}
		var c cfg
		b := mustBind(t, &c, WithLookupEnv(env.lookup))
		rec := record(t, b)
		optionalAppears(t, b, rec, "Level", func() { env.set("LEVEL", "debug") },
			func(c *cfg) any { return c.Level }, "info", "debug")
	})
	t.Run("http 404", func(t *testing.T) {
		t.Parallel()
		var up atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if !up.Load() {
				http.NotFound(w, nil)
				return
			}
			_, _ = w.Write([]byte("sale today"))
		}))
		defer srv.Close()
		type cfg struct {
			Banner string `live:"http=${URL}/banner; optional; format=text; poll=20ms"`
		}
		c := cfg{Banner: "welcome"}
		b := mustBind(t, &c, WithLookupEnv(newEnv("URL", srv.URL).lookup))
		rec := record(t, b)
		optionalAppears(t, b, rec, "Banner", func() { up.Store(true) },
			func(c *cfg) any { return c.Banner }, "welcome", "sale today")
	})
}

// optionalAppears checks an optional field that is absent after Bind, makes
// its source appear, and checks the Added update and the new state.
func optionalAppears[T any](tb testing.TB, b *Binding[T], rec *recorder, path string, appear func(), get func(*T) any, before, after any) {
	tb.Helper()
	assert.Equal(tb, before, get(b.Get()), "the default (or *dst's value) at Bind")
	fs := fieldStatus(tb, b, path)
	assert.True(tb, fs.Optional)
	assert.Equal(tb, "absent (optional)", fs.State)
	appear()
	u, _ := rec.until(tb, wait, func(u Update) bool { return u.Field == path && u.Kind != Error })
	assert.Equal(tb, Added, u.Kind, "the source appeared: %v", u)
	assert.Equal(tb, after, u.New)
	assert.Equal(tb, after, get(b.Get()))
	assert.Equal(tb, "present", fieldStatus(tb, b, path).State)
}

// TestOptionalStillFails: optional means "absent is fine", not "any failure
// is fine". optional with required is a Bind error; an unreachable server
// and a document that does not parse fail Bind as for any field.
func TestOptionalStillFails(t *testing.T) {
	t.Parallel()
	t.Run("with required", func(t *testing.T) {
		t.Parallel()
		var c struct {
			A string `live:"env=A; optional; required"`
		}
		err := bindError(t, &c, newEnv("A", "x"), ErrTag)
		assert.Equal(t, "optional", fieldError(t, err, "A").Option)
		assert.Contains(t, err.Error(), "both optional and required")
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close() // nothing listens there any more
		var c struct {
			Banner string `live:"http=${URL}/banner; optional; format=text; timeout=2s"`
		}
		wantBindErr(t, &c, newEnv("URL", url), ErrSource, "Banner")
	})
	t.Run("does not parse", func(t *testing.T) {
		t.Parallel()
		dir := dirWith(t, "app.toml", "port = = 1\n")
		var c struct {
			Port int `live:"file=${DIR}/app.toml; key=port; optional; default=1"`
		}
		wantBindErr(t, &c, newEnv("DIR", dir), ErrDecode, "Port")
	})
}

// TestStateOfFieldsWithoutOptional: Status names the state of every field:
// present, absent (without optional), and failing.
func TestStateOfFieldsWithoutOptional(t *testing.T) {
	t.Parallel()
	dir := dirWith(t, "n.txt", "1\n")
	env := newEnv("DIR", dir)
	var c struct {
		N     int    `live:"file=${DIR}/n.txt"`
		Level string `live:"env=LEVEL; default=info; poll=10ms"`
	}
	b := mustBind(t, &c, WithLookupEnv(env.lookup))
	rec := record(t, b)
	assert.Equal(t, "present", fieldStatus(t, b, "N").State)
	fs := fieldStatus(t, b, "Level")
	assert.False(t, fs.Optional)
	assert.Equal(t, "absent", fs.State)

	writeFile(t, dir, "n.txt", "one\n")
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Field == "N" })
	require.Equal(t, Error, u.Kind, "%v", u)
	assert.Equal(t, "failing", fieldStatus(t, b, "N").State)
}
