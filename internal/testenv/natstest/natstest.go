// Package natstest starts a real NATS server (Debian's nats-server package,
// version 2.9) with JetStream for tests, on free loopback ports: one for
// clients and one for the HTTP monitoring endpoints (/varz, /connz). Its
// JetStream store lives in the server's directory, which a Restart keeps.
// It is test support, not part of livebind's API.
package natstest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/livebind/livebind/internal/testenv/daemon"
)

// Server is a running nats-server.
type Server struct {
	*daemon.Server
	user, password string
	config         string
}

// Option changes how the server starts.
type Option func(*Server)

// WithUser makes the server require user and password from every client.
func WithUser(user, password string) Option {
	return func(s *Server) { s.user, s.password = user, password }
}

// WithConfig starts the server with a configuration file holding text
// (an authorization block with per-user permissions, say) beside its
// flags. Credentials given there are the test's to use: User knows only
// those of WithUser.
func WithConfig(text string) Option {
	return func(s *Server) { s.config = text }
}

// Start starts a nats-server with JetStream and stops it when the test
// ends. Without nats-server the test is skipped (failed under
// LIVEBIND_REQUIRE_SERVERS).
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{}
	for _, opt := range opts {
		opt(s)
	}
	s.Server = daemon.Start(tb, daemon.Spec{
		Name:     "nats-server",
		Package:  "nats-server",
		Binaries: []string{"nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server"},
		Ports:    2,
		Args: func(ds *daemon.Server) []string {
			args := []string{
				"-js", "-sd", filepath.Join(ds.Dir, "jetstream"), "-a", "127.0.0.1",
				"-p", strconv.Itoa(ds.Ports[0]), "-m", strconv.Itoa(ds.Ports[1]),
			}
			if s.config != "" {
				conf := filepath.Join(ds.Dir, "nats.conf")
				if err := os.WriteFile(conf, []byte(s.config), 0o600); err != nil {
					tb.Fatalf("natstest: write config: %v", err)
				}
				args = append(args, "-c", conf)
			}
			if s.user != "" {
				args = append(args, "--user", s.user, "--pass", s.password)
			}
			return args
		},
		Ready: func(ctx context.Context, ds *daemon.Server) error {
			_, err := get(ctx, "http://"+ds.Addr(1)+"/healthz?js-enabled-only=true")
			return err
		},
	})
	return s
}

// URL is the client URL, nats://127.0.0.1:port, without credentials.
func (s *Server) URL() string { return "nats://" + s.Addr(0) }

// SetUser changes the credentials the server requires from its next
// Restart on (to test a client whose refused password becomes right).
func (s *Server) SetUser(user, password string) { s.user, s.password = user, password }

// User and Password are the credentials given to WithUser, or "".
func (s *Server) User() (user, password string) { return s.user, s.password }

// Monitor GETs a monitoring endpoint such as "/connz?subs=1" and returns
// its JSON body.
func (s *Server) Monitor(ctx context.Context, path string) ([]byte, error) {
	return get(ctx, "http://"+s.Addr(1)+path)
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}
