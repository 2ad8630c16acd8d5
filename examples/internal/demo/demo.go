// Package demo holds what the example programs share around livebind:
// running main with a context that ends at Ctrl-C, and the directory with
// the app.toml they bind.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// Main runs run with a context that ends at an interrupt or SIGTERM, the
// process's standard output and its arguments. If run fails, Main prints
// name and the error to standard error and exits with status 1.
func Main(name string, run func(ctx context.Context, out io.Writer, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// AppFile returns the path of app.toml in dir, first writing def there if
// there is no such file. An empty dir means a new temporary directory
// named after tempPrefix, which remove deletes; for any other dir, remove
// does nothing.
func AppFile(dir, tempPrefix string, def []byte) (path string, remove func(), err error) {
	remove = func() {}
	if dir == "" {
		d, err := os.MkdirTemp("", tempPrefix)
		if err != nil {
			return "", nil, err
		}
		dir, remove = d, func() { _ = os.RemoveAll(d) }
	}
	path = filepath.Join(dir, "app.toml")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(path, def, 0o644); err != nil {
			remove()
			return "", nil, err
		}
	}
	return path, remove, nil
}
