package livebind_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/sources"
)

// Settings is read from a TOML file.
type Settings struct {
	Name    string `toml:"name"`
	Workers int    `toml:"workers"`
}

// Config binds a file, one key of another document, and two env variables.
type Config struct {
	Settings Settings `live:"file=${CONFIG_DIR}/app.toml; debounce=20ms"`
	Port     int      `live:"file=${CONFIG_DIR}/app.yaml; key=server.port; default=8080"`
	DBURL    string   `live:"env=DATABASE_URL; required"`
	APIKey   string   `live:"env=API_KEY; secret"`
}

// exampleEnv stands in for the process environment.
func exampleEnv(dir string) livebind.Option {
	env := map[string]string{"CONFIG_DIR": dir, "DATABASE_URL": "postgres://db/app", "API_KEY": "sk-123"}
	return livebind.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func exampleDir() string {
	dir, err := os.MkdirTemp("", "livebind-example")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.toml"), []byte("name = \"api\"\nworkers = 4\n"), 0o644); err != nil {
		panic(err)
	}
	return dir
}

// bindExample binds cfg with the example environment in a new exampleDir,
// after writing there the more files given as name, content pairs, and
// returns the binding and the directory; done closes the binding and removes
// the directory. It panics when Bind fails, like exampleDir on its errors.
func bindExample[T any](cfg *T, files ...string) (b *livebind.Binding[T], dir string, done func()) {
	dir = exampleDir()
	for i := 0; i+1 < len(files); i += 2 {
		if err := os.WriteFile(filepath.Join(dir, files[i]), []byte(files[i+1]), 0o644); err != nil {
			panic(err)
		}
	}
	b, err := livebind.Bind(context.Background(), cfg, exampleEnv(dir))
	if err != nil {
		_ = os.RemoveAll(dir)
		panic(err)
	}
	return b, dir, func() { _ = b.Close(); _ = os.RemoveAll(dir) }
}

// printNext prints, with show, the first value ch yields, or "no update"
// when none comes within 5 seconds.
func printNext[V any](ch <-chan V, show func(V)) {
	select {
	case v := <-ch:
		show(v)
	case <-time.After(5 * time.Second):
		fmt.Println("no update")
	}
}

func ExampleBind() {
	dir := exampleDir()
	defer os.RemoveAll(dir)

	var cfg Config
	b, err := livebind.Bind(context.Background(), &cfg, exampleEnv(dir))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	c := b.Get() // the current snapshot; never blocks
	fmt.Println(c.Settings.Name, c.Settings.Workers, c.Port, c.DBURL)
	// Output: api 4 8080 postgres://db/app
}

// Subscribe with From(gen) receives every change made after the snapshot
// it pairs with, even one made before Subscribe was called.
func ExampleBinding_Subscribe() {
	var cfg Config
	b, dir, done := bindExample(&cfg)
	defer done()

	c, gen := b.Snapshot()
	fmt.Println("gen", gen, "workers", c.Settings.Workers)
	_ = os.WriteFile(filepath.Join(dir, "app.toml"), []byte("name = \"api\"\nworkers = 8\n"), 0o644)

	seen := make(chan livebind.Update, 1)
	unsubscribe, err := b.Subscribe(func(u livebind.Update) { seen <- u }, livebind.From(gen))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unsubscribe()
	printNext(seen, func(u livebind.Update) { fmt.Println(u.Kind, u.Field, u.Gen, b.Get().Settings.Workers) })
	// Output:
	// gen 1 workers 4
	// updated Settings 2 8
}

func ExampleWatchField() {
	var cfg Config
	b, dir, done := bindExample(&cfg)
	defer done()

	// The type parameter must match the field: this is checked here, once.
	_, err := livebind.WatchField(b, "Port", func(c livebind.FieldChange[string]) {})
	fmt.Println(err)

	ports := make(chan int, 1)
	unsubscribe, err := livebind.WatchField(b, "Port", func(c livebind.FieldChange[int]) { ports <- c.New })
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unsubscribe()
	_ = os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("server:\n  port: 9090\n"), 0o644)
	printNext(ports, func(p int) { fmt.Println("port", p) })
	// Output:
	// livebind: field Port: field type mismatch: field is int, watcher wants string
	// port 9090
}

