package etcdtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStartRestart: the member answers /health, and again after a restart
// on the same port.
func TestStartRestart(t *testing.T) {
	s := etcdtest.Start(t)
	health := func() string {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.Endpoint()+"/health", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if h := health(); !strings.Contains(h, `"true"`) {
		t.Fatalf("health: %s", h)
	}
	s.Restart()
	if h := health(); !strings.Contains(h, `"true"`) {
		t.Fatalf("health after restart: %s", h)
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}
