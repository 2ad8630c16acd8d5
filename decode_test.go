package livebind

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type decodeServer struct {
	Host    string        `toml:"host" yaml:"host" json:"host"`
	Port    int           `toml:"port" yaml:"port" json:"port"`
	Timeout time.Duration `toml:"timeout" yaml:"timeout" json:"timeout"`
	Addr    netip.Addr    `toml:"addr" yaml:"addr" json:"addr"`
	Tags    []string      `toml:"tags" yaml:"tags" json:"tags"`
}

func TestDecodeFormats(t *testing.T) {
	t.Parallel()
	want := decodeServer{Host: "db", Port: 5432, Timeout: 3 * time.Second, Addr: netip.MustParseAddr("10.0.0.1"), Tags: []string{"a", "b"}}
	docs := map[string]string{
		formatTOML: "[server]\nhost = \"db\"\nport = 5432\ntimeout = \"3s\"\naddr = \"10.0.0.1\"\ntags = [\"a\", \"b\"]\n",
		formatYAML: "server:\n  host: db\n  port: 5432\n  timeout: 3s\n  addr: 10.0.0.1\n  tags: [a, b]\n",
		formatJSON: `{"server": {"host": "db", "port": 5432, "timeout": "3s", "addr": "10.0.0.1", "tags": ["a", "b"]}}`,
	}
	for format, doc := range docs {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			tree, err := parseDoc(format, []byte(doc))
			require.NoError(t, err)
			v, ok := selectKey(tree, splitKey("server"))
			require.True(t, ok)
			got, err := decodeValue(v, reflect.TypeFor[decodeServer](), format)
			require.NoError(t, err)
			assert.Equal(t, want, got.Interface())

			port, ok := selectKey(tree, splitKey("server.port"))
			require.True(t, ok)
			p, err := decodeValue(port, reflect.TypeFor[int](), format)
			require.NoError(t, err)
			assert.Equal(t, 5432, p.Interface())

			tag, ok := selectKey(tree, splitKey("server.tags.1"))
			require.True(t, ok)
			assert.Equal(t, "b", tag)
			_, ok = selectKey(tree, splitKey("server.nope"))
			assert.False(t, ok)
		})
	}
}

func TestDecodeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		typ  reflect.Type
		want any
	}{
		{name: "string/keeps-spaces", in: " a b ", typ: reflect.TypeFor[string](), want: " a b "},
		{name: "int", in: "42", typ: reflect.TypeFor[int](), want: 42},
		{name: "bool", in: "true", typ: reflect.TypeFor[bool](), want: true},
		{name: "float", in: "1.5", typ: reflect.TypeFor[float64](), want: 1.5},
		{name: "duration", in: "250ms", typ: reflect.TypeFor[time.Duration](), want: 250 * time.Millisecond},
		{name: "slice/strings", in: "a,b,c", typ: reflect.TypeFor[[]string](), want: []string{"a", "b", "c"}},
		{name: "slice/ints", in: "1, 2,3", typ: reflect.TypeFor[[]int](), want: []int{1, 2, 3}},
		{name: "slice/empty", in: "", typ: reflect.TypeFor[[]string](), want: []string{}},
		{name: "text-unmarshaler", in: "127.0.0.1", typ: reflect.TypeFor[netip.Addr](), want: netip.MustParseAddr("127.0.0.1")},
		{name: "bytes", in: "raw", typ: reflect.TypeFor[[]byte](), want: []byte("raw")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := parseDoc(formatText, []byte(tt.in+"\n"))
			require.NoError(t, err)
			got, err := decodeValue(doc, tt.typ, formatText)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Interface())
		})
	}
}

func TestDecodeBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, doc string
		typ               reflect.Type
		wantEmpty         bool // ErrEmpty rather than a parse/convert error
	}{
		{name: "toml/syntax", format: formatTOML, doc: "a = ", typ: reflect.TypeFor[map[string]any]()},
		{name: "toml/empty", format: formatTOML, doc: "", typ: reflect.TypeFor[map[string]any](), wantEmpty: true},
		{name: "yaml/comments-only", format: formatYAML, doc: "# nothing\n", typ: reflect.TypeFor[map[string]any](), wantEmpty: true},
		{name: "yaml/blank", format: formatYAML, doc: " \n\n", typ: reflect.TypeFor[map[string]any](), wantEmpty: true},
		{name: "json/trailing", format: formatJSON, doc: `{"a":1} {"b":2}`, typ: reflect.TypeFor[map[string]any]()},
		{name: "json/truncated", format: formatJSON, doc: `{"a":`, typ: reflect.TypeFor[map[string]any]()},
		{name: "text/not-an-int", format: formatText, doc: "forty-two", typ: reflect.TypeFor[int]()},
		{name: "text/into-struct", format: formatText, doc: "x", typ: reflect.TypeFor[decodeServer]()},
		{name: "json/string-into-int", format: formatJSON, doc: `"x"`, typ: reflect.TypeFor[int]()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := parseDoc(tt.format, []byte(tt.doc))
			if err == nil {
				_, err = decodeValue(doc, tt.typ, tt.format)
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantEmpty, errors.Is(err, ErrEmpty), "ErrEmpty: %v", err)
		})
	}
}

