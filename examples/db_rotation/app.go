package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/sources/vault"
)

// Options configure a run of the program.
type Options struct {
	// Client talks to Vault; nil: VAULT_ADDR, VAULT_TOKEN and the other
	// VAULT_* variables.
	Client *api.Client
	// MaxBackoff caps the Vault source's retries (0: its default, 1m).
	MaxBackoff time.Duration
	// Pools says where PostgreSQL is.
	Pools *Pools
	// Workers query concurrently, each pausing Pace between queries.
	Workers int
	Pace    time.Duration
	// Query is what the workers run; it must return one integer.
	Query string
	// Out receives a line per rotation, error and Every.
	Out   io.Writer
	Every time.Duration
	// Logger receives livebind's and the Vault source's log (renewals,
	// rotations with their lead); nil: none.
	Logger *slog.Logger
}

// sample is one query's latency and when it started.
type sample struct {
	at time.Time
	d  time.Duration
}

const maxSamples = 1 << 20 // 32 MB of samples at most: later queries are counted, not timed

// App is the running program: a binding of Config and query workers.
type App struct {
	b      *livebind.Binding[Config]
	o      Options
	cancel context.CancelFunc
	wg     sync.WaitGroup
	unsub  func()

	ok, failed atomic.Int64
	retried    atomic.Int64 // queries run again on a newer pool

	mu        sync.Mutex
	samples   []sample
	rotations []time.Time // when each new pool was published
	errs      []livebind.Update
	firstFail []string // the first few query errors
}

// Start binds the configuration (connecting the first pool) and starts the
// workers.
func Start(ctx context.Context, o Options) (*App, error) {
	o.Workers = max(o.Workers, 1)
	if o.Query == "" {
		o.Query = "select count(*) from items"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	cfg := Config{Pools: o.Pools}
	opts := []livebind.Option{livebind.WithSourceConfig("vault", vault.Config{Client: o.Client, MaxBackoff: o.MaxBackoff})}
	if o.Logger != nil {
		opts = append(opts, livebind.WithLogger(o.Logger))
	}
	b, err := livebind.Bind(ctx, &cfg, opts...)
	if err != nil {
		return nil, err
	}
	a := &App{b: b, o: o}
	fmt.Fprintf(o.Out, "bound: user %s, %d workers\n", b.Get().DB.Username, o.Workers)
	a.unsub, err = b.Subscribe(a.observe)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	a.cancel = cancel
	for range o.Workers {
		a.every(wctx, max(o.Pace, time.Microsecond), a.query)
	}
	if o.Every > 0 {
		a.every(wctx, o.Every, a.report)
	}
	return a, nil
}

// every runs fn at each tick of d until ctx ends, on a goroutine that Stop
// waits for.
func (a *App) every(ctx context.Context, d time.Duration, fn func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			fn(ctx)
		}
	}()
}

// Binding is the program's binding.
func (a *App) Binding() *livebind.Binding[Config] { return a.b }

// observe prints each rotation and each error update.
func (a *App) observe(u livebind.Update) {
	if u.Field != "DB" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch u.Kind {
	case livebind.Updated, livebind.Added:
		a.rotations = append(a.rotations, u.Time)
		fmt.Fprintf(a.o.Out, "rotation %d (generation %d): new user %s; queries ok %d, failed %d\n",
			len(a.rotations), u.Gen, a.b.Get().DB.Username, a.ok.Load(), a.failed.Load())
	case livebind.Error:
		a.errs = append(a.errs, u)
		fmt.Fprintf(a.o.Out, "error (the last pool keeps serving): %v\n", u.Err)
	}
}

// onCurrentPool runs q on the pool of the current snapshot (current reads
// it). If q fails and the snapshot was replaced while it ran, its pool may
// be closed (a reader that stalled past Pools.Grace between reading the
// snapshot and acquiring a connection) or its lease ended: q runs once more
// on the pool of the new current snapshot, and retried is true.
func onCurrentPool(current func() *pgxpool.Pool, q func(*pgxpool.Pool) error) (retried bool, err error) {
	pool := current()
	err = q(pool)
	if err == nil {
		return false, nil
	}
	if cur := current(); cur != pool {
		return true, q(cur)
	}
	return false, err
}

