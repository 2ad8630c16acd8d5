package livebind

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"

	"github.com/livebind/livebind/sources"
)

// User code that livebind calls through options is wrapped so that a panic
// in it is an error, never a crash (issue 10, class 3). Callbacks, Validate,
// update= methods, decoders and the WithLookupEnv function are recovered
// where they are called; these wrappers cover the logger and the cache's
// seal and open functions.

// recoverBytes wraps a WithCacheEncryption function: a panic is an error
// that does not show the panic value (it may hold plaintext).
func recoverBytes(what string, fn func([]byte) ([]byte, error)) func([]byte) ([]byte, error) {
	if fn == nil {
		return nil
	}
	return func(b []byte) (out []byte, err error) {
		defer func() {
			if p := recover(); p != nil {
				out, err = nil, fmt.Errorf("livebind: the cache %s function panicked (value hidden)", what)
			}
		}()
		return fn(b)
	}
}

// safeHandler wraps the handler of the logger given with WithLogger: a
// panicking handler loses that record, and livebind goes on.
type safeHandler struct{ h slog.Handler }

// errHandlerPanicked is what safeHandler.Handle returns for a panic;
// slog.Logger drops it.
var errHandlerPanicked = errors.New("livebind: the log handler panicked")

func (s safeHandler) Enabled(ctx context.Context, l slog.Level) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return s.h.Enabled(ctx, l)
}

func (s safeHandler) Handle(ctx context.Context, r slog.Record) (err error) {
	defer func() {
		if recover() != nil {
			err = errHandlerPanicked
		}
	}()
	return s.h.Handle(ctx, r)
}

func (s safeHandler) WithAttrs(as []slog.Attr) (h slog.Handler) {
	defer func() {
		if recover() != nil {
			h = s
		}
	}()
	return safeHandler{s.h.WithAttrs(as)}
}

func (s safeHandler) WithGroup(name string) (h slog.Handler) {
	defer func() {
		if recover() != nil {
			h = s
		}
	}()
	return safeHandler{s.h.WithGroup(name)}
}

// maxSecretTexts bounds how many texts scrubSecrets collects from one
// candidate (a secret map or slice can be large).
const maxSecretTexts = 256

// maxSecretVisits bounds how many values scrubSecrets looks at in one
// secret field.
const maxSecretVisits = 4096

// minSecretText is the shortest value text scrubSecrets removes: a shorter
// one (a secret int 0, a flag "on") would take apart every number and word
// of the message that holds it, and hides nothing worth hiding.
const minSecretText = 4

// scrubSecrets removes from err's text (an error of Validate or of an
// update= method, user code that may quote a value) the text of every
// secret field's value in the candidate c: strings and byte slices as they
// are and as %q and %+q print them (escaped), other scalars as fmt prints
// them, walking into structs (unexported fields too: a type of the user's
// own keeps its text there; a struct with MarshalText or String gives that
// text too), maps, slices and pointers; texts shorter than
// minSecretText are left. errors.Is still sees err (see [sources.Scrub]).
// A secret transformed before it is quoted (cut, encoded) is not found:
// Validate must not print secret values.
func (b *Binding[T]) scrubSecrets(c *T, err error) error {
	if err == nil || !b.hasSecret || c == nil {
		return err
	}
	rv := reflect.ValueOf(c).Elem()
	var texts []string
	for _, f := range b.fields {
		if f.secret {
			visits := maxSecretVisits
			texts = secretTexts(rv.FieldByIndex(f.plan.index), texts, 0, &visits)
		}
	}
	texts = slices.DeleteFunc(texts, func(s string) bool { return len(s) < minSecretText })
	return sources.Scrub(err, texts...)
}

// secretTexts appends the texts of v's leaves to out.
// visits bounds the values it looks at (a user type's unexported
// pointers may form a cycle).
func secretTexts(v reflect.Value, out []string, depth int, visits *int) []string {
	if *visits--; *visits < 0 || depth > 32 || len(out) >= maxSecretTexts {
		return out
	}
	switch v.Kind() {
	case reflect.Invalid:
	case reflect.String:
		out = appendText(out, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = secretTexts(v.Elem(), out, depth+1, visits)
		}
	case reflect.Struct:
		if text, ok := shownText(v); ok { // netip.Addr, url.URL
			out = appendText(out, text)
		}
		for i := range v.NumField() {
			out = secretTexts(v.Field(i), out, depth+1, visits)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Kind() == reflect.Slice {
			return appendText(out, string(v.Bytes()))
		}
		for i := range min(v.Len(), maxSecretTexts) {
			out = secretTexts(v.Index(i), out, depth+1, visits)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next() && len(out) < maxSecretTexts; {
			out = secretTexts(it.Key(), out, depth+1, visits)
			out = secretTexts(it.Value(), out, depth+1, visits)
		}
	case reflect.Bool, reflect.Func, reflect.Chan, reflect.UnsafePointer:
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		if v.CanInterface() {
			return append(out, fmt.Sprint(v.Interface()))
		}
		// An unexported field: fmt would print it by its kind.
		switch {
		case v.CanInt():
			out = append(out, strconv.FormatInt(v.Int(), 10))
		case v.CanUint():
			out = append(out, strconv.FormatUint(v.Uint(), 10))
		case v.CanFloat():
			out = append(out, strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits()))
		}
	}
	return out
}

// shownText is the text of a struct that shows itself (MarshalText, else
// String), which is how fmt prints it; false for any other.
func shownText(v reflect.Value) (string, bool) {
	if !v.CanInterface() {
		return "", false
	}
	x := v.Interface()
	if v.CanAddr() && v.Addr().CanInterface() {
		x = v.Addr().Interface()
	}
	switch t := x.(type) {
	case encoding.TextMarshaler:
		b, err := t.MarshalText()
		return string(b), err == nil
	case fmt.Stringer:
		return t.String(), true
	}
	return "", false
}

// appendText appends s to out, and the escaped forms %q and %+q print of
// it where they differ (a password with a quote or a backslash).
func appendText(out []string, s string) []string {
	out = append(out, s)
	for _, q := range []string{strconv.Quote(s), strconv.QuoteToASCII(s)} {
		if q = q[1 : len(q)-1]; q != s && !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out
}

// maxErrChain bounds how many errors fieldErrorOf looks at.
const maxErrChain = 256

// fieldErrorOf finds in err's chain the *FieldError that names path, like
// errors.As, for a rejected generation's error, which holds the user's own
// errors (Validate's, an update= method's). Their Unwrap methods are user
// code: one that panics ends the search (nil), and the search looks at
// maxErrChain errors at most, so an Unwrap that returns its own error
// cannot loop forever. As methods are not called.
func fieldErrorOf(err error, path string) (found *FieldError) {
	defer func() {
		if recover() != nil {
			found = nil
		}
	}()
	budget := maxErrChain
	var walk func(error) *FieldError
	walk = func(e error) *FieldError {
		for e != nil {
			if budget--; budget < 0 {
				return nil
			}
			if fe, ok := e.(*FieldError); ok && fe.Field == path { //nolint:errorlint // this is the walk, one error at a time
				return fe
			}
			switch u := e.(type) { //nolint:errorlint // this is the walk, one error at a time
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					if fe := walk(x); fe != nil {
						return fe
					}
				}
				return nil
			default:
				return nil
			}
		}
		return nil
	}
	return walk(err)
}