func TestSecretSafeHidesValues(t *testing.T) {
	t.Parallel()
	// Parsers and converters may quote offending input (yaml.v3 does for
	// type errors: "cannot unmarshal !!str `...`").
	err := fmt.Errorf("cannot unmarshal !!str `s3cr3t-value-xyz` into int")
	safe := secretSafe(err, true, formatTOML, reflect.TypeFor[string]())
	assert.NotContains(t, safe.Error(), "s3cr3t")
	assert.Equal(t, err, secretSafe(err, false, formatTOML, reflect.TypeFor[string]()))
}

// Regression (first review, fixed in 5a73683): an explicit null (YAML
// "port:") decoded as zero instead of counting as a missing key, so required
// and default= did not apply.
func TestNullIsAbsent(t *testing.T) {
	t.Parallel()
	dir := dirWith(t, "a.yaml", "port: 1\nname: x\n")
	var cfg struct {
		Port int    `live:"file=${DIR}/a.yaml; key=port; required"`
		Name string `live:"file=${DIR}/a.yaml; key=name; default=dflt"`
	}
	b := bindDir(t, &cfg, dir)
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

// FuzzParseDoc checks that no document makes a parser, key selection or
// decoding panic.
func FuzzParseDoc(f *testing.F) {
	f.Add("toml", []byte("[a]\nb = 1\n"))
	f.Add("yaml", []byte("a:\n  b: [1, 2]\n"))
	f.Add("json", []byte(`{"a": {"b": 1}}`))
	f.Add("text", []byte("1,2,3\n"))
	f.Add("yaml", []byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		if !validFormat(format) {
			return
		}
		doc, err := parseDoc(format, data)
		if err != nil {
			return
		}
		v, ok := selectKey(doc, splitKey("a.b"))
		if !ok {
			v = doc
		}
		for _, typ := range []reflect.Type{reflect.TypeFor[int](), reflect.TypeFor[[]string](), reflect.TypeFor[decodeServer](), reflect.TypeFor[map[string]any]()} {
			_, _ = decodeValue(v, typ, format)
		}
	})
}

// reusedUpper is a text type whose UnmarshalText reuses one buffer from
// call to call, keeping a reference to the slice it set: the
// encoding.TextUnmarshaler contract allows it, as it only asks the method
// to copy its input.
type reusedUpper struct {
	Items []string
}

func (r *reusedUpper) UnmarshalText(b []byte) error {
	reusedBuf = append(reusedBuf[:0], strings.Split(strings.ToUpper(string(b)), ",")...)
	r.Items = reusedBuf
	return nil
}

var reusedBuf = make([]string, 0, 8) // only TestUnmarshalTextKeepsNoReference decodes into it

// TestUnmarshalTextKeepsNoReference: a value decoded by a user's
// UnmarshalText method was published as the method left it, so a method
// that reuses its buffer rewrote, at its next call, the generation readers
// held, the history and the default= value (before the fix the default
// read [A B] right after Bind, TAGS being decoded after it). A value
// decoded through such a method is now copied.
func TestUnmarshalTextKeepsNoReference(t *testing.T) {
	type conf struct {
		Tags reusedUpper `live:"env=TAGS; poll=1h"`
		Def  reusedUpper `live:"env=DEF; default=d,e; optional; poll=1h"`
	}
	env := newEnv("TAGS", "a,b")
	b := mustBind(t, &conf{}, WithLookupEnv(env.lookup), WithHistory(4))
	g1 := b.Get()
	require.Equal(t, []string{"A", "B"}, g1.Tags.Items)
	require.Equal(t, []string{"D", "E"}, g1.Def.Items)

	env.set("TAGS", "x,y")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, []string{"X", "Y"}, b.Get().Tags.Items)
	assert.Equal(t, []string{"A", "B"}, g1.Tags.Items, "generation 1, held by a reader")
	assert.Equal(t, []string{"A", "B"}, b.History()[0].Value.Tags.Items, "generation 1 in the history")
	assert.Equal(t, []string{"D", "E"}, b.Get().Def.Items, "the default, decoded once at Bind")
}

type narrowNumbers struct {
	Small int8   `toml:"small" yaml:"small" json:"small"`
	Port  uint16 `toml:"port" yaml:"port" json:"port"`
}

