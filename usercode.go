package livebind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
