// Package consultest runs real Consul agents for tests.
//
// It builds Consul [Version] from the Go module proxy once, caches the binary
// outside the repository (see [CacheDir]), and starts dev-mode agents on free
// loopback ports:
//
//	func TestMain(m *testing.M) {
//		consultest.Main(m) // builds the binary before any test's clock starts
//	}
//
//	func TestSomething(t *testing.T) {
//		a := consultest.Start(t)
//		_, err := a.Client().KV().Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil)
//		...
//	}
//
// A dev agent keeps its data in memory: [Agent.Restart] loses every key and
// the Raft index starts again from the beginning, which is what watchers must
// survive. [WithACL] starts an agent whose ACL system denies by default.
//
// When the binary cannot be built (the proxy refuses, no network), [Start]
// fails the test with the reason: tests that need a real agent never skip.
package consultest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/livebind/livebind/internal/testenv/fixture"
)

// StartTimeout bounds how long [Start] and [Agent.Restart] wait for the
// agent to elect itself leader.
const StartTimeout = 30 * time.Second

// Option configures an agent started by [Start].
type Option interface{ apply(*settings) }

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

type settings struct {
	acl bool
}

// WithACL enables Consul's ACL system with default_policy "deny". Every
// request needs a token; [Agent.RootToken] is the initial management token,
// which [Agent.Client] uses.
func WithACL() Option { return optionFunc(func(s *settings) { s.acl = true }) }

// Agent is one running (or stopped) Consul dev agent.
type Agent struct {
	tb    testing.TB
	bin   string
	acl   bool
	root  string // initial management token when acl
	ports ports
	dir   string // TMPDIR of the agent process

	mu   sync.Mutex
	proc *process // nil while stopped
}

type ports struct{ http, serfLAN, serfWAN, server int }

// process is one run of the agent binary.
type process struct {
	cmd  *exec.Cmd
	out  *fixture.Tail
	done chan struct{} // closed when Wait returned
	err  error         // Wait's result, set before done is closed
}

// Main builds the Consul binary if needed, then runs the tests and exits. Use
// it as a package's TestMain body when the package has no other setup. A
// build failure is printed here and fails every test that starts an agent.
func Main(m *testing.M) {
	if _, err := EnsureBinary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(m.Run())
}

// Start starts a dev agent on free loopback ports and waits until it has
// elected itself leader. The agent is killed when the test ends. Start fails
// the test if the binary cannot be built or the agent does not come up.
func Start(tb testing.TB, opts ...Option) *Agent {
	tb.Helper()
	var s settings
	for _, o := range opts {
		o.apply(&s)
	}
	bin, err := EnsureBinary()
	if err != nil {
		tb.Fatalf("consultest: a real Consul agent is required: %v", err)
	}
	a := &Agent{tb: tb, bin: bin, acl: s.acl, dir: tb.TempDir()}
	if a.acl {
		a.root = newUUID()
	}
	var lastErr error
	for range 3 { // a port taken between probing and binding is retried
		if a.ports, lastErr = freePorts(); lastErr != nil {
			continue
		}
		if lastErr = a.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("consultest: start agent: %v", lastErr)
	}
	tb.Cleanup(a.Stop)
	return a
}

// Addr returns the agent's HTTP address, host:port.
func (a *Agent) Addr() string { return "127.0.0.1:" + strconv.Itoa(a.ports.http) }

// RootToken returns the initial management token of an agent started with
// [WithACL], or "".
func (a *Agent) RootToken() string { return a.root }

// Client returns a client of the agent with the root token (if ACLs are on).
// Its idle connections are closed when the test ends.
func (a *Agent) Client() *api.Client { return a.ClientWith(nil) }

// ClientWith returns a client of the agent after edit has changed its
// configuration (set Token, or wrap Transport). The configuration starts
// with a fresh pooled transport, whose idle connections are closed when the
// test ends, and ignores the CONSUL_* environment.
func (a *Agent) ClientWith(edit func(*api.Config)) *api.Client {
	a.tb.Helper()
	cfg := api.DefaultConfig() // a fresh pooled transport; the environment is overridden below
	cfg.Address, cfg.Scheme = a.Addr(), "http"
	cfg.Token, cfg.TokenFile, cfg.HttpAuth = a.root, "", nil
	cfg.Datacenter, cfg.Namespace, cfg.Partition = "", "", ""
	cfg.TLSConfig = api.TLSConfig{}
	tr := cfg.Transport
	if edit != nil {
		edit(cfg)
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		a.tb.Fatalf("consultest: client: %v", err)
	}
	a.tb.Cleanup(tr.CloseIdleConnections)
	return c
}