// TestDecodeNumbersThatDoNotFit: a structured document's number was
// converted into the field's type as Go's conversions do, silently: 300
// became 44 in an int8, 70000 became 4464 in a uint16, 2.5 became 2 in an
// int, 1e300 became +Inf in a float32 and 1.5 became 1ns in a
// time.Duration. A value the field cannot hold is a decode error, as it is
// for text (env variables), so the last good value stays.
func TestDecodeNumbersThatDoNotFit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, doc string
		typ               reflect.Type
	}{
		{"toml/int8", formatTOML, "v = 300", reflect.TypeFor[int8]()},
		{"toml/int8-negative", formatTOML, "v = -129", reflect.TypeFor[int8]()},
		{"yaml/int16", formatYAML, "v: 40000", reflect.TypeFor[int16]()},
		{"json/int32", formatJSON, `{"v": 3000000000}`, reflect.TypeFor[int32]()},
		{"json/uint16", formatJSON, `{"v": 70000}`, reflect.TypeFor[uint16]()},
		{"toml/uint8", formatTOML, "v = 256", reflect.TypeFor[uint8]()},
		{"yaml/uint64-into-int64", formatYAML, "v: 18446744073709551615", reflect.TypeFor[int64]()},
		{"toml/fraction-into-int", formatTOML, "v = 2.5", reflect.TypeFor[int]()},
		{"yaml/fraction-into-uint", formatYAML, "v: 2.5", reflect.TypeFor[uint]()},
		{"toml/fraction-into-duration", formatTOML, "v = 1.5", reflect.TypeFor[time.Duration]()},
		{"toml/huge-float-into-int", formatTOML, "v = 1e300", reflect.TypeFor[int64]()},
		{"toml/nan-into-int", formatTOML, "v = nan", reflect.TypeFor[int]()},
		{"yaml/inf-into-int", formatYAML, "v: .inf", reflect.TypeFor[int]()},
		{"toml/huge-float-into-float32", formatTOML, "v = 1e300", reflect.TypeFor[float32]()},
		{"json/huge-float-into-float32", formatJSON, `{"v": 1e300}`, reflect.TypeFor[float32]()},
		{"toml/in-struct", formatTOML, "[v]\nsmall = 300\nport = 1", reflect.TypeFor[narrowNumbers]()},
		{"yaml/in-slice", formatYAML, "v: [1, 70000]", reflect.TypeFor[[]uint16]()},
		{"json/in-map", formatJSON, `{"v": {"a": 300}}`, reflect.TypeFor[map[string]int8]()},
		{"toml/behind-pointer", formatTOML, "v = 300", reflect.TypeFor[*int8]()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := parseDoc(tt.format, []byte(tt.doc))
			require.NoError(t, err)
			v, ok := selectKey(doc, splitKey("v"))
			require.True(t, ok)
			got, err := decodeValue(v, tt.typ, tt.format)
			if err == nil {
				t.Fatalf("decoded %s into %s as %v, want an error", tt.doc, tt.typ, reflect.Indirect(got).Interface())
			}
		})
	}
	// What fits still decodes, whole floats into integers included.
	for _, ok := range []struct {
		format, doc string
		typ         reflect.Type
		want        any
	}{
		{formatTOML, "v = 127", reflect.TypeFor[int8](), int8(127)},
		{formatTOML, "v = -128", reflect.TypeFor[int8](), int8(-128)},
		{formatYAML, "v: 65535", reflect.TypeFor[uint16](), uint16(65535)},
		{formatYAML, "v: 18446744073709551615", reflect.TypeFor[uint64](), uint64(18446744073709551615)},
		{formatTOML, "v = 8080.0", reflect.TypeFor[int](), 8080},
		{formatTOML, "v = 1e3", reflect.TypeFor[uint](), uint(1000)},
		{formatJSON, `{"v": 3.5}`, reflect.TypeFor[float32](), float32(3.5)},
		{formatTOML, "v = inf", reflect.TypeFor[float32](), float32(math.Inf(1))},
		{formatTOML, "v = 30", reflect.TypeFor[time.Duration](), time.Duration(30)},
		{formatJSON, `{"v": {"small": -5, "port": 443}}`, reflect.TypeFor[narrowNumbers](), narrowNumbers{Small: -5, Port: 443}},
	} {
		doc, err := parseDoc(ok.format, []byte(ok.doc))
		require.NoError(t, err)
		v, _ := selectKey(doc, splitKey("v"))
		got, err := decodeValue(v, ok.typ, ok.format)
		require.NoError(t, err, "%s into %s", ok.doc, ok.typ)
		assert.Equal(t, ok.want, got.Interface(), "%s into %s", ok.doc, ok.typ)
	}
}
