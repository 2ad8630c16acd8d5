package http_test

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/sources"
	livehttp "github.com/livebind/livebind/sources/http"
	"github.com/livebind/livebind/sources/sourcetest"
)

// docServer serves documents by path, with an ETag, answering 304 to a
// matching If-None-Match and 404 to a path it does not hold. A path under
// /denied answers 403; one under /stall hangs until released.
type docServer struct {
	*httptest.Server
	mu      sync.Mutex
	docs    map[string]servedDoc
	release chan struct{}
	once    sync.Once
}

func newDocServer(t *testing.T) *docServer {
	t.Helper()
	s := &docServer{docs: map[string]servedDoc{}, release: make(chan struct{})}
	s.Server = httptest.NewServer(nethttp.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.unstall()
		s.Close()
	})
	return s
}

func (s *docServer) unstall() { s.once.Do(func() { close(s.release) }) }

func (s *docServer) serve(w nethttp.ResponseWriter, r *nethttp.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/denied"):
		nethttp.Error(w, "forbidden", nethttp.StatusForbidden)
		return
	case strings.HasPrefix(r.URL.Path, "/stall"):
		select {
		case <-s.release:
		case <-r.Context().Done():
		}
		return
	}
	s.mu.Lock()
	d, ok := s.docs[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		nethttp.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", d.etag)
	if r.Header.Get("If-None-Match") == d.etag {
		w.WriteHeader(nethttp.StatusNotModified)
		return
	}
	_, _ = io.WriteString(w, d.body) // no Content-Length past 2 KiB: chunked
}

// servedDoc is a served document with its ETag, computed when it is set so that
// serving it allocates little.
type servedDoc struct{ body, etag string }

func (s *docServer) set(tg *sources.Target, body string) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[strings.TrimPrefix(tg.Location, s.URL)] = servedDoc{body: body, etag: fmt.Sprintf(`"%x"`, h.Sum64())}
}

// conformanceMax is the maxbytes= of the conformance targets.
const conformanceMax = 1 << 20

// oversized is a 3 MiB body, three times conformanceMax, built once so
// that serving it allocates little. It is sent chunked, without a
// Content-Length, so the driver finds it too large only by reading.
var oversized = strings.Repeat("x", 3*conformanceMax)

// TestConformance runs the sources conformance kit against the http driver
// and a local document server: targets polled every 20ms with
// maxbytes=1MiB, a 403 whose URL holds a token for the failure check (the
// token must not leak), a hanging handler for the stall check and a 3 MiB
// chunked body for the size check.
func TestConformance(t *testing.T) {
	s := newDocServer(t)
	var n atomic.Int64
	const token = "conformance-token-0123456789"
	target := func(path string) *sources.Target {
		return &sources.Target{
			Scheme: "http", Location: s.URL + path, Poll: 20 * time.Millisecond,
			Params: map[string]string{"maxbytes": fmt.Sprint(conformanceMax)},
		}
	}
	sourcetest.Run(t, sourcetest.Harness{
		Scheme: "http",
		Target: func(*testing.T) *sources.Target { return target(fmt.Sprintf("/doc/%d.txt", n.Add(1))) },
		Set:    func(_ *testing.T, tg *sources.Target, v []byte) { s.set(tg, string(v)) },
		Remove: func(_ *testing.T, tg *sources.Target) {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.docs, strings.TrimPrefix(tg.Location, s.URL))
		},
		Failing: func(*testing.T) (sources.Config, *sources.Target) {
			return sources.Config{}, target("/denied/app.json?token=" + token)
		},
		ErrorAs: func(err error) bool {
			var e *livehttp.Error
			return errors.As(err, &e) && e.Status == nethttp.StatusForbidden && errors.Is(err, sources.ErrHTTPStatus) &&
				errors.Is(err, sources.ErrAuth)
		},
		Secrets: []string{token},
		Stall: func(*testing.T) (sources.Config, *sources.Target, func()) {
			return sources.Config{}, target("/stall/app.json"), s.unstall
		},
		Oversize: func(_ *testing.T, tg *sources.Target) { s.set(tg, oversized) },
		MaxSize:  conformanceMax,
		IgnoreLeaks: []goleak.Option{ // the test server's connections, closed at cleanup
			goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		},
		Quiet: 200 * time.Millisecond,
	})
}

// TestSchemeCheck: a bad option value is refused at Bind, before any
// request, and never quoted when it may hold a credential.
func TestSchemeCheck(t *testing.T) {
	t.Parallel()
	s, ok := sources.Lookup("http")
	if !ok || s.Check == nil {
		t.Fatal("the http scheme has no Check")
	}
	tg := func(loc string, params map[string]string) *sources.Target {
		return &sources.Target{Scheme: "http", Location: loc, Params: params}
	}
	if err := s.Check(tg("https://example.com/app.json", map[string]string{"maxbytes": "1024", "header": "Authorization: Bearer x"})); err != nil {
		t.Errorf("good options: %v", err)
	}
	for _, tt := range []struct {
		name, loc string
		params    map[string]string
		want      string
	}{
		{"maxbytes/zero", "https://example.com/", map[string]string{"maxbytes": "0"}, "maxbytes"},
		{"maxbytes/words", "https://example.com/", map[string]string{"maxbytes": "lots"}, "maxbytes"},
		{"header/no-colon", "https://example.com/", map[string]string{"header": "Bearer SECRETVALUE"}, "header"},
		{"location/relative", "/app.json", nil, "absolute"},
		{"location/ftp", "ftp://example.com/app.json", nil, "absolute"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.Check(tg(tt.loc, tt.params))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check: got %v, want an error naming %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRETVALUE") {
				t.Errorf("Check quotes the header: %v", err)
			}
		})
	}
}

// FuzzSchemeCheck: Check never panics, and its error never quotes the
// value of header=, which may be a credential.
func FuzzSchemeCheck(f *testing.F) {
	f.Add("https://example.com/app.json", "Authorization: Bearer abcdefgh", "1024")
	f.Add("http://u:p@127.0.0.1:8080/x?token=t", "X-Api-Key abcdefgh", "0")
	f.Add("ftp://x", "Bad Name: secretvalue\r\n", "-1")
	f.Add("%zz", ": v", "99999999999999999999")
	s, _ := sources.Lookup("http")
	f.Fuzz(func(t *testing.T, loc, header, maxBytes string) {
		err := s.Check(&sources.Target{Scheme: "http", Location: loc, Params: map[string]string{"header": header, "maxbytes": maxBytes}})
		if err == nil {
			return
		}
		_, value, _ := strings.Cut(header, ":")
		value = strings.TrimSpace(value)
		if len(value) >= 8 && !strings.Contains(loc, value) && !strings.Contains(maxBytes, value) && strings.Contains(err.Error(), value) {
			t.Errorf("Check quotes the header value %q: %v", value, err)
		}
	})
}
