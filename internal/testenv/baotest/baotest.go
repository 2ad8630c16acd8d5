// Package baotest starts real OpenBao dev servers for tests. OpenBao is the
// MPL-2.0 fork of Vault with the same /v1 HTTP API, so the Vault source and
// github.com/hashicorp/vault/api run against it unchanged.
//
// The binary is found in this order:
//  1. LIVEBIND_BAO: a path to a bao (or vault) binary, or to the packed
//     bao-<version>-linux-amd64.gz (unpacked as in 3);
//  2. bao on PATH;
//  3. ../shared/testservers/openbao/bao-v2.6.2-linux-amd64.gz beside the
//     repository, unpacked once into the user cache
//     (<cache>/livebind-tools/openbao-v2.6.2/bao) after its sha256 is checked
//     against the SHA256SUMS file beside it.
//
// Where none is found the tests that need a server skip with a message that
// says how to get one, unless LIVEBIND_REQUIRE_BAO is set (as .ci/run does),
// which turns the skip into a failure.
//
// It is test support, not part of livebind's API.
package baotest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// Version is the OpenBao release the shared copy holds.
const Version = "v2.6.2"

// Environment variables read by this package.
const (
	// BinaryEnv names a bao binary or its .gz archive.
	BinaryEnv = "LIVEBIND_BAO"
	// RequireEnv, when set to anything, makes a missing binary fail the
	// test instead of skipping it.
	RequireEnv = "LIVEBIND_REQUIRE_BAO"
)

// RootToken is the dev server's root token.
const RootToken = "root"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of a bao binary, unpacking the shared archive on
// first use.
func Binary() (string, error) {
	binOnce.Do(func() { binPath, binErr = findBinary() })
	return binPath, binErr
}

// errNotFound reports that no binary could be found anywhere.
var errNotFound = errors.New("no OpenBao binary: set " + BinaryEnv + " to a bao binary (or to bao-" + Version +
	"-linux-amd64.gz), put bao on PATH, or keep ../shared/testservers/openbao/ beside the repository")

func findBinary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if strings.HasSuffix(p, ".gz") {
			return unpack(p)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("baotest: %s=%s: %w", BinaryEnv, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("bao"); err == nil {
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", errNotFound
	}
	archive := filepath.Join(filepath.Dir(root), "shared", "testservers", "openbao", "bao-"+Version+"-linux-amd64.gz")
	if _, err := os.Stat(archive); err != nil {
		return "", errNotFound
	}
	return unpack(archive)
}

// repoRoot is the nearest directory above the working directory that holds
// go.work (the repository's root).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("baotest: no go.work above the working directory")
}

// unpack gunzips archive into the cache once, checking the result against
// the "bao (uncompressed)" line of the SHA256SUMS file beside the archive.
func unpack(archive string) (string, error) {
	want, err := expectedSum(filepath.Join(filepath.Dir(archive), "SHA256SUMS"))
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	dir := filepath.Join(cache, "livebind-tools", "openbao-"+Version)
	bin := filepath.Join(dir, "bao")
	if sum, err := fileSum(bin); err == nil && sum == want {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "unpack.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("baotest: lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file releases it anyway
	if sum, err := fileSum(bin); err == nil && sum == want {
		return bin, nil // another process unpacked it while we waited
	}
	in, err := os.Open(archive)
	if err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return "", fmt.Errorf("baotest: %s: %w", archive, err)
	}
	tmp, err := os.CreateTemp(dir, "bao.tmp-*")
	if err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(zr, 1<<30)); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("baotest: unpack %s: %w", archive, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return "", fmt.Errorf("baotest: %s unpacks to sha256 %s, SHA256SUMS says %s", archive, got, want)
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	return bin, nil
}

