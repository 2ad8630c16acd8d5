// Command reactive_config is livebind's demo: it binds a TOML file and two
// environment variables, prints the configuration, and prints every update
// as it happens.
//
//	go run ./examples/reactive_config
//
// It copies its embedded default app.toml into a temporary directory (or
// -dir), takes a short scripted tour (a valid edit, an invalid edit that is
// rejected while the last good value is kept, an env change), then keeps
// watching until interrupted: edit the file it names and watch the updates.
// -tour=false skips the tour; -exit ends after it.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/examples/internal/demo"
)

//go:embed app.toml
var defaultConfig []byte

// Settings is the content of app.toml.
type Settings struct {
	Name     string        `toml:"name"`
	Workers  int           `toml:"workers"`
	Timeout  time.Duration `toml:"timeout"`
	Features []string      `toml:"features"`
}

// Config is what the demo binds.
type Config struct {
	Settings Settings `live:"file=${DEMO_DIR}/app.toml; debounce=100ms"`
	LogLevel string   `live:"env=DEMO_LOG_LEVEL; default=info; poll=200ms"`
	APIKey   string   `live:"env=DEMO_API_KEY; secret; default=none; poll=200ms"`
}

// Validate rejects configurations the service could not run with.
func (c *Config) Validate() error {
	if c.Settings.Workers < 1 {
		return fmt.Errorf("workers must be at least 1, got %d", c.Settings.Workers)
	}
	return nil
}

func main() { demo.Main("reactive_config", run) }

func run(ctx context.Context, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("reactive_config", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for app.toml (default: a new temporary directory)")
	tour := fs.Bool("tour", true, "make a few scripted changes to show what happens")
	exit := fs.Bool("exit", false, "exit after the tour instead of watching until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path, remove, err := demo.AppFile(*dir, "livebind-demo-", defaultConfig)
	if err != nil {
		return err
	}
	defer remove()
	if err := os.Setenv("DEMO_DIR", filepath.Dir(path)); err != nil {
		return err
	}

	var cfg Config
	b, err := livebind.Bind(ctx, &cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	c, gen := b.Snapshot()
	fmt.Fprintf(out, "watching %s\n", path)
	fmt.Fprintf(out, "gen %d: name=%s workers=%d timeout=%s features=%v log=%s\n",
		gen, c.Settings.Name, c.Settings.Workers, c.Settings.Timeout, c.Settings.Features, c.LogLevel)

	// The callback must never block: it runs on the binding's delivery
	// goroutine, and a send that nobody receives (the tour reads seen only
	// while it runs) would stall every later update. So it prints, and
	// hands the update to the tour only if there is room.
	seen := make(chan livebind.Update, 64)
	if _, err := b.Subscribe(func(u livebind.Update) {
		fmt.Fprintln(out, u) // secrets print as [redacted]
		select {
		case seen <- u:
		default:
		}
	}, livebind.From(gen)); err != nil {
		return err
	}

	if *tour {
		if err := runTour(ctx, out, b, path, seen); err != nil {
			return err
		}
	}
	if *exit {
		return nil
	}
	fmt.Fprintf(out, "edit %s or press Ctrl-C\n", path)
	<-ctx.Done()
	return nil
}

// runTour makes three changes and waits for each to show.
func runTour(ctx context.Context, out io.Writer, b *livebind.Binding[Config], path string, seen <-chan livebind.Update) error {
	steps := []struct {
		say  string
		do   func() error
		want livebind.Kind
	}{
		{"tour: raising workers to 8", func() error {
			return os.WriteFile(path, []byte("name = \"reactive-demo\"\nworkers = 8\ntimeout = \"2s\"\nfeatures = [\"search\", \"export\"]\n"), 0o644)
		}, livebind.Updated},
		{"tour: setting workers to 0 (Validate rejects it)", func() error {
			return os.WriteFile(path, []byte("name = \"reactive-demo\"\nworkers = 0\n"), 0o644)
		}, livebind.Error},
		{"tour: setting DEMO_API_KEY in-process", func() error { return os.Setenv("DEMO_API_KEY", "sk-demo-rotated") }, livebind.Added},
	}
	for _, s := range steps {
		fmt.Fprintln(out, s.say)
		if err := s.do(); err != nil {
			return err
		}
		if err := waitFor(ctx, seen, s.want); err != nil {
			return fmt.Errorf("%s: %w", s.say, err)
		}
	}
	c, gen := b.Snapshot()
	fmt.Fprintf(out, "tour done: gen %d workers=%d (the rejected edit did not replace the last good value)\n",
		gen, c.Settings.Workers)
	return nil
}

func waitFor(ctx context.Context, seen <-chan livebind.Update, kind livebind.Kind) error {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case u := <-seen:
			if u.Kind == kind || kind == livebind.Added && u.Kind == livebind.Updated {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("no %s update within 10s", kind)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
