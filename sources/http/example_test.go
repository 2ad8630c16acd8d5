package http_test

import (
	"context"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"

	"github.com/livebind/livebind"
	livehttp "github.com/livebind/livebind/sources/http"
)

// A document served over HTTP, polled every 30s with conditional requests.
// The client and extra headers come from WithSourceConfig; the tag's
// header= carries a token from the environment, never shown in errors.
func Example() {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(nethttp.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, `{"name": "api", "workers": 4}`)
	}))
	defer srv.Close()

	type Remote struct {
		Name    string `json:"name"`
		Workers int    `json:"workers"`
	}
	var cfg struct {
		Live Remote `live:"http=${CONFIG_URL}/live?env=prod; poll=30s; timeout=2s; header=Authorization: Bearer ${CONFIG_TOKEN}"`
	}
	env := map[string]string{"CONFIG_URL": srv.URL, "CONFIG_TOKEN": "s3cret"}
	b, err := livebind.Bind(context.Background(), &cfg,
		livebind.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		livebind.WithSourceConfig("http", livehttp.Config{
			Client: srv.Client(), // or a client with its own TLS roots, proxy or auth transport
			Header: nethttp.Header{"User-Agent": {"example/1.0"}},
		}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	fmt.Println(b.Get().Live.Name, b.Get().Live.Workers)
	// Output: api 4
}
