package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/livebind/livebind/sources"
)

// Sentinel errors wrapped by [*Error]. Match them with errors.Is.
var (
	// ErrQuery reports a statement PostgreSQL refused for another reason:
	// an unknown table or column, a syntax error in query=, or a query=
	// result that is not one column of at most one row.
	ErrQuery = errors.New("bad query")
)

// Error is a failure to read a row or run a query. Its message names the
// table and key (or the query's notification key) and never holds the
// password.
type Error struct {
	// Table is the table, or "" for a query=.
	Table string
	// Key is the row's key, or the notification key of a query=.
	Key string
	// Code is PostgreSQL's SQLSTATE, or "" when there was no answer.
	Code string
	// Err is the cause. It wraps [sources.ErrUnreachable], [sources.ErrAuth],
	// [ErrQuery] or [sources.ErrTooLarge] where one applies.
	Err error
}

// Error implements error: `postgres: row "settings/app.flags": ...`.
func (e *Error) Error() string {
	s := spec{table: e.Table, key: e.Key}
	if e.Table == "" {
		s.query = "-"
	}
	return "postgres: " + s.what() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// permanent reports a failure that will not clear up until someone acts.
func (e *Error) permanent() bool {
	return errors.Is(e.Err, sources.ErrAuth) || errors.Is(e.Err, ErrQuery)
}

// classify turns an error of pgx into an *Error for s, with the password
// scrubbed from its text.
func classify(s spec, err error, password string) *Error {
	e := &Error{Key: s.key}
	if s.query == "" {
		e.Table = s.table
	}
	var (
		pe *pgconn.PgError
		ml *pgproto3.ExceededMaxBodyLenErr
	)
	switch {
	case errors.As(err, &ml): // over the limit driver.query sets
		e.Err = fmt.Errorf("%w: a message of %d bytes, more than maxbytes=%d allows", sources.ErrTooLarge, ml.ActualBodyLen, s.maxBytes)
	case errors.As(err, &pe):
		e.Code = pe.Code
		msg := sources.ServerText(pe.Message, password)
		switch {
		case pe.Code == "42501" || pe.Code == "28P01" || pe.Code == "28000":
			// insufficient_privilege, invalid_password, invalid_authorization_specification
			e.Err = fmt.Errorf("%w (SQLSTATE %s): %s", sources.ErrAuth, pe.Code, msg)
		case strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57") || strings.HasPrefix(pe.Code, "53") ||
			strings.HasPrefix(pe.Code, "40") || strings.HasPrefix(pe.Code, "58") || pe.Code == "55P03":
			// connection exception, operator intervention (shutdown, statement
			// timeout), insufficient resources, transaction rollback
			// (deadlock, serialization), system error (I/O), lock not
			// available (lock_timeout behind a migration's lock): all clear
			// up by themselves, so they are retried on the transient backoff.
			e.Err = fmt.Errorf("%w (SQLSTATE %s): %s", sources.ErrUnreachable, pe.Code, msg)
		case s.secret:
			// Any other failure may be the statement's on the value itself
			// (22P02 "invalid input syntax for type integer: "<value>""):
			// a secret target keeps only the SQLSTATE.
			e.Err = fmt.Errorf("%w (SQLSTATE %s): server message hidden: the target holds a secret", ErrQuery, pe.Code)
		default:
			e.Err = fmt.Errorf("%w (SQLSTATE %s): %s", ErrQuery, pe.Code, msg)
		}
	case errors.Is(err, ErrQuery), errors.Is(err, sources.ErrTooLarge):
		e.Err = err
	case errors.Is(err, context.Canceled): // the caller's, not the server's
		e.Err = fmt.Errorf("%w: %s", context.Canceled, sources.ServerText(err.Error(), password))
	case errors.Is(err, context.DeadlineExceeded):
		e.Err = fmt.Errorf("%w: no answer in time: %s", sources.ErrUnreachable, sources.ServerText(err.Error(), password))
	default:
		e.Err = fmt.Errorf("%w: %s", sources.ErrUnreachable, sources.ServerText(err.Error(), password))
	}
	e.Err = sources.Scrub(e.Err, password)
	return e
}
