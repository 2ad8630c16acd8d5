package livebindhttp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livebind/livebind/livebindhttp"
)

// BenchmarkEventsStalledClients is issue 17's load: 1,000 /events clients
// on 127.0.0.1, 200 of which never read, and 40 updates of a 256 KiB
// value. It reports the server's peak heap above the level before the
// clients connected (sampled every 2 ms), goroutines per client, and what
// the clients saw. The goal is under 64 MiB of extra heap.
//
// The clients run in a child process (the test binary re-executed as
// TestEventsClients), as browsers would be in another: in this process
// their connections, 4 KiB read buffers and goroutines added about 5 MiB
// of live heap, which the collector's pacing doubled in the peak.
func BenchmarkEventsStalledClients(b *testing.B) {
	const (
		clients = 1000
		stalled = 200
		updates = 40
		size    = 256 << 10
	)
	for b.Loop() {
		f := newFixture(b, nil, livebindhttp.WithMaxStreams(clients))
		addr := f.srv.Listener.Addr().String()
		values := make([]string, updates) // made before the baseline: they are the source's, not ours
		for i := range values {
			values[i] = fmt.Sprintf("%02d-%s", i, strings.Repeat("z", size))
		}

		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		baseG := runtime.NumGoroutine()
		var peak atomic.Uint64
		sampleDone := make(chan struct{})
		stopSample := make(chan struct{})
		go func() {
			defer close(sampleDone)
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			var m runtime.MemStats
			for {
				select {
				case <-stopSample:
					return
				case <-tick.C:
				}
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}()

		ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
		child := startEventsClients(ctx, b, addr, clients, stalled)
		if line := child.line(); line != "connected" {
			cancel()
			b.Fatalf("clients: %q\n%s", line, child.stderr.String())
		}
		perClient := float64(runtime.NumGoroutine()-baseG) / clients
		runtime.ReadMemStats(&ms)
		connected := float64(ms.HeapAlloc-min(base, ms.HeapAlloc)) / (1 << 20)

		start := time.Now()
		for i := range updates {
			f.env.Set("MODE", values[i])
			// A load benchmark on a shared machine: a reload may take long
			// while 1,000 streams are written; its time is reported, not
			// bounded here.
			rctx, rcancel := context.WithTimeout(ctx, 2*time.Minute)
			err := f.b.Reload(rctx)
			rcancel()
			if err != nil {
				cancel()
				b.Fatal(err)
			}
		}
		elapsed := time.Since(start)
		_ = f.b.Close() // ends every stream with closed (or after bye)
		_, _ = io.WriteString(child.stdin, "close\n")
		var hellos, byes, complete, seen int64
		line := child.line()
		if _, err := fmt.Sscanf(line, "hellos %d byes %d closed %d updates %d", &hellos, &byes, &complete, &seen); err != nil {
			cancel()
			b.Fatalf("clients: %q: %v\n%s", line, err, child.stderr.String())
		}
		if err := child.cmd.Wait(); err != nil {
			cancel()
			b.Fatalf("clients: %v\n%s", err, child.stderr.String())
		}
		cancel()
		close(stopSample)
		<-sampleDone
		f.srv.Close()

		extra := float64(peak.Load()-min(base, peak.Load())) / (1 << 20)
		b.ReportMetric(extra, "extra-heap-MiB")
		b.ReportMetric(connected, "heap-connected-MiB")
		b.ReportMetric(perClient, "goroutines/client")
		b.ReportMetric(float64(byes), "readers-dropped")
		b.ReportMetric(float64(complete), "readers-to-close")
		b.ReportMetric(elapsed.Seconds(), "s-to-publish")
		b.ReportMetric(float64(seen)/(clients-stalled), "updates/reader")
		b.Logf("extra heap %.1f MiB (%.1f MiB once connected), %.2f goroutines/client, %d readers dropped, %d to close, %.1f update events per reader, published in %v",
			extra, connected, perClient, byes, complete, float64(seen)/(clients-stalled), elapsed)
		if extra >= 64 {
			b.Errorf("extra heap %.1f MiB, goal under 64 MiB", extra)
		}
	}
}

// eventsClients is the child process that holds the clients.
type eventsClients struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr bytes.Buffer
}

// line is the child's next line of output ("" once it ended).
func (c *eventsClients) line() string {
	if c.out.Scan() {
		return c.out.Text()
	}
	return ""
}

// clientsEnv carries the child's orders: address, clients, stalled.
const clientsEnv = "LIVEBIND_EVENTS_CLIENTS"

// startEventsClients starts the child process that holds the clients.
func startEventsClients(ctx context.Context, b *testing.B, addr string, clients, stalled int) *eventsClients {
	b.Helper()
	c := &eventsClients{cmd: exec.CommandContext(ctx, os.Args[0], "-test.run=^TestEventsClients$", "-test.count=1")}
	c.cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", clientsEnv, addr, clients, stalled))
	c.cmd.Stderr = &c.stderr
	c.cmd.WaitDelay = 10 * time.Second
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	c.out = bufio.NewScanner(stdout)
	if err := c.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return c
}

// TestEventsClients is the client side of BenchmarkEventsStalledClients,
// run only in the child process the benchmark starts. It opens the
// streams, the first ones with a 4 KiB receive buffer and never read;
// prints "connected" once every reader has its hello; on "close" from its
// standard input closes the stalled ones, waits for the readers to see
// their stream end, and prints what they saw.
func TestEventsClients(t *testing.T) {
	orders := os.Getenv(clientsEnv)
	if orders == "" {
		t.Skip("the client process of BenchmarkEventsStalledClients; runs only as its child")
	}
	var (
		addr             string
		clients, stalled int
	)
	if _, err := fmt.Sscanf(orders, "%s %d %d", &addr, &clients, &stalled); err != nil {
		t.Fatalf("%s=%q: %v", clientsEnv, orders, err)
	}
	var (
		readers        sync.WaitGroup
		conns          []net.Conn
		hellos, byes   atomic.Int64
		complete, seen atomic.Int64
	)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for i := range clients {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		if i < stalled {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4096)
			}
		}
		if _, err := fmt.Fprintf(conn, "GET /debug/config/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if i < stalled {
			continue
		}
		readers.Go(func() {
			// The last 32 bytes of one read stay in front of the next, so
			// that an event name split across reads is still found.
			buf := make([]byte, 32+4096)
			keep, n := 0, 0
			for {
				_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
				k, err := conn.Read(buf[keep:])
				tail := buf[:keep+k]
				seen.Add(int64(bytes.Count(tail[keep:], []byte("event: update"))))
				if n == 0 && bytes.Contains(tail, []byte("event: hello")) {
					n = 1
					hellos.Add(1)
				}
				switch {
				case bytes.Contains(tail, []byte("event: bye")):
					byes.Add(1)
					keep = 0
				case bytes.Contains(tail, []byte("event: closed")):
					complete.Add(1)
					keep = 0
				default:
					keep = copy(buf, tail[max(0, len(tail)-32):])
				}
				if err != nil {
					return
				}
			}
		})
	}
	// Every reader has its hello before the updates start.
	for i := 0; hellos.Load() < int64(clients-stalled); i++ {
		if i == 3000 {
			t.Fatalf("only %d of %d readers connected", hellos.Load(), clients-stalled)
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("connected")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "close" {
		t.Fatalf("expected close on standard input, got %q (%v)", in.Text(), in.Err())
	}
	for _, c := range conns[:stalled] {
		_ = c.Close()
	}
	readers.Wait()
	fmt.Printf("hellos %d byes %d closed %d updates %d\n", hellos.Load(), byes.Load(), complete.Load(), seen.Load())
}
