package postgres

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/livebind/livebind/sources"
)

// FuzzParseSpec: any location and options parse or fail with an error
// naming the scheme, never panic; a parsed table target has a table and a
// key whose join is the location, and a statement whose only argument is
// the key (names are never part of the arguments, nor the key part of the
// statement).
func FuzzParseSpec(f *testing.F) {
	f.Add("settings/app.flags", "", "", "", "", "")
	f.Add("app.cfg/x", "name", "doc", "", "chan", "4096")
	f.Add("flags", "", "", "SELECT 1", "", "")
	f.Add("a..b/x", "k\x00", "", "", strings.Repeat("c", 64), "-1")
	f.Fuzz(func(t *testing.T, loc, keycol, valcol, query, channel, maxbytes string) {
		params := map[string]string{}
		for name, v := range map[string]string{"keycol": keycol, "valcol": valcol, "query": query, "channel": channel, "maxbytes": maxbytes} {
			if v != "" {
				params[name] = v
			}
		}
		s, err := parseSpec(&sources.Target{Scheme: "postgres", Location: loc, Params: params}, DefaultChannel)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "postgres: ") {
				t.Fatalf("error %q does not name the scheme", err)
			}
			return
		}
		if s.maxBytes <= 0 || s.channel == "" || len(s.channel) > maxChannel {
			t.Fatalf("bad defaults: %+v", s)
		}
		sql, args := s.sql()
		if s.query != "" {
			if sql != s.query || len(args) != 0 {
				t.Fatalf("query mode: %q %v", sql, args)
			}
			return
		}
		if s.table+"/"+s.key != loc {
			t.Fatalf("table %q key %q from %q", s.table, s.key, loc)
		}
		if len(args) != 1 || args[0] != s.key {
			t.Fatalf("args %v, want the key %q", args, s.key)
		}
		want := "SELECT " + pgx.Identifier{s.valCol}.Sanitize() + " FROM " + ident(s.table).Sanitize() + " WHERE " + pgx.Identifier{s.keyCol}.Sanitize() + " = $1"
		if sql != want {
			t.Fatalf("statement %q, want %q", sql, want)
		}
	})
}

// FuzzDecodeValue: a value in text format decodes or fails with a typed
// error, never panics; a bytea decodes to the bytes its hex spells; the
// limit is never exceeded.
func FuzzDecodeValue(f *testing.F) {
	f.Add([]byte(`{"a":1}`), false, 100)
	f.Add([]byte(`\x6869`), true, 100)
	f.Add([]byte(`\x6`), true, 100)
	f.Add([]byte(`\xzz`), true, 100)
	f.Add([]byte(`abc`), false, 2)
	f.Fuzz(func(t *testing.T, raw []byte, isBytea bool, limit int) {
		if limit <= 0 {
			limit = 1
		}
		data, err := decodeValue(raw, isBytea, limit)
		if err != nil {
			if !errors.Is(err, ErrQuery) && !errors.Is(err, sources.ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(data) > limit {
			t.Fatalf("%d bytes over the limit %d", len(data), limit)
		}
		if !isBytea {
			if !bytes.Equal(data, raw) {
				t.Fatalf("text %q decoded as %q", raw, data)
			}
			return
		}
		if got := `\x` + hex.EncodeToString(data); !strings.EqualFold(got, string(raw)) {
			t.Fatalf("bytea %q decoded as %q", raw, data)
		}
	})
}

// FuzzTriggerSQL: whatever the names, the function body is dollar-quoted
// with a tag that appears exactly twice (no name can end it early), and
// every name appears only as a quoted identifier or string literal.
func FuzzTriggerSQL(f *testing.F) {
	f.Add("settings", "key", "livebind_settings")
	f.Add("app.cfg", `we"ird`, `it's`)
	f.Add("t", "$livebind$", "$livebind1$")
	f.Add("t", "k", strings.Repeat("c", 64))
	f.Fuzz(func(t *testing.T, table, keycol, channel string) {
		sql := TriggerSQL(table, keycol, channel)
		if len(strings.ReplaceAll(channel, "\x00", "")) > maxChannel {
			if !strings.HasPrefix(sql, "DO $livebind$ BEGIN RAISE EXCEPTION") || strings.Contains(sql, "CREATE") {
				t.Fatalf("a channel too long installs: %q", sql)
			}
			return
		}
		i := strings.Index(sql, "AS $livebind")
		if i < 0 {
			t.Fatalf("no dollar quote in %q", sql)
		}
		rest := sql[i+3:]
		tag := rest[:strings.Index(rest[1:], "$")+2]
		if n := strings.Count(sql, tag); n != 2 {
			t.Fatalf("tag %q appears %d times in %q", tag, n, sql)
		}
		if keycol != "" && !strings.Contains(sql, pgx.Identifier{keycol}.Sanitize()) {
			t.Fatalf("key column not quoted: %q", sql)
		}
	})
}
