package livebind

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Kind says what an [Update] reports. Its value is its name in lower case,
// so it prints and marshals as itself.
type Kind string

// The kinds of update.
const (
	// Updated: the field has a new value.
	Updated Kind = "updated"
	// Added: the field's source or key appeared (again); the field has its value.
	Added Kind = "added"
	// Removed: the field's source or key disappeared. The field keeps its
	// last value unless the key has a default=.
	Removed Kind = "removed"
	// Error: reading, decoding or validating failed. The field keeps its last
	// good value; Err says why.
	Error Kind = "error"
)

// redacted stands in for the value of a secret field in an [Update].
const redacted = "[redacted]"

// Update reports one change to one field. Updates arrive in generation
// order, after the snapshot they describe is visible through [Binding.Get].
type Update struct {
	// Kind says what happened.
	Kind Kind
	// Field is the field's path, such as "DB.Password".
	Field string
	// Source names the source as scheme:location.
	Source string
	// Old and New are the field's values before and after. For a secret
	// field (Secret set) both are the string "[redacted]"; read the actual
	// value with [WatchField] or [Binding.Get]. For Error updates both hold the kept value
	// (nil in a callback panic report). Slices, maps and pointers are
	// this subscriber's own copies: changing them changes nothing else.
	Old, New any
	// Gen is the generation that holds the result: the new generation for
	// Updated and Added, the current one for Error and for Removed that keeps
	// the value.
	Gen uint64
	// Time is when the generation was applied.
	Time time.Time
	// Err is set for Error updates. It is a [*FieldError], or an error
	// about deliveries that wraps [ErrDropped] (this subscriber fell behind)
	// or [ErrCallbackPanic] (another subscriber's callback panicked), and
	// never contains a secret value.
	Err error
	// Secret reports that the field is secret, so Old and New are redacted.
	Secret bool
}

// String formats the update on one line, for example
// `gen 3 updated Port (file:/etc/app.yaml): 8080 -> 9090`.
func (u Update) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gen %d %s %s", u.Gen, u.Kind, u.Field)
	if u.Source != "" {
		fmt.Fprintf(&b, " (%s)", u.Source)
	}
	switch u.Kind {
	case Updated:
		fmt.Fprintf(&b, ": %v -> %v", u.Old, u.New)
	case Added:
		fmt.Fprintf(&b, ": %v", u.New)
	case Removed:
		fmt.Fprintf(&b, ": keeps %v", u.New)
	case Error:
		var fe *FieldError
		switch {
		case errors.As(u.Err, &fe) && fe.Field == u.Field:
			if fe.Option != "" {
				fmt.Fprintf(&b, ": option %s", fe.Option)
			}
			fmt.Fprintf(&b, ": %v", fe.Err) // field and source are said already
		case u.Err != nil:
			fmt.Fprintf(&b, ": %v", u.Err)
		}
	}
	return b.String()
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %q) print [Update.String],
// so no formatting path can reach around the redaction.
func (u Update) Format(f fmt.State, verb rune) {
	s := u.String()
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = f.Write([]byte(s))
}

// LogValue makes slog log an Update as a group of its fields.
func (u Update) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("kind", string(u.Kind)),
		slog.String("field", u.Field),
		slog.String("source", u.Source),
		slog.Uint64("gen", u.Gen),
	}
	if u.Kind == Error && u.Err != nil {
		attrs = append(attrs, slog.String("error", u.Err.Error()))
	} else {
		attrs = append(attrs, slog.String("old", fmt.Sprint(u.Old)), slog.String("new", fmt.Sprint(u.New)))
	}
	return slog.GroupValue(attrs...)
}
