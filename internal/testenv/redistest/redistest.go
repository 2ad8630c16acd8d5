// Package redistest starts a real Redis server (Debian's redis-server
// package, version 7.0) for tests, on a free loopback port, without
// persistence. Options turn keyspace notifications on and add a password or
// an ACL user that may not run CONFIG. Commands are sent with a minimal RESP
// client, so this package needs no Redis client library. It is test support,
// not part of livebind's API.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/daemon"
)

// NotifyFlags is the notify-keyspace-events value [WithNotifications] sets:
// keyspace events (K) for string ($) and generic (g) commands, and expiry
// (x) and eviction (e) events.
const NotifyFlags = "K$gxe"

// Server is a running redis-server.
type Server struct {
	*daemon.Server
	tb       testing.TB
	password string
}

// Option changes how the server starts.
type Option func(*options)

type options struct {
	notify   bool
	password string
	users    [][]string
}

// WithNotifications starts the server with keyspace notifications on
// ([NotifyFlags]). Without it they are off, Redis's default.
func WithNotifications() Option { return func(o *options) { o.notify = true } }

// WithPassword makes the default user require password (requirepass).
func WithPassword(password string) Option { return func(o *options) { o.password = password } }

// WithLimitedUser adds an ACL user with password who may run every command
// on every key and channel except CONFIG.
func WithLimitedUser(user, password string) Option {
	return func(o *options) {
		o.users = append(o.users, []string{user, "on", ">" + password, "~*", "&*", "+@all", "-config"})
	}
}

// Start starts a redis-server and stops it when the test ends. Without
// redis-server the test is skipped (failed under LIVEBIND_REQUIRE_SERVERS).
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{tb: tb, password: o.password}
	s.Server = daemon.Start(tb, daemon.Spec{
		Name:     "redis-server",
		Package:  "redis-server",
		Binaries: []string{"redis-server", "/usr/bin/redis-server"},
		Ports:    1,
		Args: func(ds *daemon.Server) []string {
			args := []string{
				"--port", strconv.Itoa(ds.Ports[0]), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
				"--dir", ds.Dir, "--loglevel", "warning",
			}
			if o.notify {
				args = append(args, "--notify-keyspace-events", NotifyFlags)
			}
			if o.password != "" {
				args = append(args, "--requirepass", o.password)
			}
			for _, u := range o.users {
				args = append(append(args, "--user"), u...)
			}
			return args
		},
		Ready: func(ctx context.Context, ds *daemon.Server) error {
			reply, err := Do(ctx, ds.Addr(0), "", "", "PING")
			if err != nil && !strings.HasPrefix(err.Error(), "NOAUTH") {
				return err
			}
			if err == nil && reply != "PONG" {
				return fmt.Errorf("PING answered %q", reply)
			}
			return nil
		},
	})
	return s
}

// Addr is the server's address, 127.0.0.1:port.
func (s *Server) Addr() string { return s.Server.Addr(0) }

// Password is the default user's password, or "".
func (s *Server) Password() string { return s.password }

// Cmd runs one command as the default user and returns its reply; it fails
// the test on an error.
func (s *Server) Cmd(args ...string) string {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reply, err := Do(ctx, s.Addr(), "", s.password, args...)
	if err != nil {
		s.tb.Fatalf("redistest: %s: %v", args[0], err)
	}
	return reply
}

// Do connects to addr, authenticates when password is set (as user, or the
// default user when user is ""), runs one command and returns its reply: a
// status or bulk string as is, an integer in decimal, an array as its
// elements joined by newlines, a nil as "". A Redis error reply is returned
// as an error with the server's text.
func Do(ctx context.Context, addr, user, password string, args ...string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	r := bufio.NewReader(conn)
	if password != "" {
		auth := []string{"AUTH", password}
		if user != "" {
			auth = []string{"AUTH", user, password}
		}
		if _, err := roundTrip(conn, r, auth); err != nil {
			return "", err
		}
	}
	return roundTrip(conn, r, args)
}

func roundTrip(conn net.Conn, r *bufio.Reader, args []string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(r)
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("redistest: empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", err
		}
		parts := make([]string, 0, n)
		for range n {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("redistest: unexpected reply %q", line)
}
