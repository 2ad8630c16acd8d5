package baotest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestServer: a real dev server comes up, serves KV v2, seals (503) and
// unseals with the key it printed.
func TestServer(t *testing.T) {
	s := Start(t)
	s.Must(http.MethodPost, "secret/data/app", map[string]any{"data": map[string]any{"k": "v"}})
	got := s.Must(http.MethodGet, "secret/data/app", nil)
	data := got["data"].(map[string]any)["data"].(map[string]any)
	if data["k"] != "v" {
		t.Fatalf("read back %v", got)
	}
	s.Seal()
	if code, _, _ := s.Do(http.MethodGet, "sys/health", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("sealed health = %d, want 503", code)
	}
	s.Unseal()
	if code, _, _ := s.Do(http.MethodGet, "sys/health", nil); code != http.StatusOK {
		t.Fatalf("unsealed health = %d, want 200", code)
	}
}

// TestUnpackChecksSum: an archive whose content does not match SHA256SUMS
// is refused, and the matching line is found in the file's format.
func TestUnpackChecksSum(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(
		"575ec3273fc4f91c76361bdc3a35c61edb55c0e6fdce825ac799bdd35f89fc80  bao-v2.6.2-linux-amd64.gz\n"+
			"67dbcd6ca11792fa9df0c13a6c3772022e18f206efc87b205f2f8648391293db  bao (uncompressed)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := expectedSum(filepath.Join(dir, "SHA256SUMS"))
	if err != nil || sum != "67dbcd6ca11792fa9df0c13a6c3772022e18f206efc87b205f2f8648391293db" {
		t.Fatalf("expectedSum = %q, %v", sum, err)
	}
	// A real gzip whose content is not the binary must be refused.
	archive := filepath.Join(dir, "bao-v2.6.2-linux-amd64.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte("not bao"))
	_ = zw.Close()
	if err := os.WriteFile(archive, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := unpack(archive); err == nil || !strings.Contains(err.Error(), "SHA256SUMS says") {
		t.Fatalf("a wrong archive was not refused for its checksum: %v", err)
	}
}
