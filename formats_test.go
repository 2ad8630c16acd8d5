package livebind

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sniffFlags struct {
	Beta  bool `json:"beta"`
	Limit int  `json:"limit"`
}

// TestFormatFromContent: a structured field whose source says nothing of the
// format (no format=, no extension, no specific type) is JSON when the value
// is a JSON object or array; a struct or map field whose value is not gets a
// decode error that names format= (issue 14, item 1).
func TestFormatFromContent(t *testing.T) {
	t.Parallel()
	t.Run("env object into struct", func(t *testing.T) {
		t.Parallel()
		var c struct {
			F sniffFlags `live:"env=FLAGS"`
		}
		mustBind(t, &c, WithLookupEnv(newEnv("FLAGS", "\ufeff {\"beta\": true, \"limit\": 7}").lookup))
		assert.Equal(t, sniffFlags{Beta: true, Limit: 7}, c.F)
	})
	t.Run("env array into slice", func(t *testing.T) {
		t.Parallel()
		var c struct {
			L []string `live:"env=L"`
		}
		mustBind(t, &c, WithLookupEnv(newEnv("L", `["a,b", "c"]`).lookup))
		assert.Equal(t, []string{"a,b", "c"}, c.L)
	})
	t.Run("env text into slice stays comma-separated", func(t *testing.T) {
		t.Parallel()
		var c struct {
			L []string `live:"env=L"`
		}
		mustBind(t, &c, WithLookupEnv(newEnv("L", "a, b").lookup))
		assert.Equal(t, []string{"a", "b"}, c.L)
	})
	t.Run("env text into string is never sniffed", func(t *testing.T) {
		t.Parallel()
		var c struct {
			S string `live:"env=S"`
		}
		mustBind(t, &c, WithLookupEnv(newEnv("S", `{"a": 1}`).lookup))
		assert.Equal(t, `{"a": 1}`, c.S)
	})
	t.Run("env text into struct names format=", func(t *testing.T) {
		t.Parallel()
		var c struct {
			F sniffFlags `live:"env=FLAGS"`
		}
		err := bindError(t, &c, newEnv("FLAGS", "beta=true"), ErrDecode)
		fieldError(t, err, "F")
		assert.Contains(t, err.Error(), "format=json")
	})
	t.Run("file without extension", func(t *testing.T) {
		t.Parallel()
		dir := dirWith(t, "flags", `{"beta": true, "limit": 3}`)
		var c struct {
			F sniffFlags `live:"file=${D}/flags; poll=1h"`
		}
		mustBind(t, &c, WithLookupEnv(newEnv("D", dir).lookup))
		assert.Equal(t, sniffFlags{Beta: true, Limit: 3}, c.F)
	})
	t.Run("http path without extension served as text/plain", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(`{"beta": true, "limit": 9}`))
		}))
		defer srv.Close()
		var c struct {
			F sniffFlags `live:"http=${U}/app/feature-flags; poll=1h"`
		}
		_ = mustBind(t, &c, WithLookupEnv(newEnv("U", srv.URL).lookup))
		assert.Equal(t, sniffFlags{Beta: true, Limit: 9}, c.F)
	})
}

// TestKeyNeedsADocument: key= selects inside a document, so a value whose
// source says nothing of its format is sniffed as JSON even for a scalar
// field; a value that is no JSON object must give a decode error naming
// format= (at Bind, and as an Error update later, keeping the last good
// value), never a field that silently stays at zero.
func TestKeyNeedsADocument(t *testing.T) {
	t.Parallel()
	var body atomic.Value
	body.Store(`{"a": 5}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(body.Load().(string)))
	}))
	defer srv.Close()
	type cfg struct {
		A int `live:"http=${U}/app/limits; key=a; poll=20ms"`
	}
	var c cfg
	b, err := Bind(t.Context(), &c, WithLookupEnv(newEnv("U", srv.URL).lookup))
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, 5, c.A, "a JSON object served as text/plain is sniffed for key=")

	errs := make(chan error, 16)
	_, err = b.Subscribe(func(u Update) {
		if u.Kind == Error {
			select {
			case errs <- u.Err:
			default:
			}
		}
	})
	require.NoError(t, err)
	body.Store("a = 6")
	select {
	case err := <-errs:
		require.ErrorIs(t, err, ErrDecode)
		assert.Contains(t, err.Error(), "format=json")
		assert.Contains(t, err.Error(), "key a")
	case <-time.After(10 * time.Second):
		t.Fatal("a text value under key= gave no Error update")
	}
	assert.Equal(t, 5, b.Get().A, "the last good value stays")

	body.Store("a = 6")
	var c2 cfg
	_, err = Bind(t.Context(), &c2, WithLookupEnv(newEnv("U", srv.URL).lookup))
	require.ErrorIs(t, err, ErrDecode, "at Bind, a text value under key= fails Bind")
	fieldError(t, err, "A")
}
