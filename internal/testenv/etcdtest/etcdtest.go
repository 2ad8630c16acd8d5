// Package etcdtest starts a real etcd server (Debian's etcd-server package,
// version 3.4) for tests: a single member with a new data directory,
// listening for clients and peers on free loopback ports. The flags follow
// ../shared/testservers.md. Authentication is off; a test that needs users
// and roles sets them up through its own client (this package needs no
// etcd client). It is test support, not part of livebind's API.
package etcdtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livebind/livebind/internal/testenv/daemon"
)

// Server is a running etcd member. Stop, Kill and Restart (from
// daemon.Server) keep its ports and data directory, so data survives.
type Server struct {
	*daemon.Server
}

func spec() daemon.Spec {
	return daemon.Spec{
		Name:     "etcd",
		Package:  "etcd-server",
		Binaries: []string{"/usr/bin/etcd", "etcd"},
		Ports:    2, // client, peer
		Args: func(s *daemon.Server) []string {
			client := "http://" + s.Addr(0)
			peer := "http://" + s.Addr(1)
			return []string{
				"--name", "default",
				"--data-dir", filepath.Join(s.Dir, "data"),
				"--listen-client-urls", client, "--advertise-client-urls", client,
				"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
				"--initial-cluster", "default=" + peer,
				"--logger", "zap", "--log-level", "error",
			}
		},
		Ready: func(ctx context.Context, s *daemon.Server) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr(0)+"/health", nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			// {"health":"true"} once the member has a leader; with auth on,
			// 3.4 still answers /health.
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"true"`) {
				return fmt.Errorf("health %d: %s", resp.StatusCode, body)
			}
			return nil
		},
	}
}

// Start starts a new single-member cluster and stops it when the test
// ends. Without etcd the test is skipped (failed under
// LIVEBIND_REQUIRE_SERVERS).
func Start(tb testing.TB) *Server {
	tb.Helper()
	return &Server{Server: daemon.Start(tb, spec())}
}

// Endpoint is the client URL, http://127.0.0.1:<port>, for
// clientv3.Config.Endpoints.
func (s *Server) Endpoint() string { return "http://" + s.Addr(0) }
