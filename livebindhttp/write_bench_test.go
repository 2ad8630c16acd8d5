package livebindhttp

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkStreamWriter measures what a write deadline per writeChunk
// (64 KiB) bytes costs against one deadline per run of queued events (the
// handler's way before), and against 32 and 128 KiB: each op is one full
// default queue (4 MiB) of frames written to a client on 127.0.0.1 that
// reads as fast as it can, then flushed. Smaller chunks mean more, smaller
// writes; the wall time is mostly the machine's load, so compare the
// process's CPU time over a fixed -benchtime (docs/design.md).
func BenchmarkStreamWriter(b *testing.B) {
	for _, size := range []int{256, 256 << 10} {
		for _, per := range []struct {
			name  string
			chunk int
		}{{"batch", math.MaxInt}, {"32KiB", 32 << 10}, {"64KiB", writeChunk}, {"128KiB", 128 << 10}} {
			b.Run(fmt.Sprintf("frame=%d/deadline=%s", size, per.name), func(b *testing.B) {
				benchmarkStreamWriter(b, size, per.chunk)
			})
		}
	}
}

func benchmarkStreamWriter(b *testing.B, size, chunk int) {
	b.Helper()
	frame := bytes.Repeat([]byte("x"), size)
	frames := DefaultStreamQueueBytes / size
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		out := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: writeTimeout, chunk: chunk}
		for range frames {
			if !out.write(frame) {
				return
			}
		}
		out.flush()
	}))
	defer srv.Close()
	client := srv.Client()
	b.SetBytes(int64(frames * size))
	for b.Loop() {
		req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(frames*size) {
			b.Fatalf("read %d of %d bytes: %v", n, frames*size, err)
		}
	}
}
