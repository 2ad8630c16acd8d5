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
// document is encoded). The document is written in one pass, so it costs
// about the size of the entries, however deep their keys. The output
// depends only on the set of entries, not on their order. ok is false when no value remains, which the
// driver reports as missing.
func PrefixJSON(prefix string, entries []KV) (doc []byte, ok bool) {
	// The document is written in one pass over the keys sorted by path,
	// never built as a tree: a tree cost an object (some 300 bytes) per
	// level of every key, and a hostile answer holds a level per 2 bytes.
	type item struct {
		path  string // relative, valid UTF-8, segments joined by one "/"
		value []byte
	}
	entries = slices.Clone(entries)
	slices.SortStableFunc(entries, func(a, b KV) int { return strings.Compare(a.Key, b.Key) })
	items := make([]item, 0, len(entries))
	for _, e := range entries {
		rel, found := strings.CutPrefix(e.Key, prefix)
		if !found || rel == "" || strings.HasSuffix(rel, "/") {
			continue
		}
		if p := normalPath(rel); p != "" {
			items = append(items, item{path: p, value: e.Value})
		}
	}
	if len(items) == 0 {
		return nil, false
	}
	// By path, segment by segment; of a duplicate path ("a//b" and "a/b")
	// the later key's value stays.
	slices.SortStableFunc(items, func(a, b item) int { return comparePaths(a.path, b.path) })
	kept := items[:0]
	for i, it := range items {
		if i+1 < len(items) && items[i+1].path == it.path {
			continue
		}
		kept = append(kept, it)
	}
	items = kept

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	quote := func(s string) {
		_ = enc.Encode(s) // a string cannot fail
		buf.Truncate(buf.Len() - 1)
	}
	var open []string     // the names of the objects open below the root
	first := []bool{true} // per open object, root included: no member yet
	member := func(name string) {
		if !first[len(first)-1] {
			buf.WriteByte(',')
		}
		first[len(first)-1] = false
		quote(name)
		buf.WriteByte(':')
	}
	buf.WriteByte('{')
	for i, it := range items {
		segs := depthSegments(it.path)
		dirs, name := segs[:len(segs)-1], segs[len(segs)-1]
		common := 0
		for common < len(open) && common < len(dirs) && open[common] == dirs[common] {
			common++
		}
		for len(open) > common {
			buf.WriteByte('}')
			open, first = open[:len(open)-1], first[:len(first)-1]
		}
		for _, d := range dirs[common:] {
			member(d)
			buf.WriteByte('{')
			open, first = append(open, d), append(first, true)
		}
		member(name)
		val := strings.ToValidUTF8(string(it.value), "\uFFFD")
		// A key that is also a folder: the keys under it follow at once.
		if len(segs) < MaxPrefixDepth && i+1 < len(items) && strings.HasPrefix(items[i+1].path, it.path+"/") {
			buf.WriteByte('{')
			open, first = append(open, name), append(first, true)
			member("")
		}
		quote(val)
	}
	for range open {
		buf.WriteByte('}')
	}
	buf.WriteByte('}')
	return buf.Bytes(), true
}

// normalPath makes rel valid UTF-8 and drops its empty segments.
func normalPath(rel string) string {
	rel = strings.ToValidUTF8(rel, "\uFFFD")
	if !strings.HasPrefix(rel, "/") && !strings.Contains(rel, "//") {
		return rel
	}
	var b strings.Builder
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// comparePaths orders normal paths segment by segment: as strings, but
// with "/" below every other byte, so that "a/b" comes before "a!" and the
// keys under a folder follow it at once.
func comparePaths(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		switch {
		case ca == '/':
			return -1
		case cb == '/':
			return 1
		case ca < cb:
			return -1
		default:
			return 1
		}
	}
	return len(a) - len(b)
}

// depthSegments splits a normal path into its segments, at most
// MaxPrefixDepth: the rest of a deeper path is its last segment.
func depthSegments(path string) []string {
	segs := strings.SplitN(path, "/", MaxPrefixDepth)
	return segs
}
