// Package pgtest starts a real PostgreSQL server (Debian's postgresql
// package, version 15) for tests: a new cluster in a temporary directory,
// run as the postgres user when the test runs as root (initdb refuses
// root), listening on a free loopback port and on a unix socket in its
// directory. The steps follow ../shared/testservers/postgres-openbao.md.
//
// The superuser is "postgres" with password AdminPassword over TCP
// (scram-sha-256) and no password over the unix socket (trust). SQL is run
// with psql, so this package needs no database driver. It is test support,
// not part of livebind's API.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livebind/livebind/internal/testenv/daemon"
)

// AdminPassword is the superuser's password over TCP.
const AdminPassword = "adminpw"

// Server is a running PostgreSQL cluster.
type Server struct {
	*daemon.Server
	tb testing.TB
}

var binDirs = []string{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"}

func spec() daemon.Spec {
	bins := make([]string, 0, len(binDirs)+1)
	for _, d := range binDirs {
		bins = append(bins, filepath.Join(d, "postgres"))
	}
	bins = append(bins, "postgres")
	return daemon.Spec{
		Name:       "postgres",
		Package:    "postgresql",
		Binaries:   bins,
		Ports:      1,
		User:       "postgres",
		StopSignal: syscall.SIGINT, // fast shutdown: ends sessions, no wait for clients
		Init: func(s *daemon.Server, run func(string, ...string) error) error {
			pw := filepath.Join(s.Dir, "pwfile")
			if err := os.WriteFile(pw, []byte(AdminPassword+"\n"), 0o600); err != nil {
				return err
			}
			if st, err := os.Stat(s.Dir); err == nil {
				if sys, ok := st.Sys().(*syscall.Stat_t); ok {
					_ = os.Chown(pw, int(sys.Uid), int(sys.Gid))
				}
			}
			defer os.Remove(pw)
			return run(filepath.Join(filepath.Dir(s.Bin), "initdb"), "-D", filepath.Join(s.Dir, "data"),
				"-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pw, "--no-sync")
		},
		Args: func(s *daemon.Server) []string {
			return []string{
				"-D", filepath.Join(s.Dir, "data"), "-p", strconv.Itoa(s.Ports[0]), "-k", s.Dir,
				"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
				"-c", "full_page_writes=off", "-c", "max_connections=200",
			}
		},
		Ready: func(ctx context.Context, s *daemon.Server) error {
			out, err := exec.CommandContext(ctx, filepath.Join(filepath.Dir(s.Bin), "pg_isready"),
				"-h", s.Dir, "-p", strconv.Itoa(s.Ports[0]), "-U", "postgres").CombinedOutput()
			if err != nil {
				return fmt.Errorf("pg_isready: %w: %s", err, out)
			}
			return nil
		},
	}
}

// Start starts a new cluster and stops it when the test ends. Without
// PostgreSQL the test is skipped (failed under LIVEBIND_REQUIRE_SERVERS).
func Start(tb testing.TB) *Server {
	tb.Helper()
	return &Server{Server: daemon.Start(tb, spec()), tb: tb}
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.Ports[0] }

// DSN returns a connection string for user and password over TCP, for pgx
// or database/sql (sslmode=disable).
func (s *Server) DSN(user, password, dbname string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", user, password, s.Port(), dbname)
}

// AdminDSN is DSN for the superuser and the postgres database.
func (s *Server) AdminDSN() string { return s.DSN("postgres", AdminPassword, "postgres") }

// SQL runs statements as the superuser in database postgres over the unix
// socket and returns psql's unaligned, tuples-only output, trimmed. It
// fails the test on an error.
func (s *Server) SQL(sql string) string {
	s.tb.Helper()
	out, err := s.TrySQL(sql)
	if err != nil {
		s.tb.Fatalf("pgtest: %v", err)
	}
	return out
}

// TrySQL is SQL that returns the error instead of failing the test.
func (s *Server) TrySQL(sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	psql, err := exec.LookPath("psql")
	if err != nil {
		psql = filepath.Join(filepath.Dir(s.Bin), "psql")
	}
	cmd := exec.CommandContext(ctx, psql, "-X", "-v", "ON_ERROR_STOP=1", "-Atq",
		"-h", s.Dir, "-p", strconv.Itoa(s.Port()), "-U", "postgres", "-d", "postgres", "-c", sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql %q: %w: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
