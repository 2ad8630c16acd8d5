package sources

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// MaxPrefixDepth is the deepest nesting of a [PrefixJSON] document.
const MaxPrefixDepth = 100

// KV is one key and value under a watched prefix, for [PrefixJSON].
type KV struct {
	Key   string
	Value []byte
}

// PrefixJSON builds the document of a prefix watch (consul=...; prefix,
// etcd=...; prefix): a JSON object of every
// key under prefix, relative to it and nested by "/", each value a JSON
// string.
//
//	app/tuning/a   = 1  ->  {"a": "1",
//	app/tuning/x/y = 2  ->   "x": {"y": "2"}}
//
// Keys that end in "/" are folder markers (the Consul UI creates them) and
// are skipped; empty segments ("a//b", a leading "/") are dropped. A key
// that is also a folder (app/tuning/a and app/tuning/a/b) keeps its own
// value under the empty name "" inside the folder's object. Invalid UTF-8 in
// names and values becomes U+FFFD. Nesting stops at [MaxPrefixDepth]
// levels: the segments of a deeper key past that are kept, joined by "/",
// as the name of its last level (a hostile server's key of a million
// segments would otherwise overflow the stack, a fatal error, while the
// document is encoded). The output depends only on the set of
// entries, not on their order. ok is false when no value remains, which the
// driver reports as missing.
func PrefixJSON(prefix string, entries []KV) (doc []byte, ok bool) {
	entries = slices.Clone(entries)
	slices.SortStableFunc(entries, func(a, b KV) int { return strings.Compare(a.Key, b.Key) })
	root := map[string]any{}
	for _, e := range entries {
		rel, found := strings.CutPrefix(e.Key, prefix)
		if !found || rel == "" || strings.HasSuffix(rel, "/") {
			continue
		}
		segs := segments(rel)
		if len(segs) == 0 {
			continue
		}
		if len(segs) > MaxPrefixDepth {
			segs = append(segs[:MaxPrefixDepth-1:MaxPrefixDepth-1], strings.Join(segs[MaxPrefixDepth-1:], "/"))
		}
		cur := root
		for _, s := range segs[:len(segs)-1] {
			switch v := cur[s].(type) {
			case map[string]any:
				cur = v
			case string: // a value that is also a folder: keep it under ""
				m := map[string]any{"": v}
				cur[s], cur = m, m
			default:
				m := map[string]any{}
				cur[s], cur = m, m
			}
		}
		val := strings.ToValidUTF8(string(e.Value), "\uFFFD")
		last := segs[len(segs)-1]
		if m, isDir := cur[last].(map[string]any); isDir {
			m[""] = val
		} else {
			cur[last] = val // a duplicate path ("a//b" after "a/b") takes the later key's value
		}
	}
	if len(root) == 0 {
		return nil, false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil { // cannot happen: only maps and strings
		return nil, false
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}

// segments splits a relative key by "/", dropping empty segments and making
// each valid UTF-8.
func segments(rel string) []string {
	parts := strings.Split(rel, "/")
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, strings.ToValidUTF8(p, "\uFFFD"))
		}
	}
	return out
}
