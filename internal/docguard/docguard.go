// Package docguard checks a configuration document against size, nesting,
// key-length and item-count limits before a parser sees it.
//
// Each check is one linear pass over the bytes with a small tokenizer for
// its format (TOML, YAML, JSON). It knows strings, comments and brackets,
// not the whole grammar: it never reports a syntax error (the parser does
// that), and it errs on the side of counting too much, so it may reject a
// pathological document the parser would accept. Its purpose is that every
// document it lets through parses in time and memory linear in its size,
// whatever parser quirk the input aims at: quadratic cost in nested inline
// tables and dotted keys, in the number of keys, and stack exhaustion.
//
// It is internal support for livebind, which re-exports ErrLimit and
// LimitError.
package docguard

import (
	"bytes"
	"errors"
	"strconv"
)

// Limits every structured document must respect.
const (
	// MaxDepth bounds nesting: tables, maps, arrays, sequences and inline
	// tables inside each other, where every segment of a TOML dotted key or
	// table header counts as one level. Configuration rarely goes past 10;
	// encoding/json and yaml.v3 allow 10000 because they serve any data, and
	// at 10000 some parsers take seconds per document.
	MaxDepth = 100
	// MaxKeyBytes bounds the raw length of one key, quotes and escapes
	// included (a whole dotted TOML key counts). YAML's own limit for an
	// implicit key is 1024 characters.
	MaxKeyBytes = 1024
	// MaxItems bounds the keys, values, containers and aliases of a
	// document, counted together. It keeps the parsed tree (which costs
	// tens of bytes per item in Go) within tens of MiB whatever the size cap.
	MaxItems = 200_000
	// MaxTOMLKeys and MaxYAMLKeys bound the keys of a TOML or YAML document
	// (in TOML every segment of a dotted key or table header counts: each is
	// a table). Both parsers look for duplicate keys by comparing each key
	// with the others (go-toml's tracker is a list of every key in the
	// document, yaml.v3 compares the keys of a mapping pairwise), so their
	// cost grows with the square of the number of keys: 50,000 TOML keys
	// take seconds, 200,000 YAML keys minutes. go-toml's constant is the
	// larger (10,000 keys: 0.25 to 0.95 s on a loaded 2-core machine, 5,000
	// a quarter of that). JSON has no such limit (encoding/json uses a
	// map), only MaxItems.
	MaxTOMLKeys = 5_000
	MaxYAMLKeys = 10_000
	// MaxTOMLBytes bounds the size of a TOML document: the size cap of the
	// file and http sources. The TOML parser holds about one copy of a long
	// string beside the document.
	MaxTOMLBytes = 16 << 20
	// MaxYAMLBytes and MaxJSONBytes bound the size of YAML and JSON
	// documents. yaml.v3 holds about seven copies of a long string at once
	// and encoding/json five (its read buffer grows by doubling), so a
	// 16 MiB document would need 80 to 115 MiB of heap.
	MaxYAMLBytes = 8 << 20
	MaxJSONBytes = 8 << 20
)

// ErrLimit reports a document that exceeds one of the limits above.
var ErrLimit = errors.New("document exceeds a parser limit")

// LimitError tells which limit a document exceeds and where. Its message
// holds numbers only, never content, so it is safe for secret documents.
type LimitError struct {
	// Limit names the limit: "size", "depth", "key length", "items" or
	// "keys".
	Limit string
	// Max is the limit's value (bytes for "size" and "key length").
	Max int
	// Line is the 1-based line where the document went past it, or 0 for
	// the size limit.
	Line int
}

// Error reports the limit, its value and the line.
func (e *LimitError) Error() string {
	if e.Line == 0 {
		return "document exceeds the " + e.Limit + " limit of " + strconv.Itoa(e.Max)
	}
	return "document exceeds the " + e.Limit + " limit of " + strconv.Itoa(e.Max) + " at line " + strconv.Itoa(e.Line)
}

// Unwrap returns [ErrLimit].
func (e *LimitError) Unwrap() error { return ErrLimit }

// Check checks data, a document in format "toml", "yaml" or "json", against
// the limits. Other formats pass unchecked.
func Check(format string, data []byte) error {
	var limit int
	var check func([]byte) error
	switch format {
	case "toml":
		limit, check = MaxTOMLBytes, TOML
	case "yaml":
		limit, check = MaxYAMLBytes, YAML
	case "json":
		limit, check = MaxJSONBytes, JSON
	default:
		return nil
	}
	if len(data) > limit {
		return &LimitError{Limit: "size", Max: limit}
	}
	return check(data)
}

// fail builds the LimitError for limit at byte offset pos of data.
func fail(data []byte, pos int, limit string, maxv int) error {
	pos = min(max(pos, 0), len(data))
	return &LimitError{Limit: limit, Max: maxv, Line: 1 + bytes.Count(data[:pos], []byte("\n"))}
}

// counter counts items and fails past MaxItems.
type counter struct {
	data  []byte
	items int
}

func (c *counter) add(pos int) error {
	c.items++
	if c.items > MaxItems {
		return fail(c.data, pos, "items", MaxItems)
	}
	return nil
}

func checkDepth(data []byte, pos, depth int) error {
	if depth > MaxDepth {
		return fail(data, pos, "depth", MaxDepth)
	}
	return nil
}

func checkKey(data []byte, pos, n int) error {
	if n > MaxKeyBytes {
		return fail(data, pos, "key length", MaxKeyBytes)
	}
	return nil
}

// JSON checks a JSON document.
func JSON(data []byte) error {
	c := counter{data: data}
	var stack []byte // '{' or '['
	expectKey := false
	for i := 0; i < len(data); {
		switch ch := data[i]; ch {
		case '{', '[':
			if err := c.add(i); err != nil {
				return err
			}
			stack = append(stack, ch)
			if err := checkDepth(data, i, len(stack)); err != nil {
				return err
			}
			expectKey = ch == '{'
			i++
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
			i++
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] == '{'
			i++
		case '"':
			end := skipBasicString(data, i+1)
			if expectKey {
				if err := checkKey(data, i, end-i); err != nil {
					return err
				}
			}
			if err := c.add(i); err != nil {
				return err
			}
			expectKey = false
			i = end
		case ' ', '\t', '\r', '\n', ':':
			i++
		default: // number, literal or garbage: one item up to a delimiter
			if err := c.add(i); err != nil {
				return err
			}
			for i < len(data) && !isJSONDelim(data[i]) {
				i++
			}
			if i < len(data) && data[i] == '"' {
				i++ // garbage such as 1"…": no string starts here
			}
			expectKey = false
		}
	}
	return nil
}

func isJSONDelim(ch byte) bool {
	switch ch {
	case '{', '}', '[', ']', ',', ':', '"', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// skipBasicString returns the offset just past the string whose body starts
// at i: a '"' ends it, a backslash escapes the next byte. An unterminated
// string ends at the end of data.
func skipBasicString(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case '\\':
			i += 2
		case '"':
			return i + 1
		default:
			i++
		}
	}
	return len(data)
}