// expectedSum reads the unpacked binary's sha256 from a SHA256SUMS file.
func expectedSum(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("baotest: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == "bao" && len(f[0]) == 64 {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("baotest: %s has no line for the unpacked bao", path)
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Server is a running dev server on loopback.
type Server struct {
	// Addr is the server's base URL, http://127.0.0.1:P.
	Addr string
	// UnsealKey is the key the dev server printed, for Unseal after Seal.
	UnsealKey string

	tb   testing.TB
	cmd  *exec.Cmd
	done chan struct{}
	out  *fixture.Tail
}

// Option configures Start.
type Option func(*settings)

type settings struct{ args []string }

// WithArgs adds arguments to `bao server -dev`, for example
// "-dev-leased-kv".
func WithArgs(args ...string) Option {
	return func(s *settings) { s.args = append(s.args, args...) }
}

// Start starts a dev server on free loopback ports (it binds P and P+1)
// and waits until it answers /v1/sys/health. It is killed when the test
// ends. Without a binary the test is skipped (or failed under
// LIVEBIND_REQUIRE_BAO).
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var set settings
	for _, o := range opts {
		o(&set)
	}
	bin, err := Binary()
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			tb.Fatalf("baotest: a real OpenBao server is required (%s is set): %v", RequireEnv, err)
		}
		tb.Skipf("baotest: skipping the real-server test: %v", err)
	}
	var lastErr error
	for range 3 { // a port taken between probing and binding is retried
		port, err := freePair()
		if err != nil {
			lastErr = err
			continue
		}
		s := &Server{tb: tb, Addr: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{}), out: &fixture.Tail{Max: 1 << 20}}
		args := append([]string{
			"server", "-dev", "-dev-root-token-id=" + RootToken,
			"-dev-listen-address=127.0.0.1:" + strconv.Itoa(port),
		}, set.args...)
		s.cmd = exec.Command(bin, args...)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		s.cmd.Env = append(os.Environ(), "BAO_DISABLE_MLOCK=true", "VAULT_DISABLE_MLOCK=true", "HOME="+tb.TempDir())
		if err := s.cmd.Start(); err != nil {
			tb.Fatalf("baotest: start %s: %v", bin, err)
		}
		go func() { _ = s.cmd.Wait(); close(s.done) }()
		if lastErr = s.waitReady(30 * time.Second); lastErr == nil {
			tb.Cleanup(s.Stop)
			s.UnsealKey = unsealKey.FindStringSubmatch(s.out.String())[1]
			return s
		}
		s.Stop()
	}
	tb.Fatalf("baotest: dev server did not come up: %v", lastErr)
	return nil
}

var unsealKey = regexp.MustCompile(`Unseal Key: (\S+)`)

func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("server exited: %s", s.out.String())
		default:
		}
		code, _, err := s.Do(http.MethodGet, "sys/health", nil)
		if err == nil && code == http.StatusOK && unsealKey.MatchString(s.out.String()) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %s", limit, s.out.String())
}

// Stop kills the server and waits for it; safe to call twice.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
}

// Do sends one request with the root token to /v1/<path> and returns the
// status code and the body. A nil body sends none.
func (s *Server) Do(method, path string, body any) (int, []byte, error) {
	return s.DoToken(RootToken, method, path, body)
}

// DoToken is Do with another token.
func (s *Server) DoToken(token, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.Addr+"/v1/"+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Vault-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, out, err
}

// Must sends a request and fails the test unless it answers 2xx; it
// returns the decoded JSON body (nil for 204).
func (s *Server) Must(method, path string, body any) map[string]any {
	s.tb.Helper()
	code, out, err := s.Do(method, path, body)
	if err != nil || code/100 != 2 {
		s.tb.Fatalf("baotest: %s %s: %d %v: %s", method, path, code, err, out)
	}
	var m map[string]any
	if len(out) > 0 {
		if err := json.Unmarshal(out, &m); err != nil {
			s.tb.Fatalf("baotest: %s %s: %v", method, path, err)
		}
	}
	return m
}

// Seal seals the server: every read answers 503 until Unseal.
func (s *Server) Seal() { s.tb.Helper(); s.Must(http.MethodPut, "sys/seal", nil) }

// Unseal unseals the server with the key it printed at start.
func (s *Server) Unseal() {
	s.tb.Helper()
	s.Must(http.MethodPut, "sys/unseal", map[string]string{"key": s.UnsealKey})
}

// freePair returns a free loopback port P whose P+1 is free too.
func freePair() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
		_ = l.Close()
		if err == nil {
			_ = l2.Close()
			return p, nil
		}
	}
	return 0, errors.New("baotest: no free pair of loopback ports")
}
