package sources

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrefixJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prefix  string
		entries []KV
		want    string // "" = missing
	}{
		{"empty", "app/", nil, ""},
		{"flat", "app/tuning/", []KV{{"app/tuning/a", []byte("1")}, {"app/tuning/b", []byte("two")}}, `{"a":"1","b":"two"}`},
		{"nested", "app/tuning/", []KV{{"app/tuning/a", []byte("1")}, {"app/tuning/x/y", []byte("2")}, {"app/tuning/x/z/w", []byte("3")}}, `{"a":"1","x":{"y":"2","z":{"w":"3"}}}`},
		{"folder markers skipped", "app/", []KV{{"app/", nil}, {"app/x/", nil}, {"app/x/y", []byte("v")}}, `{"x":{"y":"v"}}`},
		{"only folders is missing", "app/", []KV{{"app/", nil}, {"app/x/", nil}}, ""},
		{"leaf and folder", "p/", []KV{{"p/a", []byte("1")}, {"p/a/b", []byte("2")}}, `{"a":{"":"1","b":"2"}}`},
		{"folder then leaf", "p/", []KV{{"p/a/b", []byte("2")}, {"p/a", []byte("1")}}, `{"a":{"":"1","b":"2"}}`},
		{"empty segments dropped", "p", []KV{{"p//a", []byte("1")}, {"p/b", []byte("2")}}, `{"a":"1","b":"2"}`},
		{"prefix without slash", "app/tun", []KV{{"app/tuning/a", []byte("1")}, {"app/tunX", []byte("2")}}, `{"X":"2","ing":{"a":"1"}}`},
		{"empty value", "p/", []KV{{"p/a", nil}}, `{"a":""}`},
		{"json stays a string", "p/", []KV{{"p/a", []byte(`{"k":1}`)}}, `{"a":"{\"k\":1}"}`},
		{"html not escaped", "p/", []KV{{"p/a", []byte("<&>")}}, `{"a":"<&>"}`},
		{"invalid utf8", "p/", []KV{{"p/\xff", []byte("\xfe")}}, `{"` + "\uFFFD" + `":"` + "\uFFFD" + `"}`},
		{"outside prefix ignored", "p/", []KV{{"q/a", []byte("1")}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := PrefixJSON(tt.prefix, tt.entries)
			if tt.want == "" {
				require.False(t, ok, "got %s", got)
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, string(got))
		})
	}
}

// FuzzPrefixJSON checks that the prefix document builder never panics,
// always yields a valid JSON object, keeps every plain key's value, and does
// not depend on the order of the entries.
func FuzzPrefixJSON(f *testing.F) {
	f.Add("app/", "app/a\napp/x/y\napp/x/", "1\n2\n")
	f.Add("", "a\na/b\n//c/", "x\ny\nz")
	f.Add("p", "p\np/\npq", "\xff\n\n")
	f.Fuzz(func(t *testing.T, prefix, keys, values string) {
		ks := strings.Split(keys, "\n")
		vs := strings.Split(values, "\n")
		seen := map[string]bool{}
		var entries []KV
		for i, k := range ks {
			if seen[k] {
				continue // a store never lists a key twice
			}
			seen[k] = true
			var v []byte
			if i < len(vs) {
				v = []byte(vs[i])
			}
			entries = append(entries, KV{Key: k, Value: v})
		}
		doc, ok := PrefixJSON(prefix, entries)
		if !ok {
			require.Nil(t, doc)
			return
		}
		require.True(t, json.Valid(doc), "invalid JSON: %q", doc)
		var m map[string]any
		require.NoError(t, json.Unmarshal(doc, &m))
		require.NotEmpty(t, m)

		shuffled := append([]KV(nil), entries...)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, _ := PrefixJSON(prefix, shuffled)
		require.Equal(t, string(doc), string(again), "order-dependent output")
	})
}

// TestPrefixJSONDepth: nesting stops at MaxPrefixDepth; the rest of a
// deeper key is the name of its last level, so its value is kept.
func TestPrefixJSONDepth(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("a/", MaxPrefixDepth+5) + "b"
	doc, ok := PrefixJSON("p/", []KV{{"p/" + deep, []byte("v")}, {"p/c", []byte("w")}})
	require.True(t, ok)
	var m map[string]any
	require.NoError(t, json.Unmarshal(doc, &m))
	require.Equal(t, "w", m["c"])
	cur := m
	for range MaxPrefixDepth - 1 {
		next, isMap := cur["a"].(map[string]any)
		require.True(t, isMap, "%s", doc)
		cur = next
	}
	require.Equal(t, map[string]any{strings.Repeat("a/", 6) + "b": "v"}, cur)
}
