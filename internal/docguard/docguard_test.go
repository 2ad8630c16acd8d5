package docguard

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCheckAccepts(t *testing.T) {
	t.Parallel()
	deep := func(open, closing string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(closing, n)
	}
	tests := []struct{ name, format, doc string }{
		{"toml/plain", "toml", "[server]\nhost = \"db\"\nport = 5432\n[[peers]]\nname = 'a'\n"},
		{"toml/brackets-in-strings", "toml", "a = \"[[[[{{{{\"\nb = '''\n" + strings.Repeat("[", 500) + "\n'''\nc = \"\"\"x\\\"\"\"\"\n"},
		{"toml/brackets-in-comment", "toml", "# " + strings.Repeat("{", 500) + "\na = 1\n"},
		{"toml/depth-at-limit", "toml", "a = " + deep("[", "]", MaxDepth-1) + "\n"},
		{"toml/dotted-at-limit", "toml", strings.Repeat("a.", MaxDepth-1) + "a = 1\n"},
		{"toml/inline", "toml", "a = { b = { c = [1, 2, {d = 3}] }, e = \"}\" }\n"},
		{"toml/multiline-array", "toml", "a = [\n  1, # one\n  2,\n]\nb = 2\n"},
		{"yaml/plain", "yaml", "server:\n  host: db\n  tags: [a, b]\n  peers:\n  - name: a\n    port: 1\n"},
		{"yaml/block-scalar", "yaml", "text: |\n  " + strings.Repeat("[", 500) + "\n  it's fine: yes\nnext: 1\n"},
		{"yaml/quotes", "yaml", "a: \"[{\\\"\"\nb: 'it''s [{'\nc: don't [\n"},
		{"yaml/depth-at-limit", "yaml", "a: " + deep("[", "]", MaxDepth-1) + "\n"},
		{"json/plain", "json", `{"a": [1, 2.5, true, null, "x\"]"], "b": {"c": -1e3}}`},
		{"json/depth-at-limit", "json", deep("[", "]", MaxDepth)},
		{"json/brackets-in-strings", "json", `{"a": "` + strings.Repeat("[", 500) + `"}`},
		{"text/anything", "text", strings.Repeat("[", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Check(tt.format, []byte(tt.doc)); err != nil {
				t.Fatalf("Check(%s) = %v, want nil", tt.format, err)
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", MaxKeyBytes+1)
	var manyTOML, manyJSON strings.Builder
	for i := range MaxYAMLKeys + 1 {
		manyTOML.WriteString("k" + strings.Repeat("x", i%7) + "_" + strconv.Itoa(i) + " = 1\n")
	}
	manyJSON.WriteString("[" + strings.Repeat("1,", MaxItems) + "1]")
	tests := []struct{ name, format, doc, limit string }{
		{"toml/inline-tables", "toml", "a = " + strings.Repeat("{a = ", MaxDepth) + "1" + strings.Repeat("}", MaxDepth), "depth"},
		{"toml/arrays", "toml", "a = " + strings.Repeat("[", MaxDepth) + "1" + strings.Repeat("]", MaxDepth), "depth"},
		{"toml/dotted-key", "toml", strings.Repeat("a.", MaxDepth) + "a = 1", "depth"},
		{"toml/header", "toml", "[" + strings.Repeat("a.", MaxDepth) + "a]\n", "depth"},
		{"toml/header-plus-key", "toml", "[" + strings.Repeat("a.", 60) + "a]\n" + strings.Repeat("b.", 40) + "b = 1\n", "depth"},
		{"toml/long-key", "toml", long + " = 1\n", "key length"},
		{"toml/long-quoted-key", "toml", "\"" + long + "\" = 1\n", "key length"},
		{"toml/many-keys", "toml", manyTOML.String(), "keys"},
		{"yaml/flow", "yaml", "a: " + strings.Repeat("[", MaxDepth) + "]", "depth"},
		{"yaml/compact-seq", "yaml", strings.Repeat("- ", MaxDepth+1) + "x\n", "depth"},
		{"yaml/indent", "yaml", indentYAML(MaxDepth + 1), "depth"},
		{"yaml/long-key", "yaml", long + ": 1\n", "key length"},
		{"yaml/many-items", "yaml", "a: [" + strings.Repeat("1,", MaxItems) + "1]\n", "items"},
		{"yaml/many-keys", "yaml", strings.ReplaceAll(manyTOML.String(), " =", ":"), "keys"},
		{"yaml/many-json-keys", "yaml", "{" + strings.Repeat(`"k":1,`, MaxYAMLKeys+1) + "}", "keys"},
		{"json/deep", "json", strings.Repeat("[", MaxDepth+1), "depth"},
		{"json/long-key", "json", `{"` + long + `": 1}`, "key length"},
		{"json/many-items", "json", manyJSON.String(), "items"},
		{"toml/dotted-keys-count-segments", "toml", strings.Repeat("a"+strings.Repeat(".b", 49)+" = 1\n", MaxTOMLKeys/50+1), "keys"},
		{"toml/size", "toml", strings.Repeat("#", MaxTOMLBytes+1), "size"},
		{"yaml/size", "yaml", strings.Repeat("#", MaxYAMLBytes+1), "size"},
		{"json/size", "json", strings.Repeat(" ", MaxJSONBytes+1), "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tt.format, []byte(tt.doc))
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
				t.Fatalf("Check = %v, want a *LimitError wrapping ErrLimit", err)
			}
			if le.Limit != tt.limit || (le.Line < 1) != (tt.limit == "size") {
				t.Fatalf("limit = %q line %d, want %q", le.Limit, le.Line, tt.limit)
			}
			if strings.Contains(err.Error(), "kkkk") || strings.Contains(err.Error(), "a.a") {
				t.Fatalf("error quotes the document: %v", err)
			}
		})
	}
}

func TestLimitErrorLine(t *testing.T) {
	t.Parallel()
	err := JSON([]byte("{\n\"a\":\n" + strings.Repeat("[", MaxDepth) + "]"))
	var le *LimitError
	if !errors.As(err, &le) || le.Line != 3 {
		t.Fatalf("err = %v, want a depth error at line 3", err)
	}
	if got, want := le.Error(), "document exceeds the depth limit of 100 at line 3"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func indentYAML(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	return b.String()
}

// FuzzCheck checks that the scanners never panic or loop, and that every
// error they return is a well-formed *LimitError.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"a = {b = [1, {c = 'x'}]}\n[t.u]\nv = \"\"\"\n]\"\"\"\n", "a:\n  - b: |\n      [[\n  - {c: [d, 'e''f']}\n", `{"a": [1, "\"", {"b": null}]}`, "a.b.c = 1", "- - - x", "[[a]]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, format := range []string{"toml", "yaml", "json"} {
			err := Check(format, []byte(doc))
			if err == nil {
				continue
			}
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
				t.Fatalf("%s: error %v is not a *LimitError", format, err)
			}
			if le.Line < 1 || le.Line > strings.Count(doc, "\n")+1 || le.Max <= 0 {
				t.Fatalf("%s: malformed %+v", format, le)
			}
		}
	})
}
