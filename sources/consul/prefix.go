package consul

import "github.com/livebind/livebind/sources"

// entry is one key and value under a watched prefix.
type entry = sources.KV

// prefixJSON builds the document of a prefix watch: see [sources.PrefixJSON].
func prefixJSON(prefix string, entries []entry) (doc []byte, ok bool) {
	return sources.PrefixJSON(prefix, entries)
}
