// Command db_rotation runs queries against PostgreSQL through a connection
// pool whose credentials OpenBao (or Vault) rotates, and prints each
// rotation and the number of failed queries (which should stay 0).
//
// It needs a Vault-API server with a database secrets engine for the
// PostgreSQL server (VAULT_ADDR, VAULT_TOKEN), or -setup to configure one
// as the test does (a dev server's root token; the PostgreSQL superuser's
// password in PGPASSWORD):
//
//	bao server -dev -dev-root-token-id=root &
//	VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root PGPASSWORD=... \
//	  go run ./examples/db_rotation -setup -pg-port 5432 -duration 1m
//
// Its test starts both servers itself (internal/testenv/pgtest, baotest).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/livebind/livebind/internal/testenv/dbcreds"
)

var errNoPostgres = errors.New("db_rotation: -pg-port is required")

// flags are the command line.
type flags struct {
	pgHost, pgDB string
	pgPort       int
	setup        bool
	ttl, maxTTL  time.Duration
	duration     time.Duration
	workers      int
}

func main() {
	var f flags
	flag.StringVar(&f.pgHost, "pg-host", "127.0.0.1", "PostgreSQL host")
	flag.IntVar(&f.pgPort, "pg-port", 0, "PostgreSQL port")
	flag.StringVar(&f.pgDB, "pg-db", "postgres", "database")
	flag.BoolVar(&f.setup, "setup", false, "configure the database engine (mount database, connection pg, role app) and a table items")
	flag.DurationVar(&f.ttl, "ttl", 5*time.Second, "with -setup: the role's default_ttl")
	flag.DurationVar(&f.maxTTL, "max-ttl", 15*time.Second, "with -setup: the role's max_ttl")
	flag.DurationVar(&f.duration, "duration", 0, "stop after this long (0: at Ctrl-C)")
	flag.IntVar(&f.workers, "workers", 4, "concurrent query loops")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := mainRun(ctx, f, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// mainRun is main without the process: set up if asked, run until ctx
// ends or the duration passes, print the report.
func mainRun(ctx context.Context, f flags, out io.Writer) error {
	if f.pgPort == 0 {
		return errNoPostgres
	}
	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		return err
	}
	if f.setup {
		e := dbcreds.Engine{Addr: client.Address(), Token: client.Token()}
		if err := e.Configure(ctx, f.pgPort, os.Getenv("PGPASSWORD"), "app"); err != nil {
			return err
		}
		if err := e.Role(ctx, "app", f.ttl, f.maxTTL); err != nil {
			return err
		}
		if err := createItems(ctx, f, os.Getenv("PGPASSWORD")); err != nil {
			return err
		}
	}
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	a, err := Start(ctx, Options{
		Client: client, Pools: &Pools{Host: f.pgHost, Port: f.pgPort, Database: f.pgDB, Grace: 100 * time.Millisecond},
		Workers: f.workers, Pace: 5 * time.Millisecond, Out: out, Every: time.Second,
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	r, err := a.Stop()
	fmt.Fprintln(out, r)
	return err
}

// createItems creates the table the workers query, as the superuser.
func createItems(ctx context.Context, f flags, adminPassword string) error {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s:%d/%s?sslmode=disable", f.pgHost, f.pgPort, f.pgDB))
	if err != nil {
		return err
	}
	cfg.User, cfg.Password = "postgres", adminPassword
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "create table if not exists items(id int primary key, name text); insert into items values (1, 'a') on conflict do nothing")
	return err
}
