package livebind

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/docguard"
	"github.com/livebind/livebind/internal/testenv/childtest"
	"github.com/livebind/livebind/sources"
)

// hostileDoc is a generated document aimed at a parser's weak spot.
type hostileDoc struct {
	format, shape string
	data          []byte
	// limit is the docguard limit that must reject it, or "" if it must
	// parse (or fail with a syntax error) within the time and heap budget.
	limit string
}

// repeatTo repeats unit (rendered with its index) between head and tail as
// often as size bytes allow.
func repeatTo(size int, head, tail string, unit func(i int) string) []byte {
	var b strings.Builder
	b.Grow(size + 64)
	b.WriteString(head)
	for i := 0; ; i++ {
		u := unit(i)
		if b.Len()+len(u)+len(tail) > size {
			break
		}
		b.WriteString(u)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

func nest(open, closing, inner string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(closing, n)
}

// hostileDocs generates the hostile shapes of every format at about size
// bytes (the deep ones nest as far as size allows).
func hostileDocs(size int) []hostileDoc {
	const under = docguard.MaxDepth - 2 // deepest nesting the guard lets through
	half := size / 2
	ys, js := min(size, docguard.MaxYAMLBytes), min(size, docguard.MaxJSONBytes)
	docs := []hostileDoc{
		{"toml", "inline-tables-deep", []byte("a = " + nest("{a = ", "}", "1", (size-8)/6)), "depth"},
		{"toml", "inline-tables-repeated", repeatTo(size, "", "", func(i int) string {
			return fmt.Sprintf("k%d = %s\n", i, nest("{a = ", "}", "1", under))
		}), "keys"},
		{"toml", "arrays-deep", []byte("a = " + nest("[", "]", "1", half-4)), "depth"},
		{"toml", "arrays-repeated", repeatTo(size, "", "", func(i int) string {
			return fmt.Sprintf("k%d = %s\n", i, nest("[", "]", "1", under))
		}), "items"},
		{"toml", "dotted-key-long", []byte(strings.Repeat("a.", half-4) + "a = 1\n"), "key length"},
		{"toml", "dotted-keys-repeated", repeatTo(size, "", "", func(i int) string {
			return fmt.Sprintf("k%d.%sa = 1\n", i, strings.Repeat("a.", under-1))
		}), "keys"},
		{"toml", "table-header-long", []byte("[" + strings.Repeat("a.", half-2) + "a]\n"), "key length"},
		{"toml", "many-keys", repeatTo(size, "", "", func(i int) string { return fmt.Sprintf("k%d = %d\n", i, i) }), "keys"},
		{"toml", "keys-at-limit", []byte(tomlKeys(docguard.MaxTOMLKeys)), ""},
		{"toml", "array-at-limit", []byte("a = [" + strings.Repeat("1,", docguard.MaxItems-3) + "1]\n"), ""},
		{"toml", "flat-array", repeatTo(size, "a = [", "1]\n", func(int) string { return "1," }), "items"},
		{"toml", "huge-string", []byte("s = \"" + strings.Repeat("x", size-8) + "\"\n"), ""},
		{"toml", "huge-comment", []byte("# " + strings.Repeat("[{", (size-16)/2) + "\na = 1\n"), ""},
		{"yaml", "flow-deep", []byte("a: " + nest("[", "]", "", ys/2-4)), "depth"},
		{"yaml", "flow-repeated", repeatTo(ys, "", "", func(i int) string {
			return fmt.Sprintf("k%d: %s\n", i, nest("[", "]", "1", under))
		}), "items"},
		{"yaml", "block-deep", repeatTo(ys, "", "", func(i int) string { return strings.Repeat(" ", i) + "k:\n" }), "depth"},
		{"yaml", "compact-seq-deep", []byte(strings.Repeat("- ", ys/2-2) + "x\n"), "depth"},
		{"yaml", "billion-laughs", []byte(billionLaughs()), ""},
		{"yaml", "many-keys", repeatTo(ys, "", "", func(i int) string { return fmt.Sprintf("k%d: %d\n", i, i) }), "keys"},
		{"yaml", "json-keys", repeatTo(ys, "{", `"z":1}`, func(i int) string { return fmt.Sprintf(`"k%d":%d,`, i, i) }), "keys"},
		{"yaml", "keys-at-limit", []byte(strings.ReplaceAll(tomlKeys(docguard.MaxYAMLKeys), " =", ":")), ""},
		{"yaml", "flow-items-at-limit", []byte("a: [" + strings.Repeat("1,", docguard.MaxItems-3) + "1]\n"), ""},
		{"yaml", "block-items-at-limit", []byte("a:\n" + strings.Repeat("- 1\n", docguard.MaxItems-2)), ""},
		{"yaml", "flat-seq", repeatTo(ys, "a: [", "1]\n", func(int) string { return "1," }), "items"},
		{"yaml", "huge-string", []byte("s: \"" + strings.Repeat("x", ys-8) + "\"\n"), ""},
		{"yaml", "long-key", []byte(strings.Repeat("k", ys-8) + ": 1\n"), "key length"},
		{"json", "arrays-deep", []byte(nest("[", "]", "", js/2)), "depth"},
		{"json", "objects-deep", []byte(nest(`{"a":`, "}", "1", (js-2)/6)), "depth"},
		{"json", "arrays-repeated", repeatTo(js, "[", "1]", func(int) string { return nest("[", "]", "1", under) + "," }), "items"},
		{"json", "many-keys", repeatTo(js, "{", `"z":1}`, func(i int) string { return fmt.Sprintf(`"k%d":%d,`, i, i) }), "items"},
		{"json", "array-at-limit", []byte("[" + strings.Repeat("1,", docguard.MaxItems-2) + "1]"), ""},
		{"json", "flat-array", repeatTo(js, "[", "1]", func(int) string { return "1," }), "items"},
		{"json", "huge-string", []byte(`"` + strings.Repeat("x", js-2) + `"`), ""},
		{"json", "long-key", []byte(`{"` + strings.Repeat("k", js-8) + `":1}`), "key length"},
	}
	if size > docguard.MaxYAMLBytes {
		docs = append(docs, hostileDoc{"yaml", "over-size", []byte("s: \"" + strings.Repeat("x", size-8) + "\"\n"), "size"})
	}
	if size > docguard.MaxJSONBytes {
		docs = append(docs, hostileDoc{"json", "over-size", []byte(`"` + strings.Repeat("x", size-2) + `"`), "size"})
	}
	return docs
}

// tomlKeys is a TOML document of n distinct keys.
func tomlKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d = %d\n", i, i)
	}
	return b.String()
}