// query runs one query on the current pool and counts its outcome.
func (a *App) query(ctx context.Context) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	var n int64
	retried, err := onCurrentPool(func() *pgxpool.Pool { return a.b.Get().Pool }, func(p *pgxpool.Pool) error {
		return p.QueryRow(qctx, a.o.Query).Scan(&n)
	})
	if retried {
		a.retried.Add(1)
	}
	d := time.Since(start)
	if ctx.Err() != nil {
		return // stopping: not a failure of the pool
	}
	a.mu.Lock()
	if err != nil {
		a.failed.Add(1)
		if len(a.firstFail) < 10 {
			a.firstFail = append(a.firstFail, fmt.Sprintf("%s: %v", start.Format("15:04:05.000"), err))
		}
	} else {
		a.ok.Add(1)
		if len(a.samples) < maxSamples {
			a.samples = append(a.samples, sample{at: start, d: d})
		}
	}
	a.mu.Unlock()
}

// report prints a status line (every Every).
func (a *App) report(context.Context) {
	line := fmt.Sprintf("queries ok %d, failed %d", a.ok.Load(), a.failed.Load())
	for _, s := range a.b.Status().Sources {
		if !s.LeaseExpires.IsZero() {
			line += fmt.Sprintf("; lease expires in %s", time.Until(s.LeaseExpires).Round(100*time.Millisecond))
			if !s.LeaseRenewal.IsZero() {
				line += fmt.Sprintf(", renewal in %s", time.Until(s.LeaseRenewal).Round(100*time.Millisecond))
			} else {
				line += fmt.Sprintf(", no more renewals: new credentials in %s", time.Until(s.NextPoll).Round(100*time.Millisecond))
			}
		}
	}
	fmt.Fprintln(a.o.Out, line)
}

// Counts returns the queries that succeeded and failed so far.
func (a *App) Counts() (ok, failed int64) { return a.ok.Load(), a.failed.Load() }

// Rotations returns how many new pools were published after Bind.
func (a *App) Rotations() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.rotations)
}

// Report is what a run measured.
type Report struct {
	Rotations  int
	OK, Failed int64
	// Retried counts queries that failed on a pool replaced while they ran
	// and were run again on the current one (counted in OK or Failed by
	// that second outcome).
	Retried       int64
	Errors        []livebind.Update // Error updates of the DB field
	FirstFailures []string          // the first query errors, if any
	PoolsRetired  int
	// Query latencies: while rotating (from 1 s before a new pool is
	// published to 1 s after) and the rest of the time.
	Steady, Rotating Latencies
}

// Latencies are percentiles of query latency.
type Latencies struct {
	N        int
	P50, P99 time.Duration
}

func percentiles(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return Latencies{N: len(ds), P50: at(0.50), P99: at(0.99)}
}

// Stop stops the workers, closes the binding and the last pool, waits for
// every retired pool to close, and reports.
func (a *App) Stop() (*Report, error) {
	a.cancel()
	a.wg.Wait()
	a.unsub()
	err := a.b.Close()
	if p := a.b.Get().Pool; p != nil {
		p.Close() // the snapshot published last is never released
	}
	a.o.Pools.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	r := &Report{
		Rotations: len(a.rotations), OK: a.ok.Load(), Failed: a.failed.Load(), Retried: a.retried.Load(),
		Errors: a.errs, FirstFailures: a.firstFail, PoolsRetired: a.o.Pools.Retired(),
	}
	var steady, rotating []time.Duration
	for _, s := range a.samples {
		near := false
		for _, at := range a.rotations {
			if d := s.at.Sub(at); d > -time.Second && d < time.Second {
				near = true
				break
			}
		}
		if near {
			rotating = append(rotating, s.d)
		} else {
			steady = append(steady, s.d)
		}
	}
	r.Steady, r.Rotating = percentiles(steady), percentiles(rotating)
	return r, err
}

// String is the summary the program prints at the end.
func (r *Report) String() string {
	return fmt.Sprintf("%d rotations, %d queries ok, %d failed, %d retried on a newer pool, %d error updates, %d pools retired; "+
		"query p50/p99 steady %s/%s (n=%d), rotating %s/%s (n=%d)",
		r.Rotations, r.OK, r.Failed, r.Retried, len(r.Errors), r.PoolsRetired,
		r.Steady.P50, r.Steady.P99, r.Steady.N, r.Rotating.P50, r.Rotating.P99, r.Rotating.N) +
		failures(r.FirstFailures)
}

// failures lists the first query errors after a summary, if there were any.
func failures(errs []string) string {
	if len(errs) == 0 {
		return ""
	}
	return "; first failures: " + strings.Join(errs, "; ")
}
