package daemon_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/daemon"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestFindNamesThePackage: a server that is not installed is reported with
// the apt-get command that installs it, which is what the skip shows.
func TestFindNamesThePackage(t *testing.T) {
	_, err := daemon.Find(daemon.Spec{Name: "nosuch", Package: "nosuch-pkg", Binaries: []string{"livebind-no-such-binary", "/nonexistent/bin/x"}})
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y nosuch-pkg") {
		t.Fatalf("Find = %v, want an error naming the package", err)
	}
	got, err := daemon.Find(daemon.Spec{Binaries: []string{"/nonexistent/sh", "sh"}})
	if err != nil || !strings.HasSuffix(got, "/sh") {
		t.Fatalf("Find = %q, %v; want sh from PATH", got, err)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	ps, err := daemon.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ps {
		if seen[p] || p <= 0 {
			t.Fatalf("ports %v are not distinct positive ports", ps)
		}
		seen[p] = true
	}
}
