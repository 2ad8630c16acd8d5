package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/metrics"
)

// AppConfig is what the example binds.
type AppConfig struct {
	Port int `live:"file=${APP_DIR}/app.toml; key=port"`
}

func ExampleNewCollector() {
	dir, err := os.MkdirTemp("", "metrics-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.toml")
	if err := os.WriteFile(path, []byte("port = 8080\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	var cfg AppConfig
	b, err := livebind.Bind(context.Background(), &cfg,
		livebind.WithLookupEnv(func(k string) (string, bool) { return dir, k == "APP_DIR" }))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	c := metrics.NewCollector(b)
	reg := prometheus.NewRegistry() // or prometheus.MustRegister(c)
	reg.MustRegister(c)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Reload through the collector to have it timed.
	if err := os.WriteFile(path, []byte("port = 9090\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Reload(context.Background()); err != nil {
		fmt.Println(err)
		return
	}

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, prefix := range []string{"livebind_generation ", "livebind_reloads_total ", "livebind_updates_total{", "livebind_reload_duration_seconds_count"} {
			if strings.HasPrefix(line, prefix) {
				fmt.Println(strings.ReplaceAll(line, path, "app.toml"))
			}
		}
	}
	// Output:
	// livebind_generation 2
	// livebind_reload_duration_seconds_count{result="ok"} 1
	// livebind_reloads_total 1
	// livebind_updates_total{field="Port",source="file:app.toml"} 1
}
