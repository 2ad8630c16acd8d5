package livebindhttp_test

import (
	"bytes"
	"fmt"
	"net"
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
// value. It reports the peak heap above the level before the clients
// connected (sampled every 2 ms; the readers' own 4 KiB buffers count
// too), goroutines per client, and what the clients saw. The goal is under
// 64 MiB of extra heap.
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

		var (
			readers        sync.WaitGroup
			conns          []net.Conn
			hellos, byes   atomic.Int64
			complete, seen atomic.Int64
		)
		for i := range clients {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, conn)
			if i < stalled {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetReadBuffer(4096)
				}
			}
			if _, err := fmt.Fprintf(conn, "GET /debug/config/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
				b.Fatal(err)
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
		for i := 0; hellos.Load() < clients-stalled; i++ {
			if i == 3000 {
				b.Fatalf("only %d of %d readers connected", hellos.Load(), clients-stalled)
			}
			time.Sleep(5 * time.Millisecond)
		}
		perClient := float64(runtime.NumGoroutine()-baseG) / clients
		runtime.ReadMemStats(&ms)
		connected := float64(ms.HeapAlloc-min(base, ms.HeapAlloc)) / (1 << 20)

		start := time.Now()
		for i := range updates {
			f.env.Set("MODE", values[i])
			if err := f.reload(b); err != nil {
				b.Fatal(err)
			}
		}
		elapsed := time.Since(start)
		_ = f.b.Close() // ends every stream with closed (or after bye)
		for _, c := range conns[:stalled] {
			_ = c.Close()
		}
		readers.Wait()
		for _, c := range conns[stalled:] {
			_ = c.Close()
		}
		close(stopSample)
		<-sampleDone
		f.srv.Close()

		extra := float64(peak.Load()-min(base, peak.Load())) / (1 << 20)
		b.ReportMetric(extra, "extra-heap-MiB")
		b.ReportMetric(connected, "heap-connected-MiB")
		b.ReportMetric(perClient, "goroutines/client")
		b.ReportMetric(float64(byes.Load()), "readers-dropped")
		b.ReportMetric(float64(complete.Load()), "readers-to-close")
		b.ReportMetric(elapsed.Seconds(), "s-to-publish")
		b.ReportMetric(float64(seen.Load())/(clients-stalled), "updates/reader")
		b.Logf("extra heap %.1f MiB (%.1f MiB once connected), %.2f goroutines/client, %d readers dropped, %d to close, %.1f update events per reader, published in %v",
			extra, connected, perClient, byes.Load(), complete.Load(), float64(seen.Load())/(clients-stalled), elapsed)
		if extra >= 64 {
			b.Errorf("extra heap %.1f MiB, goal under 64 MiB", extra)
		}
	}
}
