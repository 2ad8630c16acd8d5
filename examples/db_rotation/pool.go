package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livebind/livebind/sources/vault"
)

// Config is what the program binds: database credentials from Vault (or
// OpenBao), and the connection pool built from them. Username and password
// arrive together in one field, so the pool never sees a half-rotated pair.
type Config struct {
	DB   vault.Credentials `live:"vault=${DB_CREDS:-database/creds/app}; update=Connect"`
	Pool *pgxpool.Pool     `live:"-"` // built by Connect, closed by Release

	Pools *Pools `live:"-"` // where to connect, and the pools retired so far
}

// Connect is the update= method, phase one of a rotation: it connects a
// pool with the new credentials and pings it on the candidate snapshot. If
// the credentials do not work, it returns the error: the generation is
// rejected and the current pool stays published.
func (c *Config) Connect(next vault.Credentials) error {
	if next == c.DB && c.Pool != nil {
		return nil // the same credentials (a Reload): keep the pool
	}
	pool, err := c.Pools.open(next)
	if err != nil {
		return err
	}
	c.DB, c.Pool = next, pool
	return nil
}

// Release is livebind's phase two (a Release method: see "Releasing resources" in the livebind package documentation): once a generation is
// published, the previous snapshot's pool is retired; a candidate that was
// rejected after Connect built its pool has that pool retired.
func (c *Config) Release(dropped *Config) {
	if dropped.Pool != nil && dropped.Pool != c.Pool {
		c.Pools.retire(dropped.Pool)
	}
}

// Pools opens pools for PostgreSQL at Host:Port and retires old ones.
type Pools struct {
	Host     string
	Port     int
	Database string
	// MaxConns bounds each pool (0: pgx's default).
	MaxConns int32
	// Grace is how long a retired pool still accepts new queries, for
	// readers that took the previous snapshot a moment before it was
	// replaced; then Close waits for the queries in flight and closes every
	// connection. It must be well below the rotation lead (10% of the
	// lease): once the old lease ends, Vault ends its sessions.
	Grace time.Duration

	wg      sync.WaitGroup
	mu      sync.Mutex
	retired int
}

// open connects a pool as creds and pings it, within 5 s.
func (p *Pools) open(creds vault.Credentials) (*pgxpool.Pool, error) {
	addr := net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	cfg, err := pgxpool.ParseConfig("postgres://" + addr + "/" + p.Database + "?sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.User, cfg.ConnConfig.Password = creds.Username, creds.Password
	if p.MaxConns > 0 {
		cfg.MaxConns = p.MaxConns
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("new pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("new credentials do not connect: %w", err)
	}
	return pool, nil
}

// retire closes pool after the grace period, once its queries in flight
// have finished (pgxpool's Close waits for every acquired connection to
// be released). It does not block the caller.
func (p *Pools) retire(pool *pgxpool.Pool) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if p.Grace > 0 {
			t := time.NewTimer(p.Grace)
			<-t.C
		}
		pool.Close()
		p.mu.Lock()
		p.retired++
		p.mu.Unlock()
	}()
}

// Retired returns how many pools were closed so far.
func (p *Pools) Retired() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.retired
}

// Wait waits until every retired pool is closed.
func (p *Pools) Wait() { p.wg.Wait() }