// billionLaughs is the YAML alias bomb: 9 levels of 9 aliases each.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for c := 'b'; c <= 'i'; c++ {
		p := string(c - 1)
		fmt.Fprintf(&b, "%c: &%c [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", c, c, p, p, p, p, p, p, p, p, p)
	}
	return b.String()
}

// TestHostileDocuments parses every hostile shape through parseDoc in a
// child process watched for time and heap: each must fail with its
// expected limit error, or parse (or fail to) in bounded time and memory.
// A stack overflow or runaway allocation ends the child, not this test.
func TestHostileDocuments(t *testing.T) {
	t.Parallel()
	// 4 MiB keeps the run short under -race; the shapes at the limits do not
	// depend on it, and BenchmarkHostileParse runs every shape at 16 MiB.
	const size = 4 << 20
	res := childtest.Run(t, childtest.Limits{Timeout: 3 * time.Minute, Heap: 1 << 30}, func(t *testing.T) {
		t.Helper()
		for _, d := range hostileDocs(size) {
			start := time.Now()
			_, err := parseDoc(d.format, d.data)
			t.Logf("%s/%s: %d KiB in %v: %v", d.format, d.shape, len(d.data)>>10, time.Since(start).Round(time.Millisecond), truncErr(err))
			if d.limit == "" {
				if errors.Is(err, ErrLimit) {
					t.Errorf("%s/%s: unexpected limit error %v", d.format, d.shape, err)
				}
				continue
			}
			var le *sources.LimitError
			if !errors.As(err, &le) || le.Limit != d.limit {
				t.Errorf("%s/%s: err = %v, want the %q limit", d.format, d.shape, truncErr(err), d.limit)
			}
		}
	})
	require.True(t, res.OK(), "child: %s", res)
}

func truncErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// TestAliasBombRejected checks that yaml.v3's alias-expansion limit stops
// the billion laughs (the guard lets its few bytes through). It runs in a
// child process under a heap and time watchdog: without that limit (a
// parser swapped, a yaml.v3 that lost it) the expansion takes every byte
// of memory the machine has.
func TestAliasBombRejected(t *testing.T) {
	t.Parallel()
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second, Heap: 256 << 20}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		_, err := parseDoc(formatYAML, []byte(billionLaughs()))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "excessive aliasing")
	})
}

