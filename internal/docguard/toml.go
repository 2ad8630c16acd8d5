package docguard

// tomlScan is the state of one TOML check.
type tomlScan struct {
	counter
	keys    int
	base    int   // depth of the current [table] or [[array]] header
	pending int   // depth of the key whose value is being read
	stack   []int // depth of each open array or inline table
	kinds   []byte
}

// TOML checks a TOML document. Depth counts each segment of a table header
// or dotted key and each array or inline table level.
func TOML(data []byte) error {
	s := tomlScan{counter: counter{data: data}}
	lineStart := true
	for i := 0; i < len(data); {
		if lineStart && len(s.stack) == 0 {
			lineStart = false
			i = skipSpace(data, i)
			if i >= len(data) {
				break
			}
			switch data[i] {
			case '[': // [table] or [[array of tables]]
				j := i + 1
				if j < len(data) && data[j] == '[' {
					j++
				}
				end, segs, err := s.key(j)
				if err != nil {
					return err
				}
				s.base = segs
				if err := checkDepth(data, i, segs); err != nil {
					return err
				}
				i = skipHeaderEnd(data, end)
				continue
			case '#', '\n', '\r':
			default:
				end, segs, err := s.key(i)
				if err != nil {
					return err
				}
				if err := s.value(end, s.base+segs); err != nil {
					return err
				}
				i = end
				continue
			}
		}
		switch ch := data[i]; ch {
		case '\n':
			lineStart = len(s.stack) == 0
			i++
		case '#':
			i = skipLine(data, i)
		case '"', '\'':
			i = skipTOMLString(data, i)
		case '[':
			depth := s.elemDepth()
			if err := s.add(i); err != nil {
				return err
			}
			if err := s.push(i, '[', depth); err != nil {
				return err
			}
			i++
		case '{':
			depth := s.elemDepth()
			if err := s.push(i, '{', depth); err != nil {
				return err
			}
			end, err := s.inlineKey(i + 1)
			if err != nil {
				return err
			}
			i = end
		case ',':
			if n := len(s.kinds); n > 0 && s.kinds[n-1] == '{' {
				end, err := s.inlineKey(i + 1)
				if err != nil {
					return err
				}
				i = end
				continue
			}
			if err := s.add(i); err != nil {
				return err
			}
			i++
		case ']', '}':
			if n := len(s.stack); n > 0 {
				s.stack, s.kinds = s.stack[:n-1], s.kinds[:n-1]
			}
			i++
		default:
			i++
		}
	}
	return nil
}

// elemDepth is the depth of a value that starts here: one below an open
// array, or the depth of the key it belongs to (s.pending).
func (s *tomlScan) elemDepth() int {
	if n := len(s.stack); n > 0 && s.kinds[n-1] == '[' {
		return s.stack[n-1] + 1
	}
	return s.pending
}

// push opens an array or inline table at depth.
func (s *tomlScan) push(pos int, kind byte, depth int) error {
	if err := checkDepth(s.data, pos, depth+1); err != nil {
		return err
	}
	s.stack = append(s.stack, depth)
	s.kinds = append(s.kinds, kind)
	return nil
}

// value records the depth of the key whose value follows.
func (s *tomlScan) value(pos, depth int) error {
	s.pending = depth
	return checkDepth(s.data, pos, depth)
}

// inlineKey reads the key of an inline table's next entry at i, if any.
func (s *tomlScan) inlineKey(i int) (int, error) {
	n := len(s.stack)
	j := skipSpaceNL(s.data, i)
	if j < len(s.data) && (s.data[j] == '}' || s.data[j] == '#') {
		return j, nil
	}
	end, segs, err := s.key(j)
	if err != nil {
		return 0, err
	}
	return end, s.value(end, s.stack[n-1]+segs)
}

// key reads a possibly dotted key at i and returns the offset after it and
// its number of segments. It counts the key against the key limits.
func (s *tomlScan) key(i int) (end, segs int, err error) {
	data := s.data
	start := i
	for {
		i = skipSpace(data, i)
		if i >= len(data) {
			break
		}
		switch ch := data[i]; {
		case ch == '"' || ch == '\'':
			i = skipTOMLString(data, i)
		case isBareKey(ch):
			for i < len(data) && isBareKey(data[i]) {
				i++
			}
		default:
			return i, segs, s.countKey(start, i, segs)
		}
		segs++
		if i-start > MaxKeyBytes {
			return i, segs, checkKey(data, start, i-start) // stop early
		}
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != '.' {
			break
		}
		i++
	}
	return i, segs, s.countKey(start, i, segs)
}

func (s *tomlScan) countKey(start, end, segs int) error {
	if segs == 0 {
		return nil
	}
	if err := checkKey(s.data, start, end-start); err != nil {
		return err
	}
	s.keys += segs // each segment of a dotted key is a table the parser tracks
	if s.keys > MaxTOMLKeys {
		return fail(s.data, start, "keys", MaxTOMLKeys)
	}
	return s.add(start)
}

func isBareKey(ch byte) bool {
	return ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-'
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	return i
}

func skipSpaceNL(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipLine returns the offset of the newline that ends the line at i.
func skipLine(data []byte, i int) int {
	for i < len(data) && data[i] != '\n' {
		i++
	}
	return i
}

// skipHeaderEnd skips the "]" or "]]" after a table header's key.
func skipHeaderEnd(data []byte, i int) int {
	i = skipSpace(data, i)
	for k := 0; k < 2 && i < len(data) && data[i] == ']'; k++ {
		i++
	}
	return i
}

// skipTOMLString returns the offset after the string that starts at i:
// basic "…" (with escapes), literal '…', or their multi-line triple forms.
// A single-line string ends at a newline even if unterminated.
func skipTOMLString(data []byte, i int) int {
	q := data[i]
	if i+2 < len(data) && data[i+1] == q && data[i+2] == q {
		for j := i + 3; j < len(data); j++ {
			switch {
			case data[j] == '\\' && q == '"':
				j++
			case data[j] == q && j+2 < len(data) && data[j+1] == q && data[j+2] == q:
				j += 3
				for k := 0; k < 2 && j < len(data) && data[j] == q; k++ { // """"" ends with two quotes inside
					j++
				}
				return j
			}
		}
		return len(data)
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			if q == '"' {
				j++
			}
		case q:
			return j + 1
		case '\n':
			return j
		}
	}
	return len(data)
}
