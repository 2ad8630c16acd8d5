package livebind

import (
	"errors"
	"fmt"
	"strings"

	"github.com/livebind/livebind/internal/docguard"
	"github.com/livebind/livebind/sources"
)

// Sentinel errors. Every error livebind returns or puts in an [Update] wraps
// one of these where a caller may want to tell cases apart with errors.Is.
var (
	// ErrTag reports a malformed live tag or option: a Bind error.
	ErrTag = errors.New("invalid live tag")
	// ErrScheme reports a tag whose scheme no imported package registered.
	ErrScheme = errors.New("unknown source scheme")
	// ErrRequired reports a required field whose source or key is missing.
	ErrRequired = errors.New("required value missing")
	// ErrDecode reports a value that could not be parsed or converted to the
	// field's type. The last good value is kept.
	ErrDecode = errors.New("cannot decode value")
	// ErrSource reports a source that could not be read or watched.
	ErrSource = errors.New("source failed")
	// ErrValidation reports a generation rejected by the struct's Validate
	// method. The last good snapshot is kept.
	ErrValidation = errors.New("validation failed")
	// ErrDropped reports updates that a slow subscriber missed because its
	// buffer was full: the Error update that says so tells how many.
	ErrDropped = errors.New("updates dropped")
	// ErrFieldType reports a typed field watch whose type parameter does not
	// match the field's type.
	ErrFieldType = errors.New("field type mismatch")
	// ErrUnknownField reports a field path that names no bound field.
	ErrUnknownField = errors.New("unknown field")
	// ErrClosed reports a call on a closed Binding.
	ErrClosed = errors.New("binding closed")
	// ErrCache is wrapped by the error Bind returns when [WithCache]'s
	// directory or key cannot be trusted, and by the reasons
	// [SourceStatus].CacheError reports for refused entries.
	ErrCache = errors.New("cache refused")
	// ErrUpdate reports an update= function that returned an error or panicked.
	// The generation is rejected and the last good snapshot kept.
	ErrUpdate = errors.New("update function failed")
	// ErrNotReady is wrapped by [Binding.Ready]'s errors.
	ErrNotReady = errors.New("not ready")
	// ErrNoGeneration reports a Rollback to a generation the history does not
	// hold (never kept, or already dropped from the ring), or a [From] whose
	// updates are no longer kept.
	ErrNoGeneration = errors.New("generation not in history")
	// ErrReentrant reports a call that cannot run where it was made: Reload,
	// Rollback or Close called from Validate or an update= method (they run
	// on the goroutine that would have to serve the call).
	ErrReentrant = errors.New("re-entrant call")
	// ErrCallbackPanic is wrapped by the error of the Error update that
	// reports a subscriber's callback panicking (it names the field and
	// generation of the update whose delivery panicked).
	ErrCallbackPanic = errors.New("callback panicked")
	// ErrCloseTimeout is wrapped by Close's error when callbacks, or when=
	// evaluations abandoned for taking too long, were still running after
	// the bound set by [WithCloseTimeout] and were abandoned.
	ErrCloseTimeout = errors.New("user code still running at close")
	// ErrEmpty reports a source that holds zero bytes where a document was
	// expected. It is the same value as sources.ErrEmpty.
	ErrEmpty = sources.ErrEmpty
	// ErrWatchLimit reports that the operating system refused another file
	// watch (inotify limits). It is the same value as sources.ErrWatchLimit.
	ErrWatchLimit = sources.ErrWatchLimit
	// ErrLimit reports a document that exceeds a parser limit (nesting
	// depth, key length, number of items) and was rejected before parsing.
	// It comes wrapped in ErrDecode: the last good value is kept. The error
	// is a [*sources.LimitError]; the limits are listed in docs/tags.md.
	ErrLimit = docguard.ErrLimit
)

// FieldError describes a problem with one field: a tag that does not parse,
// a value that does not decode, a source that fails. Bind returns several of
// them joined with errors.Join; Error updates carry one each.
type FieldError struct {
	// Field is the field's path in the struct, such as "DB.Password".
	Field string
	// Source names the source as scheme:location, or "" for tag problems
	// found before the source is known.
	Source string
	// Option names the tag option at fault, if any.
	Option string
	// Key is the key= path inside the document, if any.
	Key string
	// Err is the underlying error. It never contains a secret value.
	Err error
}

// Error formats the error as "livebind: field F (source, key K): option O: err".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("livebind: field ")
	b.WriteString(e.Field)
	if e.Source != "" || e.Key != "" {
		b.WriteString(" (")
		b.WriteString(e.Source)
		if e.Key != "" {
			if e.Source != "" {
				b.WriteString(", ")
			}
			b.WriteString("key ")
			b.WriteString(e.Key)
		}
		b.WriteString(")")
	}
	if e.Option != "" {
		b.WriteString(": option ")
		b.WriteString(e.Option)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// deliveryError is the error of an Error update that reports a problem with
// deliveries to subscribers, not with the configuration. Either this
// subscriber fell behind: Dropped updates were discarded for it and
// Coalesced merged into later ones (with [Coalesce]), and the error wraps
// [ErrDropped]. Or a callback panicked on the update of Field in generation
// Gen (Field is empty for a drop notice), Panic holding the panic value as
// text, and the error wraps [ErrCallbackPanic]. It is unexported: callers
// tell the two apart with errors.Is, and the figures are in its message.
type deliveryError struct {
	// Dropped is how many updates were discarded since the last delivery.
	Dropped int
	// Coalesced is how many updates were merged into a later update of the
	// same field since the last delivery.
	Coalesced int
	// Field and Gen identify the update whose delivery panicked.
	Field string
	Gen   uint64
	// Panic is the panic value as text, or a placeholder when the
	// configuration holds secrets (a panic value can quote one).
	Panic string

	panicked bool
}

// Error reports the numbers of dropped and coalesced updates, or which
// update's delivery panicked and the panic value.
func (e *deliveryError) Error() string {
	switch {
	case e.panicked:
		what := "a drop notice"
		if e.Field != "" {
			what = "the update of " + e.Field
		}
		return fmt.Sprintf("livebind: a callback panicked on %s (gen %d): %s", what, e.Gen, e.Panic)
	case e.Coalesced == 0:
		return fmt.Sprintf("livebind: %d updates dropped: subscriber too slow", e.Dropped)
	}
	return fmt.Sprintf("livebind: %d updates dropped and %d coalesced: subscriber too slow", e.Dropped, e.Coalesced)
}

// Unwrap returns [ErrCallbackPanic] or [ErrDropped].
func (e *deliveryError) Unwrap() error {
	if e.panicked {
		return ErrCallbackPanic
	}
	return ErrDropped
}

// tagError builds a Bind-time FieldError that wraps ErrTag.
func tagError(field, option string, err error) *FieldError {
	return &FieldError{Field: field, Option: option, Err: fmt.Errorf("%w: %w", ErrTag, err)}
}

// cacheError says why a cache directory, key or entry was refused. It is
// unexported: callers tell it apart with errors.Is(err, ErrCache), and its
// Path and Reason are in its message (and in [SourceStatus].CacheError).
type cacheError struct {
	// Path is the refused directory or file.
	Path string
	// Reason says what is wrong with it, such as "owned by uid 65534, not
	// by this process's uid 0" or "writable by others (mode 0777)".
	Reason string
}

// Error implements error.
func (e *cacheError) Error() string { return "livebind: cache: " + e.Path + ": " + e.Reason }

// Unwrap returns [ErrCache].
func (e *cacheError) Unwrap() error { return ErrCache }
