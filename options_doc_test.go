package livebind

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// docOption is one row of the options table in docs/tags.md.
type docOption struct{ value, meaning string }

// readDocOptions parses the "Options livebind handles" table of
// docs/tags.md: | `name` | value | meaning |.
func readDocOptions(t *testing.T) (map[string]docOption, []string) {
	t.Helper()
	f, err := os.Open("docs/tags.md")
	require.NoError(t, err)
	defer f.Close()
	rows := map[string]docOption{}
	var order []string
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Options livebind handles"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.SplitN(line, "|", 4)
		require.Len(t, cols, 4, "row %q", line)
		name := strings.Trim(strings.TrimSpace(cols[1]), "`")
		require.NotContains(t, rows, name, "option %s documented twice", name)
		rows[name] = docOption{
			value:   strings.TrimSpace(cols[2]),
			meaning: strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cols[3]), "|")),
		}
		order = append(order, name)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows, "no options table found in docs/tags.md")
	return rows, order
}

// TestDocsListEveryOption checks docs/tags.md against the option table:
// every option of the table has a row whose value column is the table's
// value and whose meaning starts with the table's doc line, every row is an
// option of the table, and the rows come in the table's order.
func TestDocsListEveryOption(t *testing.T) {
	t.Parallel()
	rows, order := readDocOptions(t)
	var names []string
	for _, d := range tagOptionTable {
		names = append(names, d.name)
		row, ok := rows[d.name]
		if !assert.True(t, ok, "option %s is missing from docs/tags.md", d.name) {
			continue
		}
		assert.Equal(t, d.value, row.value, "value column of %s", d.name)
		assert.True(t, strings.HasPrefix(row.meaning, d.doc), "meaning of %s should start with %q, is %q", d.name, d.doc, row.meaning)
	}
	for _, name := range order {
		_, ok := tagOptionIndex[name]
		assert.True(t, ok, "docs/tags.md documents %s, which is no option", name)
	}
	assert.Equal(t, names, order, "docs/tags.md lists the options in the table's order")
}

// TestDocsListCoreSchemeOptions checks that every option a core scheme
// declares (file, env and http are registered by the core) is documented
// in docs/tags.md as name=. sse= is registered by the core too.
func TestDocsListCoreSchemeOptions(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("docs/tags.md")
	require.NoError(t, err)
	for _, name := range []string{"file", "env", "http", "sse"} {
		s, ok := sources.Lookup(name)
		require.True(t, ok, name)
		assert.Contains(t, string(doc), "### "+name, "docs/tags.md has a section for %s", name)
		for _, o := range s.Options {
			assert.Contains(t, string(doc), "`"+o+"=", "option %s of %s sources is missing from docs/tags.md", o, name)
			_, core := tagOptionIndex[o]
			assert.False(t, core, "%s declares %s, which livebind itself handles", name, o)
		}
	}
}