func TestByteOrderMark(t *testing.T) {
	t.Parallel()
	docs := map[string]string{
		formatJSON: `{"a": {"b": 1}}`,
		formatTOML: "[a]\nb = 1\n",
		formatYAML: "a:\n  b: 1\n",
	}
	for format, doc := range docs {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			tree, err := parseDoc(format, []byte("\uFEFF"+doc))
			require.NoError(t, err, "a BOM must be accepted")
			v, ok := selectKey(tree, splitKey("a.b"))
			require.True(t, ok)
			n, err := decodeValue(v, reflect.TypeFor[int](), format)
			require.NoError(t, err)
			assert.Equal(t, 1, n.Interface())
			_, err = parseDoc(format, []byte("\uFEFF \n"))
			require.ErrorIs(t, err, ErrEmpty, "a BOM alone is an empty document")
		})
	}
}

func TestTOMLDatesDecodeAsTime(t *testing.T) {
	t.Parallel()
	doc := "odt = 1979-05-27T07:32:00Z\nldt = 1979-05-27T07:32:00\nld = 1979-05-27\nlt = 07:32:00.5\n"
	tree, err := parseDoc(formatTOML, []byte(doc))
	require.NoError(t, err)
	var got struct {
		ODT, LDT, LD, LT time.Time
	}
	v, err := decodeValue(tree, reflect.TypeOf(got), formatTOML)
	require.NoError(t, err)
	reflect.ValueOf(&got).Elem().Set(v)
	assert.True(t, got.ODT.Equal(time.Date(1979, 5, 27, 7, 32, 0, 0, time.UTC)))
	assert.Equal(t, time.Date(1979, 5, 27, 7, 32, 0, 0, time.Local), got.LDT)
	assert.Equal(t, time.Date(1979, 5, 27, 0, 0, 0, 0, time.Local), got.LD)
	assert.Equal(t, time.Date(0, 1, 1, 7, 32, 0, 5e8, time.Local), got.LT)
}

// boomText panics in UnmarshalText for any text that contains "boom".
type boomText struct{ S string }

func (p *boomText) UnmarshalText(b []byte) error {
	if strings.Contains(string(b), "boom") {
		panic("cannot handle " + string(b))
	}
	p.S = string(b)
	return nil
}

// TestDecoderPanicRejectsGeneration: an UnmarshalText that panics on a
// Reload is a decode error that rejects that target's generation only.
// Each case runs in a child process: decoders run on the applier
// goroutine, so an unrecovered panic ends the test binary.
func TestDecoderPanicRejectsGeneration(t *testing.T) {
	t.Parallel()
	for _, secret := range []bool{false, true} {
		t.Run(fmt.Sprintf("secret=%v", secret), func(t *testing.T) {
			t.Parallel()
			childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
				env := newEnv("V", "first", "DOC", `{"p": "first", "n": 1}`)
				type doc struct {
					P boomText `json:"p"`
					N int      `json:"n"`
				}
				type cfg struct {
					V boomText `live:"env=V; poll=1h"`
					D doc      `live:"env=DOC; format=json; poll=1h"`
				}
				type secretCfg struct {
					V boomText `live:"env=V; poll=1h; secret"`
					D doc      `live:"env=DOC; format=json; poll=1h; secret"`
				}
				check := func(t *testing.T, get func() (boomText, doc), reload func() error) {
					t.Helper()
					env.set("V", "boom-s3cret")
					err := reload()
					require.ErrorIs(t, err, ErrDecode, "a panicking decoder is a decode error")
					assert.Equal(t, "env:V", fieldError(t, err, "V").Source)
					assert.Contains(t, err.Error(), "panicked")
					if secret {
						assert.NotContains(t, err.Error(), "s3cret", "the panic value of a secret field is hidden")
					} else {
						assert.Contains(t, err.Error(), "boom-s3cret")
					}
					v, d := get()
					assert.Equal(t, "first", v.S, "the last good value stays")
					assert.Equal(t, doc{P: boomText{S: "first"}, N: 1}, d)

					env.set("V", "second")
					env.set("DOC", `{"p": "boom-s3cret", "n": 2}`)
					err = reload()
					require.ErrorIs(t, err, ErrDecode)
					assert.Contains(t, err.Error(), "panicked")
					v, d = get()
					assert.Equal(t, "second", v.S, "only the panicking target's generation is rejected")
					assert.Equal(t, doc{P: boomText{S: "first"}, N: 1}, d, "no field of the panicking document changes")

					env.set("DOC", `{"p": "third", "n": 3}`)
					require.NoError(t, reload())
					_, d = get()
					assert.Equal(t, doc{P: boomText{S: "third"}, N: 3}, d)
				}
				if secret {
					var c secretCfg
					b := mustBind(t, &c, WithLookupEnv(env.lookup))
					check(t, func() (boomText, doc) { g := b.Get(); return g.V, g.D }, func() error { return b.Reload(t.Context()) })
					return
				}
				var c cfg
				b := mustBind(t, &c, WithLookupEnv(env.lookup))
				check(t, func() (boomText, doc) { g := b.Get(); return g.V, g.D }, func() error { return b.Reload(t.Context()) })
			})
		})
	}
}

