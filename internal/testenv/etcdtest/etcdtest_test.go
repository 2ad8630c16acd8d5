package etcdtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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

// TestCluster: three members elect a leader; with two stopped, the third
// has none; with them back, it has one again.
func TestCluster(t *testing.T) {
	m := etcdtest.StartCluster(t, 3)
	health := func() string {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, m[0].Endpoint()+"/health", nil)
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
	m[1].Stop()
	m[2].Stop()
	waitHealth := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for h := health(); !strings.Contains(h, want); h = health() {
			if time.Now().After(deadline) {
				t.Fatalf("health never %s: %s", want, h)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitHealth(`"false"`)
	m[1].Restart()
	m[2].Restart()
	waitHealth(`"true"`)
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}
