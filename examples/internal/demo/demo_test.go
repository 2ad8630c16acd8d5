package demo_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/examples/internal/demo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestAppFile: without a directory the default goes to a new temporary
// one that remove deletes; an existing app.toml is kept as it is and
// remove leaves it; a directory that does not exist is an error.
func TestAppFile(t *testing.T) {
	def := []byte("name = \"default\"\n")

	path, remove, err := demo.AppFile("", "demo-test-", def)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != string(def) {
		t.Fatalf("temporary app.toml = %q, %v", got, err)
	}
	remove()
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("remove left %s: %v", filepath.Dir(path), err)
	}

	dir := t.TempDir()
	own := filepath.Join(dir, "app.toml")
	if err := os.WriteFile(own, []byte("name = \"mine\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path, remove, err = demo.AppFile(dir, "demo-test-", def)
	if err != nil || path != own {
		t.Fatalf("AppFile(dir) = %q, %v, want %q", path, err, own)
	}
	remove()
	if got, err := os.ReadFile(own); err != nil || string(got) != "name = \"mine\"\n" {
		t.Errorf("existing app.toml after AppFile and remove = %q, %v", got, err)
	}

	if _, _, err := demo.AppFile(filepath.Join(dir, "missing"), "demo-test-", def); err == nil {
		t.Error("AppFile in a directory that does not exist: no error")
	}
}
