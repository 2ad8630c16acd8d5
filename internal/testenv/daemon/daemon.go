// Package daemon runs real servers from Debian packages (redis-server,
// nats-server, etcd, PostgreSQL) for tests, on free loopback ports, and
// stops them when the test ends. It is the common part of the per-server
// harnesses (redistest, natstest, etcdtest, pgtest); it is test support,
// not part of livebind's API.
//
// A server whose binary cannot be found skips the test with a message that
// names the Debian package to install, unless LIVEBIND_REQUIRE_SERVERS is
// set (as .ci/run does), where it fails the test instead.
//
// Servers are started with Pdeathsig, so a test binary that dies does not
// leave them running, and they can be stopped and started again on the same
// ports and data directory to test restarts.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// RequireEnv names the variable that, set to anything, turns a missing server binary into a
// test failure instead of a skip. .ci/run sets it.
const RequireEnv = "LIVEBIND_REQUIRE_SERVERS"

// Spec describes one server program.
type Spec struct {
	// Name names the server in messages, e.g. "redis-server".
	Name string
	// Package is the Debian package that has it, for the skip message.
	Package string
	// Binaries are the candidates, tried in order: a bare name is looked up
	// on PATH, a path is used when it is an executable file.
	Binaries []string
	// Ports is how many free loopback ports the server needs.
	Ports int
	// User, when the test runs as root, runs the server as this user (for
	// PostgreSQL, which refuses root). The data directory is given to it.
	User string
	// Init runs once before the first start, for example initdb. run
	// runs a command as the server's user with its output kept for errors.
	Init func(s *Server, run func(name string, args ...string) error) error
	// Args returns the server's arguments.
	Args func(s *Server) []string
	// Ready reports nil when the server answers. It is called every 50 ms
	// until it does or ReadyTimeout passes.
	Ready func(ctx context.Context, s *Server) error
	// ReadyTimeout bounds the wait for Ready; 30 s when zero.
	ReadyTimeout time.Duration
	// StopSignal asks the server to stop (SIGTERM when zero); after 10 s it
	// is killed.
	StopSignal syscall.Signal
}

// Server is a running (or stopped) server.
type Server struct {
	// Ports are its loopback ports, len(Spec.Ports).
	Ports []int
	// Dir is its data directory, owned by Spec.User when one is given.
	Dir string
	// Bin is the path of the binary that runs.
	Bin string

	spec  Spec
	tb    testing.TB
	cred  *syscall.Credential
	out   *fixture.Tail
	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
	start int
}

// Find returns the path of the first candidate binary that exists.
func Find(spec Spec) (string, error) {
	for _, b := range spec.Binaries {
		if filepath.IsAbs(b) {
			if st, err := os.Stat(b); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return b, nil
			}
			continue
		}
		if p, err := exec.LookPath(b); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (tried %v); install it with `apt-get install -y %s`", spec.Name, spec.Binaries, spec.Package)
}

// Start starts the server and waits until it is ready. It is stopped and
// its directory removed when the test ends. Without a binary the test is
// skipped (or failed under LIVEBIND_REQUIRE_SERVERS).
func Start(tb testing.TB, spec Spec) *Server {
	tb.Helper()
	bin, err := Find(spec)
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			tb.Fatalf("daemon: a real %s is required (%s is set): %v", spec.Name, RequireEnv, err)
		}
		tb.Skipf("daemon: skipping the real-server test: %v", err)
	}
	s := &Server{Bin: bin, spec: spec, tb: tb, out: &fixture.Tail{Max: 64 << 10}}
	if err := s.prepare(); err != nil {
		tb.Fatalf("daemon: %s: %v", spec.Name, err)
	}
	tb.Cleanup(func() {
		s.Stop()
		_ = os.RemoveAll(s.Dir)
	})
	if spec.Init != nil {
		if err := spec.Init(s, s.runAs); err != nil {
			tb.Fatalf("daemon: %s init: %v\n%s", spec.Name, err, s.out.String())
		}
	}
	var lastErr error
	for range 3 { // a port taken between probing and binding is retried
		if s.Ports, lastErr = FreePorts(spec.Ports); lastErr != nil {
			continue
		}
		if lastErr = s.launch(); lastErr == nil {
			return s
		}
		s.Stop()
	}
	tb.Fatalf("daemon: %s did not come up: %v", spec.Name, lastErr)
	return nil
}

func (s *Server) prepare() error {
	// os.MkdirTemp, not tb.TempDir: the directory may belong to another
	// user, which TempDir's cleanup cannot always remove.
	dir, err := os.MkdirTemp("", "livebind-"+s.spec.Name+"-")
	if err != nil {
		return err
	}
	s.Dir = dir
	if s.spec.User == "" || os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(s.spec.User)
	if err != nil {
		return fmt.Errorf("user %s: %w", s.spec.User, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}

func (s *Server) setup(cmd *exec.Cmd) {
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.Env = append(os.Environ(), "HOME="+s.Dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// runAs runs a helper command (initdb) as the server's user and waits at
// most a minute for it.
func (s *Server) runAs(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	s.setup(cmd)
	return cmd.Run()
}

func (s *Server) launch() error {
	s.mu.Lock()
	s.start++
	cmd := exec.Command(s.Bin, s.spec.Args(s)...)
	s.setup(cmd)
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("start %s: %w", s.Bin, err)
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	go func() { _ = cmd.Wait(); close(done) }()
	limit := s.spec.ReadyTimeout
	if limit == 0 {
		limit = 30 * time.Second
	}
	deadline := time.Now().Add(limit)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("%s exited at start:\n%s", s.spec.Name, s.out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = s.spec.Ready(ctx, s)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %v: %w\n%s", s.spec.Name, limit, err, s.out.String())
}

// Addr returns "127.0.0.1:<Ports[i]>".
func (s *Server) Addr(i int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Ports[i]))
}

// Stop asks the server to stop, kills it after 10 s, and waits for it.
// Safe to call more than once and on a stopped server.
func (s *Server) Stop() {
	cmd, done := s.detach()
	if cmd == nil {
		return
	}
	sig := s.spec.StopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		kill(cmd, done)
	}
}

// Kill ends the server at once with SIGKILL (a crash, not a shutdown).
func (s *Server) Kill() {
	if cmd, done := s.detach(); cmd != nil {
		kill(cmd, done)
	}
}

// detach takes the running process and its done channel from s, or
// returns a nil cmd when none runs.
func (s *Server) detach() (*exec.Cmd, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	if cmd == nil || cmd.Process == nil {
		return nil, nil
	}
	return cmd, done
}

// kill ends cmd's process group with SIGKILL and waits until done closes.
func kill(cmd *exec.Cmd, done chan struct{}) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts a stopped server again on the same ports and directory
// and waits until it is ready; it fails the test if it cannot.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	var err error
	for range 50 { // the old socket may linger for a moment
		if err = s.launch(); err == nil {
			return
		}
		s.Stop()
		time.Sleep(100 * time.Millisecond)
	}
	s.tb.Fatalf("daemon: %s did not restart: %v", s.spec.Name, err)
}

// Output returns the server's recent output, for failure messages.
func (s *Server) Output() string { return s.out.String() }

// FreePorts returns n distinct free loopback ports.
func FreePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	if len(ports) != n {
		return nil, errors.New("daemon: not enough free ports")
	}
	return ports, nil
}
