package natstest_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStart: the server has JetStream on, serves its monitoring endpoints,
// requires the user given, and restarts on the same ports.
func TestStart(t *testing.T) {
	s := natstest.Start(t, natstest.WithUser("app", "pw"))
	body, err := s.Monitor(t.Context(), "/varz")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"jetstream"`) || !strings.Contains(string(body), `"auth_required": true`) {
		t.Fatalf("/varz lacks jetstream or auth_required:\n%s", body)
	}
	url := s.URL()
	s.Restart()
	if s.URL() != url {
		t.Fatalf("restart moved the server from %s to %s", url, s.URL())
	}
	if _, err := s.Monitor(t.Context(), "/healthz"); err != nil {
		t.Fatal(err)
	}
}
