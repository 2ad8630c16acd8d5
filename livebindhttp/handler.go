package livebindhttp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livebind/livebind"
)

// DefaultHeartbeat is how often an idle event stream sends a comment line,
// so that proxies and load balancers do not close it, unless
// [WithHeartbeat] says otherwise.
const DefaultHeartbeat = 15 * time.Second

// An Option configures [Handler].
type Option interface{ apply(*config) }

type config struct {
	title        string
	heartbeat    time.Duration
	maxStreams   int
	queueBytes   int
	writeTimeout time.Duration // writeTimeout; only the package's tests change it
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTitle sets the HTML page's title (default "livebind").
func WithTitle(title string) Option {
	return optionFunc(func(c *config) {
		if title != "" {
			c.title = title
		}
	})
}

// WithHeartbeat sets how often an idle event stream sends a comment line
// (default [DefaultHeartbeat]).
func WithHeartbeat(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.heartbeat = d
		}
	})
}

// handler serves one Binding.
type handler[T any] struct {
	b      *livebind.Binding[T]
	cfg    config
	fields []fieldPlan
	hub    *hub
}

// Handler returns an http.Handler that serves b's status, configuration,
// history and update stream; see the package documentation for the
// endpoints. It answers GET and HEAD only and holds no lock of b's beyond
// the copies that Status, Get and History make. Each /events stream lasts
// until the client goes away or b is closed.
func Handler[T any](b *livebind.Binding[T], opts ...Option) http.Handler {
	cfg := config{title: "livebind", heartbeat: DefaultHeartbeat, maxStreams: DefaultMaxStreams, queueBytes: DefaultStreamQueueBytes, writeTimeout: writeTimeout}
	for _, o := range opts {
		o.apply(&cfg)
	}
	h := &handler[T]{b: b, cfg: cfg, fields: planFields[T](b.Status())}
	h.hub = &hub{
		gen: func() uint64 { _, g := b.Snapshot(); return g },
		max: cfg.maxStreams, limit: cfg.queueBytes, clients: map[*client]struct{}{},
		subscribe: func(deliver func(livebind.Update), done func()) func() {
			stop, err := b.Subscribe(deliver, livebind.Coalesce())
			if err != nil { // only for unknown field paths, which we never pass
				go done()
				return func() {}
			}
			quit := make(chan struct{})
			go func() {
				defer done()
				select {
				case <-b.Done(): // the binding closed
				case <-quit:
				}
			}()
			var once sync.Once
			return func() { once.Do(func() { stop(); close(quit) }) }
		},
	}
	return h
}

// ServeHTTP routes a request by its path relative to the mount point.
func (h *handler[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	path := r.URL.Path
	if path != "" && path[0] != '/' {
		path = "/" + path // mounted with StripPrefix("/prefix/"): the slash went with the prefix
	}
	if path == "" {
		// The request named the mount point itself: the page's relative
		// links need it to end with a slash. It does when StripPrefix took
		// the slash too; a redirect would add a second one, which ServeMux
		// takes away again, a loop.
		if loc, ok := slashRedirect(r.RequestURI); ok {
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		path = "/"
	}
	switch path {
	case "/":
		h.page(w, r)
	case "/status.json":
		h.writeJSON(w, r, http.StatusOK, newStatusJSON(h.b.Status(), time.Now()))
	case "/config.json":
		h.config(w, r)
	case "/history.json":
		h.history(w, r)
	case "/events":
		h.events(w, r)
	default:
		http.NotFound(w, r)
	}
}

// slashRedirect returns the original request path (before StripPrefix)
// with a slash appended, or "/" when there is none to use; ok is false when
// the path already ends with a slash.
func slashRedirect(requestURI string) (loc string, ok bool) {
	u, err := url.ParseRequestURI(requestURI)
	if err != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/", true
	}
	if strings.HasSuffix(u.Path, "/") {
		return "", false
	}
	return u.EscapedPath() + "/", true
}

// current returns a snapshot and its generation number, which Snapshot
// reads as one pair.
func (h *handler[T]) current() (*T, uint64) { return h.b.Snapshot() }

func (h *handler[T]) config(w http.ResponseWriter, r *http.Request) {
	if g := r.URL.Query().Get("gen"); g != "" {
		gen, err := strconv.ParseUint(g, 10, 64)
		if err != nil {
			h.writeJSON(w, r, http.StatusBadRequest, errorJSON{Error: "gen must be a generation number"})
			return
		}
		for _, e := range h.b.History() {
			if e.Gen == gen {
				h.writeJSON(w, r, http.StatusOK, configJSON{Generation: e.Gen, Fields: snapshotFields(h.fields, e.Value, nil, true)})
				return
			}
		}
		h.writeJSON(w, r, http.StatusNotFound, errorJSON{Error: "generation " + g + " is not in the history"})
		return
	}
	v, gen := h.current()
	h.writeJSON(w, r, http.StatusOK, configJSON{Generation: gen, Fields: snapshotFields(h.fields, v, nil, true)})
}

func (h *handler[T]) history(w http.ResponseWriter, r *http.Request) {
	entries := h.b.History()
	out := historyJSON{Generation: h.hub.gen(), Entries: make([]historyEntryJSON, 0, len(entries))}
	for _, e := range entries {
		changed := e.Changed
		if changed == nil {
			changed = []string{}
		}
		out.Entries = append(out.Entries, historyEntryJSON{
			Gen: e.Gen, Time: e.Time, Changed: changed, RollbackOf: e.RollbackOf,
			Values: snapshotFields(h.fields, e.Value, changed, true),
		})
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

type errorJSON struct {
	Error string `json:"error"`
}

// writeJSON encodes v, compact (pipe it through jq to read it), before
// writing anything, so an encoding failure is a clean 500.
func (h *handler[T]) writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	h.writeBody(w, r, buf.Bytes())
}

// writeBody writes a whole response body under the write deadlines of an
// event stream (streamWriter: one per 64 KiB and one for the flush, so the
// last bytes the ResponseWriter holds go out under one too), then clears
// the deadline (net/http does as well once the handler returns).
// A client that stops reading loses the response, rather than keep the
// handler blocked in a write, and the rendered body reachable, for as long
// as it keeps its connection open. Behind a server with a WriteTimeout the
// body is written under that one, as every other handler's: a deadline of
// the handler's would replace it.
func (h *handler[T]) writeBody(w http.ResponseWriter, r *http.Request, body []byte) {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if ends, _ := unwrapChain(w); (srv != nil && srv.WriteTimeout > 0) || !ends { // no ResponseController on it: write as is
		_, _ = w.Write(body)
		return
	}
	out := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: h.cfg.writeTimeout, chunk: writeChunk}
	if out.write(body) && out.renew() {
		_ = out.rc.Flush()
	}
	out.deadline(time.Time{})
}
