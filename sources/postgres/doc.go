// Package postgres registers the postgres= source: a field reads one row
// of a settings table in PostgreSQL (or the one value a query returns) and
// follows it with LISTEN/NOTIFY. Import it for its side effect:
//
//	import _ "github.com/livebind/livebind/sources/postgres"
//
//	type Config struct {
//		Flags  []string `live:"postgres=settings/app.flags"`                            // row key = 'app.flags' of table settings
//		Limits Limits   `live:"postgres=app.config/limits; keycol=name; valcol=doc; format=json"`
//		Hosts  []string `live:"postgres=hosts; query=SELECT string_agg(host, ',') FROM hosts; format=text"`
//	}
//
//	b, err := livebind.Bind(ctx, &cfg, livebind.WithSourceConfig("postgres", postgres.Config{DSN: dsn}))
//
// The location is table/key: the table (schema-qualified or not, quoted as
// an identifier) and the key, passed as a bind parameter; the statement is
// SELECT valcol FROM table WHERE keycol = $1. With query=, the location is
// the query's notification key instead: a NOTIFY with that payload runs
// the query again. The value (text, varchar, json, jsonb, bytea, or any
// other type in its text form) is a document decoded like any other
// (format=, key=); no row, or NULL, is Missing. Options:
//   - keycol=, valcol=: the key and value columns (default "key" and
//     "value").
//   - query=SQL: a statement that returns one column and at most one row;
//     more is an [ErrQuery] error. Not with keycol= or valcol=.
//   - channel=: the LISTEN channel (default [Config].Channel, else
//     [DefaultChannel]).
//   - maxbytes=N: the largest value, default [DefaultMaxBytes]; a larger one
//     is an error wrapping sources.ErrTooLarge. The bound holds on the wire
//     too: no message of the answer may pass twice the limit (a bytea comes
//     as hex) plus 64 KiB, so a huge row is refused before it is read whole;
//     the connection is then dropped and the next read dials afresh.
//   - timeout=D: bounds one read, default [DefaultTimeout].
//
// Notifications: install the trigger that [TriggerSQL] returns (livebind
// never runs DDL). It sends the key of each changed row, never the value:
// NOTIFY payloads are limited to 8000 bytes. An empty payload makes every
// watch of the channel read again. Each Binding has one connection for
// reads and one LISTEN connection, shared by every field; a lost LISTEN
// connection is re-established with backoff and LISTENs again, and every
// watched row is then read again, so a change made while disconnected is
// not missed. A LISTEN connection silent for [HealthInterval] is pinged; one
// that does not answer within another interval counts as lost.
//
// Connection: [Config] takes a DSN, a *pgx.ConnConfig, or a Connect
// function called before every (re)connection, so that a rotated password
// is used at the next connection. Errors are [*Error] values that never
// hold the password; a role without SELECT fails with
// [sources.ErrAuth].
package postgres