// TokenWithRules creates an ACL policy from rules (HCL, for example
// `key_prefix "app/" { policy = "read" }`, or "" for none) and a token
// holding it, and returns the token's secret. The agent must run with
// [WithACL].
func (a *Agent) TokenWithRules(rules string) string {
	a.tb.Helper()
	if !a.acl {
		a.tb.Fatal("consultest: TokenWithRules needs an agent started WithACL")
	}
	acl := a.Client().ACL()
	tok := &api.ACLToken{Description: "consultest"}
	if rules != "" {
		p, _, err := acl.PolicyCreate(&api.ACLPolicy{Name: "consultest-" + newUUID()[:8], Rules: rules}, nil)
		if err != nil {
			a.tb.Fatalf("consultest: create policy: %v", err)
		}
		tok.Policies = []*api.ACLTokenPolicyLink{{ID: p.ID}}
	}
	out, _, err := acl.TokenCreate(tok, nil)
	if err != nil {
		a.tb.Fatalf("consultest: create token: %v", err)
	}
	return out.SecretID
}

// Stop kills the agent and waits for it to exit. A dev agent loses its data.
// Stop is idempotent; [Agent.Restart] starts it again.
func (a *Agent) Stop() {
	a.mu.Lock()
	p := a.proc
	a.proc = nil
	a.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Restart stops the agent if it runs and starts a fresh one on the same
// ports, then waits until it is leader. Its data is gone and its Raft index
// starts again from the beginning.
func (a *Agent) Restart() {
	a.tb.Helper()
	a.Stop()
	var err error
	deadline := time.Now().Add(StartTimeout)
	for attempt := 0; ; attempt++ { // the old process's sockets may linger briefly
		if err = a.start(); err == nil || time.Now().After(deadline) || attempt >= 5 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		a.tb.Fatalf("consultest: restart agent: %v", err)
	}
}

// start runs the binary and waits for leadership.
func (a *Agent) start() error {
	args := []string{
		"agent", "-dev",
		"-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", strconv.Itoa(a.ports.http),
		"-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1", "-https-port", "-1",
		"-serf-lan-port", strconv.Itoa(a.ports.serfLAN),
		"-serf-wan-port", strconv.Itoa(a.ports.serfWAN),
		"-server-port", strconv.Itoa(a.ports.server),
		"-log-level", "warn",
		"-disable-host-node-id",
	}
	if a.acl {
		args = append(args, "-hcl", fmt.Sprintf(
			`acl { enabled = true default_policy = "deny" tokens { initial_management = %q agent = %q } }`,
			a.root, a.root))
	}
	cmd := exec.Command(a.bin, args...)
	out := &fixture.Tail{Max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "TMPDIR="+a.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := a.waitReady(p); err != nil {
		p.kill()
		return fmt.Errorf("%w\nagent output:\n%s", err, out.String())
	}
	a.mu.Lock()
	a.proc = p
	a.mu.Unlock()
	return nil
}

// waitReady polls /v1/status/leader until it names a leader (and, with ACLs,
// until the root token is accepted), the process exits, or StartTimeout.
func (a *Agent) waitReady(p *process) error {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	base := "http://" + a.Addr()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if ok, err := a.ready(ctx, hc, base); ok {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("agent not ready after %s: %w", StartTimeout, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("agent exited: %w", p.err)
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

func (a *Agent) ready(ctx context.Context, hc *http.Client, base string) (bool, error) {
	var leader string
	if err := getJSON(ctx, hc, base+"/v1/status/leader", "", &leader); err != nil {
		return false, err
	}
	if leader == "" {
		return false, errors.New("no leader yet")
	}
	if !a.acl {
		return true, nil
	}
	var self map[string]any
	if err := getJSON(ctx, hc, base+"/v1/acl/token/self", a.root, &self); err != nil {
		return false, err
	}
	return true, nil
}

func getJSON(ctx context.Context, hc *http.Client, url, token string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("X-Consul-Token", token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return json.Unmarshal(body, out)
}

// kill ends the agent's whole process group and waits for the agent.
func (p *process) kill() {
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// freePorts finds four loopback ports free for TCP, and for UDP too where
// Serf needs it.
func freePorts() (ports, error) {
	var (
		got     []int
		closers []func()
	)
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for len(got) < 4 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return ports{}, err
		}
		closers = append(closers, func() { l.Close() })
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // UDP port taken: try another
		}
		closers = append(closers, func() { u.Close() })
		got = append(got, port)
	}
	return ports{http: got[0], serfLAN: got[1], serfWAN: got[2], server: got[3]}, nil
}

// newUUID returns a random RFC 4122 version 4 UUID, the form Consul tokens
// take.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
