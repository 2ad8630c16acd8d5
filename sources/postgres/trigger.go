package postgres

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// MaxPayload is PostgreSQL's limit on a NOTIFY payload: the trigger of
// [TriggerSQL] sends an empty payload (every key of the channel is read
// again) for a key this long or longer.
const MaxPayload = 8000

// TriggerSQL returns the SQL that makes a settings table notify livebind:
// a trigger function and an AFTER INSERT OR UPDATE OR DELETE trigger on
// table that send pg_notify(channel, key) with the key of each changed row
// (the old and the new key when an UPDATE changes it). The payload carries
// only the key, never the value. Run it once, as the table's owner:
// livebind never runs DDL itself. table may be schema-qualified
// ("app.settings"); names are quoted as identifiers, the channel as an
// escape string literal (E'...'). Empty keycol and channel mean [DefaultKeyColumn] and
// [DefaultChannel]. The statements are idempotent (CREATE OR REPLACE, DROP
// TRIGGER IF EXISTS). For a channel longer than 63 bytes, which no one
// could LISTEN to, it returns a statement that fails with that reason.
func TriggerSQL(table, keycol, channel string) string {
	if keycol == "" {
		keycol = DefaultKeyColumn
	}
	if channel == "" {
		channel = DefaultChannel
	}
	if n := len(strings.ReplaceAll(channel, "\x00", "")); n > maxChannel {
		// pg_notify would refuse it at every write, failing the write, and
		// channel= refuses it: SQL that fails, and installs nothing.
		return "DO $livebind$ BEGIN RAISE EXCEPTION 'livebind: the channel name is " + strconv.Itoa(n) + " bytes, more than PostgreSQL''s 63 bytes'; END $livebind$;\n"
	}
	tbl := ident(table)
	fn := append(pgx.Identifier{}, tbl...)
	fn[len(fn)-1] = funcName(fn[len(fn)-1])
	col := pgx.Identifier{keycol}.Sanitize()
	// An escape string (E'...') means the same whatever
	// standard_conforming_strings says, in the session that installs the
	// trigger and in each session that compiles the function: a plain
	// '...' would end early at a backslash when the setting is off.
	lit := "E'" + strings.NewReplacer("\x00", "", `\`, `\\`, "'", "''").Replace(channel) + "'"
	notify := func(row string) string {
		k := row + "." + col + "::text"
		return "PERFORM pg_notify(" + lit + ", CASE WHEN octet_length(" + k + ") < " + strconv.Itoa(MaxPayload) + " THEN " + k + " ELSE '' END);"
	}
	body := `
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.` + col + ` IS DISTINCT FROM NEW.` + col + `) THEN
    ` + notify("OLD") + `
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    ` + notify("NEW") + `
  END IF;
  RETURN NULL;
END
`
	// The body is dollar-quoted with a tag it does not contain, so no
	// name can end the quote early.
	tag := "$livebind$"
	for n := 1; strings.Contains(body, tag); n++ {
		tag = "$livebind" + strconv.Itoa(n) + "$"
	}
	return `CREATE OR REPLACE FUNCTION ` + fn.Sanitize() + `() RETURNS trigger LANGUAGE plpgsql AS ` + tag + body + tag + `;
DROP TRIGGER IF EXISTS livebind_notify ON ` + tbl.Sanitize() + `;
CREATE TRIGGER livebind_notify AFTER INSERT OR UPDATE OR DELETE ON ` + tbl.Sanitize() + `
  FOR EACH ROW EXECUTE FUNCTION ` + fn.Sanitize() + `();
`
}

// funcName is the name of the trigger function of table name t:
// livebind_notify_<t>, or, when that is longer than PostgreSQL keeps
// (it would cut it at 63 bytes, so that two long table names could share,
// and each install replace, one function), its first bytes and a hash of
// t.
func funcName(t string) string {
	name := "livebind_notify_" + t
	if len(name) <= maxChannel { // NAMEDATALEN-1, for any identifier
		return name
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(t))
	suffix := fmt.Sprintf("_%08x", h.Sum32())
	cut := maxChannel - len(suffix)
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + suffix
}
