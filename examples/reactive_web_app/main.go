// Command reactive_web_app serves a page that shows its live configuration
// and changes the moment the configuration file is saved, without a reload.
//
//	go run ./examples/reactive_web_app            # then open http://127.0.0.1:8080/
//
// It copies its embedded default app.toml into a temporary directory (or
// -dir) and binds it together with two environment variables (one of them a
// secret, WEBAPP_API_KEY). It serves:
//
//	/               the app's page, kept live by the server-sent events of /live
//	/live           the page's view of the configuration, one event per change
//	/debug/config/  livebind's operations page and JSON (package livebindhttp)
//	/metrics        Prometheus metrics (package metrics)
//
// If WEBAPP_REMOTE_URL is set when it starts, a banner text is also polled
// from that URL (an http= source). The field is optional: without the
// variable there is nothing to watch and the banner stays empty, and while
// the URL answers 404 the banner keeps its value until it appears. Consul is
// left out: it works the same way with a consul= field and an import of
// sources/consul.
//
// SIGHUP re-reads every source now (timed by the reload histogram). Edit
// the file the app names: a valid edit shows at once, an invalid one (an
// empty title, an unknown theme) is rejected and the page keeps the last
// good configuration.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/examples/internal/demo"
	"github.com/livebind/livebind/livebindhttp"
	"github.com/livebind/livebind/metrics"
)

//go:embed app.toml
var defaultConfig []byte

// Site is the content of app.toml.
type Site struct {
	Title    string   `toml:"title" json:"title"`
	Greeting string   `toml:"greeting" json:"greeting"`
	Theme    string   `toml:"theme" json:"theme"`
	Features []string `toml:"features" json:"features"`
}

// Config is what the app binds.
type Config struct {
	Site     Site   `live:"file=${WEBAPP_DIR}/app.toml; debounce=50ms"`
	LogLevel string `live:"env=WEBAPP_LOG_LEVEL; default=info; poll=500ms"`
	APIKey   string `live:"env=WEBAPP_API_KEY; secret; poll=500ms"`
	Banner   string `live:"http=${WEBAPP_REMOTE_URL}; optional; poll=2s; format=text"`
}

// Validate rejects configurations the page could not show.
func (c *Config) Validate() error {
	if c.Site.Title == "" {
		return errors.New("title must not be empty")
	}
	if c.Site.Theme != "light" && c.Site.Theme != "dark" {
		return fmt.Errorf("theme must be light or dark, got %q", c.Site.Theme)
	}
	return nil
}

func main() { demo.Main("reactive_web_app", run) }

// run starts the app and serves until ctx ends. It prints the address it
// listens on first, as "serving http://ADDR/".
func run(ctx context.Context, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("reactive_web_app", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	dir := fs.String("dir", "", "directory for app.toml (default: a new temporary directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path, remove, err := demo.AppFile(*dir, "livebind-webapp-", defaultConfig)
	if err != nil {
		return err
	}
	defer remove()
	// ${WEBAPP_DIR} comes from -dir; everything else from the environment.
	lookup := livebind.WithLookupEnv(func(k string) (string, bool) {
		if k == "WEBAPP_DIR" {
			return filepath.Dir(path), true
		}
		return os.LookupEnv(k)
	})
	var cfg Config
	b, err := livebind.Bind(ctx, &cfg, lookup, livebind.WithHistory(20))
	if err != nil {
		return err
	}
	defer b.Close()
	return serve(ctx, app{out: out, path: path, addr: *addr}, b)
}

type app struct {
	out        io.Writer
	path, addr string
}

// serve runs the HTTP server until ctx ends.
func serve(ctx context.Context, a app, b *livebind.Binding[Config]) error {
	col := metrics.NewCollector(b)
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", pageHandler(b, a.path))
	mux.Handle("GET /live", liveHandler(b))
	mux.Handle("/debug/config/", http.StripPrefix("/debug/config", livebindhttp.Handler(b, livebindhttp.WithTitle("reactive_web_app: configuration"))))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", a.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// Every request context ends with ctx, so open event streams end
		// too and Shutdown does not wait for them.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(a.out, "serving http://%s/ (edit %s; debug page /debug/config/, metrics /metrics)\n", ln.Addr(), a.path)

	var wg sync.WaitGroup
	defer wg.Wait()
	// From(1): every change since Bind, none lost in between; the secret
	// prints as [redacted].
	if _, err := b.Subscribe(func(u livebind.Update) { fmt.Fprintln(a.out, u) }, livebind.From(1)); err != nil {
		return err
	}

	// SIGHUP: re-read everything now, timed by livebind_reload_duration_seconds.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				if err := col.Reload(rctx); err != nil {
					fmt.Fprintln(a.out, "reload:", err)
				}
				cancel()
			}
		}
	})

	errc := make(chan error, 1)
	wg.Go(func() { errc <- srv.Serve(ln) })
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
