package http

import (
	"bufio"
	"errors"
	"net"
	nethttp "net/http"
	"testing"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// cannedServer answers every request on 127.0.0.1 with the same bytes,
// allocating next to nothing itself, so that a benchmark's allocations are
// the client's. It is closed at cleanup.
func cannedServer(tb testing.TB, response string) string {
	tb.Helper()
	out := []byte(response)
	addr, _ := fixture.TCPServer(tb, func(c net.Conn) {
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			for { // the request head: lines up to an empty one
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) <= 2 {
					break
				}
			}
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	})
	return "http://" + addr + "/config"
}

const canned304 = "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=0\r\n\r\n"

// BenchmarkPoll304 measures one unchanged conditional poll: a request with
// If-None-Match answered by 304. body-bytes/op counts the body bytes the
// driver read (the goal is 0). The net/http sub-benchmark is the floor: a
// bare Client.Do of the same request.
func BenchmarkPoll304(b *testing.B) {
	url := cannedServer(b, canned304)
	b.Run("driver", func(b *testing.B) {
		tr := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
		b.Cleanup(tr.CloseIdleConnections)
		ct := &countingTransport{rt: tr, reuse: true}
		d := openDriver(b, Config{Client: &nethttp.Client{Transport: ct}})
		emits := 0
		w := newTestPoller(d, mustSpec(b, target(url, poll)), sources.Result{Data: []byte("x"), Version: `"v1"`},
			func(sources.Result) { emits++ })
		b.Cleanup(w.dropRequest)
		w.poll() // warm the connection
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			w.poll()
		}
		b.StopTimer()
		if emits != 0 || w.good == nil {
			b.Fatalf("unchanged polls emitted %d results", emits)
		}
		b.ReportMetric(float64(ct.read.Load())/float64(b.N), "body-bytes/op")
	})
	b.Run("net-http-floor", func(b *testing.B) {
		tr := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
		b.Cleanup(tr.CloseIdleConnections)
		client := &nethttp.Client{Transport: tr}
		req, err := nethttp.NewRequestWithContext(b.Context(), nethttp.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("If-None-Match", `"v1"`)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode != nethttp.StatusNotModified {
				b.Fatal(errors.New(resp.Status))
			}
			resp.Body.Close()
		}
	})
}
