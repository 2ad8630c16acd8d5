package sources

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Helpers for a driver's spec parser, the function that reads a target's
// location and scheme options into the driver's own key (and that its
// [Scheme].Check calls at Bind). Each driver writes the switch over its
// options; the walk, the shared options and the collection of problems
// are here, so that every driver reports all problems at once, in the same
// words.

// Problems collects what is wrong with a target's location and options,
// so that a spec parser reports every problem at once. The zero value is
// ready to use.
type Problems struct {
	errs []error
}

// Add records err; a nil err is ignored.
func (p *Problems) Add(err error) {
	if err != nil {
		p.errs = append(p.errs, err)
	}
}

// Addf records a problem formatted as by fmt.Errorf.
func (p *Problems) Addf(format string, args ...any) { p.Add(fmt.Errorf(format, args...)) }

// Unknown records an option the parser does not know: "unknown option name=".
func (p *Problems) Unknown(name string) { p.Addf("unknown option %s=", name) }

// Err returns the problems joined with errors.Join, or nil when there are
// none.
func (p *Problems) Err() error { return errors.Join(p.errs...) }

// Flag parses the value of a flag option (written alone, so "true") into
// *dst, or records "name is a flag: write name alone, not name=...".
func (p *Problems) Flag(name, val string, dst *bool) {
	on, err := strconv.ParseBool(val)
	if err != nil {
		p.Addf("%s is a flag: write %s alone, not %s=%q", name, name, name, val)
		return
	}
	*dst = on
}

// MaxBytes parses the value of maxbytes= with [ParseMaxBytes] into *dst,
// or records why it is not a size.
func (p *Problems) MaxBytes(val string, dst *int) { ParseOption(p, val, ParseMaxBytes, dst) }

// Duration parses the value of the option name as a duration and reports
// whether it is one; one that is not is recorded as
// `name="val" is not a duration such as <example>`.
func (p *Problems) Duration(name, val, example string) (time.Duration, bool) {
	d, err := time.ParseDuration(val)
	if err != nil {
		p.Addf("%s=%q is not a duration such as %s", name, val, example)
		return 0, false
	}
	return d, true
}

// ParseOption stores parse(val) in *dst, or records parse's error in p and
// leaves *dst as it was.
func ParseOption[T any](p *Problems, val string, parse func(string) (T, error), dst *T) {
	v, err := parse(val)
	if err != nil {
		p.Add(err)
		return
	}
	*dst = v
}

// SortedParams yields t's scheme options ([Target].Params) in name order,
// so that a parser reports its problems in a stable order.
func (t *Target) SortedParams() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, name := range slices.Sorted(maps.Keys(t.Params)) {
			if !yield(name, t.Params[name]) {
				return
			}
		}
	}
}

// CheckSpec adapts a driver's spec parser to [Scheme].Check: Check parses
// the target and keeps only the error.
func CheckSpec[S any](parse func(*Target) (S, error)) func(*Target) error {
	return func(t *Target) error {
		_, err := parse(t)
		return err
	}
}
