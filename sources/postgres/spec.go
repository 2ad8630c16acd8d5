package postgres

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/livebind/livebind/sources"
)

// maxChannel is the longest channel name PostgreSQL keeps (NAMEDATALEN-1),
// and the longest name of any other identifier.
const maxChannel = 63

// spec identifies one watched row or query. Fields with equal specs share
// one watch.
type spec struct {
	table    string // schema-qualified or not; "" in query mode
	key      string // the row's key, or the query's notification key
	keyCol   string
	valCol   string
	query    string // query= ("" in table mode)
	channel  string
	maxBytes int
	timeout  time.Duration
	secret   bool // the target holds a secret: server texts that may quote the value are hidden
}

// what names the row or query in errors as its location:
// `row "settings/app.flags"`, `query "flags"`.
func (s spec) what() string {
	if s.query != "" {
		return "query " + strconv.Quote(s.key)
	}
	return "row " + strconv.Quote(s.table+"/"+s.key)
}

// ident is a possibly schema-qualified name as a pgx.Identifier.
func ident(name string) pgx.Identifier { return pgx.Identifier(strings.Split(name, ".")) }

// sql returns the statement that reads s, and its arguments: the key is a
// bind parameter, names are quoted identifiers, never concatenated text.
func (s spec) sql() (string, []any) {
	if s.query != "" {
		return s.query, nil
	}
	v := pgx.Identifier{s.valCol}.Sanitize()
	return "SELECT " + v + " FROM " + ident(s.table).Sanitize() + " WHERE " + pgx.Identifier{s.keyCol}.Sanitize() + " = $1", []any{s.key}
}

// parseSpec reads and checks a target's location and options; defaults
// come from the driver's configuration (channel).
func parseSpec(t *sources.Target, channel string) (spec, error) {
	s := spec{keyCol: DefaultKeyColumn, valCol: DefaultValueColumn, channel: channel, maxBytes: DefaultMaxBytes, timeout: sources.OrDefault(t.Timeout, DefaultTimeout), secret: t.Secret}
	var p sources.Problems
	for name, val := range t.SortedParams() {
		switch name {
		case "keycol", "valcol":
			if val == "" || len(val) > maxChannel || strings.ContainsRune(val, 0) {
				// PostgreSQL would cut a longer name to 63 bytes and read
				// whatever column that names.
				p.Addf("%s= needs a column name (1 to %d bytes)", name, maxChannel)
				continue
			}
			if name == "keycol" {
				s.keyCol = val
			} else {
				s.valCol = val
			}
		case "query":
			if strings.TrimSpace(val) == "" {
				p.Addf("query= needs a SELECT statement")
				continue
			}
			s.query = val
		case "channel":
			if val == "" || len(val) > maxChannel || strings.ContainsRune(val, 0) {
				p.Addf("channel=%q is not a channel name (1 to %d bytes)", val, maxChannel)
				continue
			}
			s.channel = val
		case "maxbytes":
			p.MaxBytes(val, &s.maxBytes)
		default:
			p.Unknown(name)
		}
	}
	if s.query != "" {
		s.key = t.Location
		if _, ok := t.Params["keycol"]; ok {
			p.Addf("keycol= has no effect with query=")
		}
		if _, ok := t.Params["valcol"]; ok {
			p.Addf("valcol= has no effect with query=")
		}
		if s.key == "" {
			p.Addf("empty notification key: write postgres=<name>; query=... (a NOTIFY with payload <name> re-runs the query)")
		}
	} else {
		table, key, ok := strings.Cut(t.Location, "/")
		s.table, s.key = table, key
		if !ok || table == "" || key == "" {
			p.Addf("location %q is not table/key (or use query=)", t.Location)
		}
		for _, part := range strings.Split(table, ".") {
			if part == "" || len(part) > maxChannel || strings.ContainsRune(part, 0) {
				p.Addf("table %q is not a table name", table)
				break
			}
		}
	}
	if err := p.Err(); err != nil {
		return spec{}, fmt.Errorf("postgres: %s: %w", s.what(), err)
	}
	return s, nil
}