func ExampleUpdate_String() {
	u := livebind.Update{Kind: livebind.Updated, Field: "APIKey", Source: "env:API_KEY", Old: "[redacted]", New: "[redacted]", Gen: 7, Secret: true}
	fmt.Println(u)
	// Output: gen 7 updated APIKey (env:API_KEY): [redacted] -> [redacted]
}

// Layers merges a derived file over a base file whenever either changes.
type Layers struct {
	Base    Settings `live:"file=${CONFIG_DIR}/app.toml; debounce=20ms"`
	Derived Settings `live:"file=${CONFIG_DIR}/override.toml; depends_on=Base; update=Merge; debounce=20ms"`
}

// Merge fills unset derived settings from Base.
func (l *Layers) Merge(next Settings) error {
	if next.Name == "" {
		next.Name = l.Base.Name
	}
	if next.Workers == 0 {
		next.Workers = l.Base.Workers
	}
	l.Derived = next
	return nil
}

func Example_dependsOn() {
	var cfg Layers
	b, dir, done := bindExample(&cfg, "override.toml", "workers = 16\n")
	defer done()
	fmt.Println(b.Get().Derived.Name, b.Get().Derived.Workers)

	derived := make(chan Settings, 1)
	unsubscribe, _ := b.Subscribe(func(u livebind.Update) { derived <- u.New.(Settings) }, livebind.Fields("Derived"))
	defer unsubscribe()
	_ = os.WriteFile(filepath.Join(dir, "app.toml"), []byte("name = \"renamed\"\nworkers = 4\n"), 0o644)
	printNext(derived, func(d Settings) { fmt.Println(d.Name, d.Workers) })
	// Output:
	// api 16
	// renamed 16
}

// The optional flag: use a source if it is there. Here the remote banner's
// URL variable is unset, so there is nothing to watch, and the overrides
// file does not exist yet: it is watched, and appears as an Added update
// once written. Both fields keep their defaults and Bind succeeds.
func ExampleBind_optional() {
	dir, err := os.MkdirTemp("", "livebind-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	var cfg struct {
		Banner  string `live:"http=${BANNER_URL}; optional; format=text; default=welcome"`
		Workers int    `live:"file=${DIR}/overrides.yaml; key=workers; optional; default=4"`
	}
	env := livebind.WithLookupEnv(func(k string) (string, bool) {
		if k == "DIR" {
			return dir, true
		}
		return "", false // BANNER_URL is unset
	})
	b, err := livebind.Bind(context.Background(), &cfg, env)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	fmt.Println(b.Get().Banner, b.Get().Workers)
	for _, f := range b.Status().Fields {
		fmt.Printf("%s: %s\n", f.Field, f.State)
	}
	// Output:
	// welcome 4
	// Banner: not watched (optional): location names unset variable BANNER_URL
	// Workers: absent (optional)
}

// A source that refuses the credentials fails Bind with a FieldError naming
// the field; sources.ErrAuth tells it from a server that is down
// (sources.ErrUnreachable), whichever source the field reads.
func ExampleFieldError_refusedCredentials() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "token not valid", http.StatusForbidden)
	}))
	defer srv.Close()

	var cfg struct {
		Flags string `live:"http=${FLAGS_URL}; format=text"`
	}
	env := livebind.WithLookupEnv(func(k string) (string, bool) { return srv.URL + "/flags", k == "FLAGS_URL" })
	_, err := livebind.Bind(context.Background(), &cfg, env)

	var fe *livebind.FieldError
	if errors.As(err, &fe) {
		fmt.Println("field:", fe.Field)
	}
	fmt.Println("credentials refused:", errors.Is(err, sources.ErrAuth))
	fmt.Println("server down:", errors.Is(err, sources.ErrUnreachable))
	// Output:
	// field: Flags
	// credentials refused: true
	// server down: false
}