// TestDecoderPanicFailsBind: an UnmarshalText that panics at Bind, on a
// source's value or a default=, fails Bind. In a child process each: an
// unrecovered panic ends the test binary.
func TestDecoderPanicFailsBind(t *testing.T) {
	t.Parallel()
	t.Run("source", func(t *testing.T) {
		t.Parallel()
		childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
			var c struct {
				V boomText `live:"env=V; poll=1h"`
			}
			wantBindErr(t, &c, newEnv("V", "boom"), ErrDecode, "panicked")
			assert.Empty(t, c.V.S, "a failed Bind leaves *dst untouched")
		})
	})
	t.Run("default", func(t *testing.T) {
		t.Parallel()
		childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
			var c struct {
				V boomText `live:"env=V; default=boom; poll=1h"`
			}
			wantBindErr(t, &c, newEnv(), ErrTag, "panicked")
		})
	})
}

func TestLimitErrorThroughBind(t *testing.T) {
	t.Parallel()
	deep := nest("[", "]", "", docguard.MaxDepth+1)
	for _, secret := range []bool{false, true} {
		t.Run(fmt.Sprintf("secret=%v", secret), func(t *testing.T) {
			t.Parallel()
			env := newEnv("DOC", `{"a": 1}`)
			var err error
			var get func() int
			var reload func() error
			if secret {
				var c struct {
					A int `live:"env=DOC; format=json; key=a; poll=1h; secret"`
				}
				b := mustBind(t, &c, WithLookupEnv(env.lookup))
				get, reload = func() int { return b.Get().A }, func() error { return b.Reload(t.Context()) }
			} else {
				var c struct {
					A int `live:"env=DOC; format=json; key=a; poll=1h"`
				}
				b := mustBind(t, &c, WithLookupEnv(env.lookup))
				get, reload = func() int { return b.Get().A }, func() error { return b.Reload(t.Context()) }
			}
			env.set("DOC", `{"a": 2, "b": `+deep+`}`)
			err = reload()
			require.ErrorIs(t, err, ErrDecode)
			require.ErrorIs(t, err, ErrLimit)
			var le *sources.LimitError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, "depth", le.Limit)
			assert.Equal(t, docguard.MaxDepth, le.Max)
			fieldError(t, err, "A")
			assert.Equal(t, 1, get(), "the last good value stays")
		})
	}
}

// fuzzDecode runs data through the path Bind uses: parse, select a key,
// decode into several types. Every outcome must be a value or an error
// whose kind is known; none may panic.
func fuzzDecode(t *testing.T, format string, data []byte) {
	t.Helper()
	doc, err := parseDoc(format, data)
	if err != nil {
		var le *sources.LimitError
		if errors.As(err, &le) && (le.Line < 0 || le.Max <= 0) {
			t.Fatalf("malformed limit error %+v", le)
		}
		return
	}
	if doc == nil {
		t.Fatal("parseDoc returned nil without an error")
	}
	for _, key := range []string{"", "a", "a.b", "a.0"} {
		v, ok := selectKey(doc, splitKey(key))
		if !ok {
			continue
		}
		for _, typ := range []reflect.Type{reflect.TypeFor[int](), reflect.TypeFor[string](), reflect.TypeFor[[]string](), reflect.TypeFor[decodeServer](), reflect.TypeFor[map[string]any](), reflect.TypeFor[boomText](), reflect.TypeFor[time.Time]()} {
			_, _ = decodeValue(v, typ, format)
		}
	}
}

func FuzzDecodeTOML(f *testing.F) {
	for _, s := range []string{"[a]\nb = 1\n", "a = {b = [1, {c = 2}]}\n", "a.b = 'boom'\n", "a = 1979-05-27\n", "[[a]]\nb = \"\"\"x\"\"\"\n", "a = " + nest("[", "]", "", 120)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, formatTOML, data) })
}

func FuzzDecodeYAML(f *testing.F) {
	for _, s := range []string{"a:\n  b: [1, 2]\n", "a: &x [*x]\n", billionLaughs(), "a: |\n  [[[\nb: 1\n", "- - - a\n", "a: {b: boom}\n", "\uFEFFa: 1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, formatYAML, data) })
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a": {"b": 1}}`, `{"a": ["x", "y"]}`, `{"a": "boom"}`, nest("[", "]", "", 120), "\uFEFF{\"a\": 1}", `{"a": 1} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, formatJSON, data) })
}
