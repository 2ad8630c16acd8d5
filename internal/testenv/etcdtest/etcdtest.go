// Package etcdtest starts a real etcd server (Debian's etcd-server package,
// version 3.4) for tests: a single member with a new data directory,
// listening for clients and peers on free loopback ports. The flags follow
// ../shared/testservers.md. Authentication is off; a test that needs users
// and roles sets them up through its own client (this package needs no
// etcd client). It is test support, not part of livebind's API.
package etcdtest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/daemon"
)

// Server is a running etcd member. Stop, Kill and Restart (from
// daemon.Server) keep its ports and data directory, so data survives.
type Server struct {
	*daemon.Server
	tls    bool
	client string // the client URL of a cluster member
}

// Option changes how the member is started.
type Option func(*options)

type options struct {
	certFile, keyFile, clientCA string
}

// WithTLS serves clients over TLS with the certificate and key in these
// PEM files (for 127.0.0.1). With clientCA not empty, clients must also
// present a certificate signed by that CA (mutual TLS).
func WithTLS(certFile, keyFile, clientCA string) Option {
	return func(o *options) { o.certFile, o.keyFile, o.clientCA = certFile, keyFile, clientCA }
}

func (o *options) scheme() string {
	if o.certFile != "" {
		return "https://"
	}
	return "http://"
}

func spec(o *options) daemon.Spec {
	return daemon.Spec{
		Name:     "etcd",
		Package:  "etcd-server",
		Binaries: []string{"/usr/bin/etcd", "etcd"},
		Ports:    2, // client, peer
		Args: func(s *daemon.Server) []string {
			client := o.scheme() + s.Addr(0)
			peer := "http://" + s.Addr(1)
			var tlsArgs []string
			if o.certFile != "" {
				tlsArgs = append(tlsArgs, "--cert-file", o.certFile, "--key-file", o.keyFile)
			}
			if o.clientCA != "" {
				tlsArgs = append(tlsArgs, "--client-cert-auth", "--trusted-ca-file", o.clientCA)
			}
			return append([]string{
				"--name", "default",
				"--data-dir", filepath.Join(s.Dir, "data"),
				"--listen-client-urls", client, "--advertise-client-urls", client,
				"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
				"--initial-cluster", "default=" + peer,
				"--logger", "zap", "--log-level", "error",
			}, tlsArgs...)
		},
		Ready: func(ctx context.Context, s *daemon.Server) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.scheme()+s.Addr(0)+"/health", nil)
			if err != nil {
				return err
			}
			rt := http.DefaultTransport
			if o.certFile != "" {
				// The probe only asks whether the member answers; it does not
				// check the certificate (nor, under mutual TLS, can it send
				// one: /health is reached through the TLS error then).
				tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // a readiness probe of a test server
				defer tr.CloseIdleConnections()
				rt = tr
			}
			resp, err := rt.RoundTrip(req)
			if err != nil && o.clientCA != "" && strings.Contains(err.Error(), "certificate") {
				return nil // the member answers; it wants a client certificate
			}
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
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return &Server{Server: daemon.Start(tb, spec(&o)), tls: o.certFile != ""}
}

// Endpoint is the client URL, http://127.0.0.1:<port> (https:// with
// WithTLS), for clientv3.Config.Endpoints.
func (s *Server) Endpoint() string {
	if s.client != "" {
		return s.client
	}
	if s.tls {
		return "https://" + s.Addr(0)
	}
	return "http://" + s.Addr(0)
}

// StartCluster starts a cluster of n members (each a Server with its own
// ports and data directory) and waits until it has a leader. Stopping a
// majority of the members takes the leader away from the others.
func StartCluster(tb testing.TB, n int) []*Server {
	tb.Helper()
	ports, err := daemon.FreePorts(2 * n)
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	name := func(i int) string { return "m" + strconv.Itoa(i) }
	peer := func(i int) string { return "http://127.0.0.1:" + strconv.Itoa(ports[2*i+1]) }
	var initial []string
	for i := range n {
		initial = append(initial, name(i)+"="+peer(i))
	}
	members := make([]*Server, n)
	for i := range n {
		spec := spec(&options{})
		spec.Ports = 0
		client := "http://127.0.0.1:" + strconv.Itoa(ports[2*i])
		spec.Args = func(s *daemon.Server) []string {
			return []string{
				"--name", name(i), "--data-dir", filepath.Join(s.Dir, "data"),
				"--listen-client-urls", client, "--advertise-client-urls", client,
				"--listen-peer-urls", peer(i), "--initial-advertise-peer-urls", peer(i),
				"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
				"--logger", "zap", "--log-level", "error",
			}
		}
		// A member alone has no leader: it is ready once it listens.
		spec.Ready = func(ctx context.Context, _ *daemon.Server) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(ports[2*i]))
			if err != nil {
				return err
			}
			return c.Close()
		}
		members[i] = &Server{Server: daemon.Start(tb, spec), client: client}
	}
	deadline := time.Now().Add(30 * time.Second)
	for !members[0].healthy() {
		if time.Now().After(deadline) {
			tb.Fatalf("etcdtest: the %d-member cluster has no leader after 30s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return members
}

// healthy reports that the member answers /health with a leader.
func (s *Server) healthy() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint()+"/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"true"`)
}
