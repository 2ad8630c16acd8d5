package docguard

// YAML checks a YAML document. Block nesting is estimated from indentation
// (each deeper indentation and each "- " or "? " on a line is a level) plus
// flow brackets. A sequence written at its parent key's indentation adds no
// level, so a block document can nest up to twice MaxDepth before the check
// sees it; the parser's own limit (10000) and alias-expansion ratio stop the
// rest. Lines inside a block scalar (| or >) are skipped. Keys are counted
// at each ": " and, inside flow brackets, at every ":" (JSON-style keys).
func YAML(data []byte) error {
	c := counter{data: data}
	keys := 0
	var indents []int
	flow := 0         // open flow brackets
	depth := 0        // block depth of the current line so far
	block := -1       // column a block scalar's lines must pass, or -1
	lineBegin := 0    // offset of the current line
	keyStart := 0     // offset where the current token started
	nodeCol := 0      // column of the last key or entry on this line
	lineStart := true // at the start of a line
	for i := 0; i < len(data); {
		if lineStart {
			lineStart = false
			lineBegin = i
			j := i
			for j < len(data) && data[j] == ' ' {
				j++
			}
			indent := j - i
			empty := j >= len(data) || data[j] == '\n' || data[j] == '\r'
			if block >= 0 {
				if empty || indent > block {
					i = skipLine(data, j)
					continue
				}
				block = -1
			}
			if empty || data[j] == '#' {
				i = skipLine(data, j)
				continue
			}
			if flow == 0 {
				for len(indents) > 0 && indents[len(indents)-1] > indent {
					indents = indents[:len(indents)-1]
				}
				if len(indents) == 0 || indents[len(indents)-1] < indent {
					indents = append(indents, indent)
				}
				depth = len(indents)
				if err := checkDepth(data, j, depth); err != nil {
					return err
				}
			}
			keyStart, nodeCol, i = j, indent, j
			continue
		}
		ch := data[i]
		tokenStart := i == 0 || isYAMLSpace(data[i-1]) || flow > 0 && isFlowIndicator(data[i-1])
		switch {
		case ch == '\n':
			lineStart = true
			i++
		case ch == '#' && tokenStart:
			i = skipLine(data, i)
		case ch == '"' && tokenStart:
			i = skipBasicString(data, i+1)
		case ch == '\'' && tokenStart:
			i = skipSingleQuoted(data, i+1)
		case (ch == '-' || ch == '?') && tokenStart && flow == 0 && endsToken(data, i+1):
			depth++
			if err := checkDepth(data, i, depth); err != nil {
				return err
			}
			if err := c.add(i); err != nil {
				return err
			}
			nodeCol = i - lineBegin
			keyStart = i + 1
			i++
		case ch == ':' && (endsToken(data, i+1) || flow > 0):
			if err := checkKey(data, keyStart, trimmedLen(data, keyStart, i)); err != nil {
				return err
			}
			if keys++; keys > MaxYAMLKeys {
				return fail(data, i, "keys", MaxYAMLKeys)
			}
			if err := c.add(i); err != nil {
				return err
			}
			nodeCol = keyStart - lineBegin
			keyStart = i + 1
			i++
		case (ch == '[' || ch == '{') && tokenStart:
			flow++
			if err := checkDepth(data, i, depth+flow); err != nil {
				return err
			}
			if err := c.add(i); err != nil {
				return err
			}
			keyStart = i + 1
			i++
		case (ch == ']' || ch == '}') && flow > 0:
			flow--
			i++
		case ch == ',' && flow > 0:
			if err := c.add(i); err != nil {
				return err
			}
			keyStart = i + 1
			i++
		case (ch == '|' || ch == '>') && tokenStart && flow == 0:
			block = max(nodeCol, 0)
			i = skipLine(data, i)
		case ch == '*' && tokenStart:
			if err := c.add(i); err != nil {
				return err
			}
			i++
		default:
			i++
		}
	}
	return nil
}

func isYAMLSpace(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' }

func isFlowIndicator(ch byte) bool { return ch == '[' || ch == '{' || ch == ',' }

// endsToken reports whether offset i ends a token: a blank or the end.
func endsToken(data []byte, i int) bool { return i >= len(data) || isYAMLSpace(data[i]) }

// trimmedLen is the length of data[from:to] without surrounding blanks.
func trimmedLen(data []byte, from, to int) int {
	for from < to && isYAMLSpace(data[from]) {
		from++
	}
	for to > from && isYAMLSpace(data[to-1]) {
		to--
	}
	return to - from
}

// skipSingleQuoted returns the offset after a single-quoted scalar whose body
// starts at i; two quotes inside it are is an escaped quote.
func skipSingleQuoted(data []byte, i int) int {
	for i < len(data) {
		if data[i] == '\'' {
			if i+1 < len(data) && data[i+1] == '\'' {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(data)
}
