package livebindhttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/livebindhttp"
)

// AppConfig is what the example binds.
type AppConfig struct {
	Port   int    `live:"file=${APP_DIR}/app.toml; key=port"`
	APIKey string `live:"env=APP_API_KEY; secret"`
}

func ExampleHandler() {
	dir, err := os.MkdirTemp("", "livebindhttp-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "app.toml"), []byte("port = 8080\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	env := map[string]string{"APP_DIR": dir, "APP_API_KEY": "sk-123"}

	var cfg AppConfig
	b, err := livebind.Bind(context.Background(), &cfg,
		livebind.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	mux := http.NewServeMux()
	mux.Handle("/debug/config/", http.StripPrefix("/debug/config", livebindhttp.Handler(b)))
	srv := httptest.NewServer(mux) // in a program: http.ListenAndServe("127.0.0.1:8081", mux)
	defer srv.Close()
	defer b.Close() // runs first: ends open event streams so that srv.Close need not wait

	resp, err := http.Get(srv.URL + "/debug/config/config.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// {"generation":1,"fields":{"Port":8080,"APIKey":"[redacted]"}}
}
