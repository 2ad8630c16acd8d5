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

// health returns the body of s's /health answer.
func health(t *testing.T, s *etcdtest.Server) string {
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

// waitHealth waits up to 30 s for s's /health answer to hold want.
func waitHealth(t *testing.T, s *etcdtest.Server, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h := health(t, s); !strings.Contains(h, want); h = health(t, s) {
		if time.Now().After(deadline) {
			t.Fatalf("health never %s: %s", want, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStartRestart: the member answers /health, and again after a restart
// on the same port.
func TestStartRestart(t *testing.T) {
	s := etcdtest.Start(t)
	if h := health(t, s); !strings.Contains(h, `"true"`) {
		t.Fatalf("health: %s", h)
	}
	s.Restart()
	if h := health(t, s); !strings.Contains(h, `"true"`) {
		t.Fatalf("health after restart: %s", h)
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// TestCluster: three members elect a leader; with two stopped, the third
// has none; with them back, it has one again.
func TestCluster(t *testing.T) {
	m := etcdtest.StartCluster(t, 3)
	if h := health(t, m[0]); !strings.Contains(h, `"true"`) {
		t.Fatalf("health: %s", h)
	}
	m[1].Stop()
	m[2].Stop()
	waitHealth(t, m[0], `"false"`)
	m[1].Restart()
	m[2].Restart()
	waitHealth(t, m[0], `"true"`)
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}
