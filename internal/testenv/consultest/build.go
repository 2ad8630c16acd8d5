package consultest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// Version is the Consul release the harness builds and runs: the last MPL-2.0
// release whose dependencies the Go module proxy serves (see
// shared/testservers.md).
const Version = "v1.14.8"

// BinaryEnv names an environment variable that, when set, points at a consul
// binary to use instead of the cached build.
const BinaryEnv = "LIVEBIND_CONSUL_BIN"

// buildTimeout bounds the whole cold build (download and compile). It takes
// about 5 minutes on 2 cores with an empty module cache.
const buildTimeout = 15 * time.Minute

// wrapperGoMod is the go.mod of the throw-away module that builds Consul.
// The requirements are the ones shared/testservers.md found to build.
const wrapperGoMod = `module livebind.test/consulbuild

go 1.21

require (
	github.com/hashicorp/consul ` + Version + `
	github.com/hashicorp/consul/api v1.18.1
	github.com/hashicorp/consul/proto-public v0.2.1
	github.com/hashicorp/consul/sdk v0.13.0
)

replace launchpad.net/gocheck => github.com/go-check/check v0.0.0-20140225173054-eb6ee6f84d0a
`

// wrapperTools keeps the consul main package in the wrapper's module graph
// through go mod tidy; it is never compiled.
const wrapperTools = `//go:build tools

package tools

import _ "github.com/hashicorp/consul"
`

var (
	ensureOnce sync.Once
	ensurePath string
	ensureErr  error
)

// CacheDir returns the directory that holds the cached binary:
// ${XDG_CACHE_HOME:-$HOME/.cache}/livebind-tools/consul-<Version>.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("consultest: no cache directory: %w", err)
	}
	return filepath.Join(base, "livebind-tools", "consul-"+Version), nil
}

// EnsureBinary returns the path of a consul binary, building it from the Go
// module proxy first if it is not cached. The first build takes about five
// minutes on 2 cores; later calls return at once. It is safe to call from
// several goroutines and several processes: a lock file serializes builds and
// the binary appears in the cache only once complete. Progress goes to
// stderr.
func EnsureBinary() (string, error) {
	ensureOnce.Do(func() { ensurePath, ensureErr = ensureBinary() })
	return ensurePath, ensureErr
}

func ensureBinary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("consultest: %s=%s: %w", BinaryEnv, p, err)
		}
		return p, nil
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "consul")
	if usable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("consultest: %w", err)
	}
	unlock, err := fixture.LockFile(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", fmt.Errorf("consultest: %w", err)
	}
	defer unlock()
	if usable(bin) { // another process built it while we waited
		return bin, nil
	}
	if err := build(dir, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// usable reports whether path is an executable regular file.
func usable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// build compiles Consul into bin through a temporary wrapper module and a
// temporary output name, renamed into place only on success.
func build(dir, bin string) error {
	start := time.Now()
	logf("consultest: building consul %s from the Go module proxy into %s (first run only; ~5 min on 2 cores)", Version, bin)
	work, err := os.MkdirTemp("", "consultest-build-")
	if err != nil {
		return fmt.Errorf("consultest: %w", err)
	}
	defer os.RemoveAll(work)
	for name, body := range map[string]string{"go.mod": wrapperGoMod, "tools.go": wrapperTools} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
			return fmt.Errorf("consultest: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	tmp := filepath.Join(dir, fmt.Sprintf("consul.tmp-%d", os.Getpid()))
	defer os.Remove(tmp)
	steps := [][]string{
		{"go", "mod", "tidy"},
		{"go", "build", "-trimpath", "-o", tmp, "github.com/hashicorp/consul"},
	}
	for _, args := range steps {
		stepStart := time.Now()
		logf("consultest: %s", strings.Join(args, " "))
		if err := run(ctx, work, args); err != nil {
			return fmt.Errorf("consultest: cannot build consul %s, so tests that need a real Consul agent cannot run "+
				"(check that the Go module proxy (GOPROXY=%s) is reachable, or set %s to a consul binary): %s failed after %s: %w",
				Version, goproxy(), BinaryEnv, strings.Join(args[:3], " "), time.Since(stepStart).Round(time.Second), err)
		}
	}
	if err := os.Rename(tmp, bin); err != nil {
		return fmt.Errorf("consultest: %w", err)
	}
	logf("consultest: built consul %s in %s", Version, time.Since(start).Round(time.Second))
	return nil
}

// run runs one go command in the wrapper module, with workspace mode off and
// module downloads allowed, whatever the caller's environment says.
func run(ctx context.Context, dir string, args []string) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	out := &tee{}
	cmd.Stdout, cmd.Stderr = out, out // the same writer: exec writes from one goroutine
	err := cmd.Run()
	if err != nil {
		tail := strings.TrimSpace(out.String())
		if len(tail) > 4000 {
			tail = "..." + tail[len(tail)-4000:]
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("timed out after %s: %w\n%s", buildTimeout, err, tail)
		}
		return fmt.Errorf("%w\n%s", err, tail)
	}
	return nil
}

func goproxy() string {
	if p := os.Getenv("GOPROXY"); p != "" {
		return p
	}
	out, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// tee keeps the go command's output for the error message and forwards it
// to stderr, so a long first build shows signs of life.
type tee struct{ buf bytes.Buffer }

func (t *tee) Write(p []byte) (int, error) {
	_, _ = os.Stderr.Write(p)
	return t.buf.Write(p)
}

func (t *tee) String() string { return t.buf.String() }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
