package http

import (
	"context"
	"encoding/hex"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	nethttp "net/http"
	"strings"
	"time"

	"github.com/livebind/livebind/sources"
)

// watchKey is what fields share one poll loop by: the URL as written and
// the options that change the request or what is accepted.
type watchKey struct {
	url      string
	header   string // header=, as written
	maxBytes int64
}

// subValue is what the loop keeps per field: its poll= and timeout=.
type subValue struct{ poll, timeout time.Duration }

// watch is the shared poll loop of one URL; see [sources.Watches].
type watch = sources.Watch[watchKey, subValue]

// value is a document the server sent, with the validators it came with.
type value struct {
	data    []byte
	format  string   // media type of Content-Type
	etag    []string // ETag, as received
	lastMod []string // Last-Modified
}

func (r reply) value() *value {
	return &value{data: r.data, format: r.ctype, etag: r.etag, lastMod: r.lastMod}
}

// result is v as a Result; secrets are what its version must not show.
func (v *value) result(secrets []string) sources.Result {
	return sources.Result{Data: v.data, Format: v.format, Version: v.version(secrets)}
}

// maxVersion is the longest ETag or Last-Modified shown as a version.
const maxVersion = 200

// version is the ETag, else the Last-Modified date, else a content hash.
// The version is shown (Status().Version): an ETag or date that is longer
// than maxVersion or holds one of secrets (a server that echoes a
// credential of the request) gives way to the hash. The validators
// themselves are kept, and sent back to their origin.
func (v *value) version(secrets []string) string {
	shown := func(s string) bool {
		return len(s) <= maxVersion && sources.ServerText(s, secrets...) == s
	}
	switch {
	case len(v.etag) > 0:
		if shown(v.etag[0]) {
			return v.etag[0]
		}
	case len(v.lastMod) > 0:
		if shown(v.lastMod[0]) {
			return v.lastMod[0]
		}
	}
	h := fnv.New64a()
	_, _ = h.Write(v.data) // hash.Hash.Write never fails
	return hex.EncodeToString(h.Sum(nil))
}

// valueOf recovers a value and its validators from a Result this driver
// produced, so that the first poll of a watch is conditional: an ETag starts
// with a quote (or W/"), a Last-Modified is an HTTP date, and a content hash
// is neither. It is nil for a missing or failed Result.
func valueOf(r sources.Result) *value {
	if r.Err != nil || r.Missing {
		return nil
	}
	v := &value{data: r.Data, format: r.Format}
	switch ver := r.Version; {
	case strings.HasPrefix(ver, `"`) || strings.HasPrefix(ver, `W/"`):
		v.etag = []string{ver}
	case ver != "":
		if _, err := nethttp.ParseTime(ver); err == nil {
			v.lastMod = []string{ver}
		}
	}
	return v
}

// poller is the state of one poll loop. The loop reports every poll's
// result; sources.Watches drops those a field has seen already.
type poller struct {
	d          *driver
	s          *spec // the first field's; poll and timeout follow every field's
	good       *value
	secrets    []string // what a version must not show: see value.version
	retry      sources.Retry
	maxBackoff time.Duration

	// One request, its context and its deadline timer serve every poll until
	// a poll is cut short (timeout=); then they are built again. Reusing
	// them saves allocations on the 304 path.
	ctx       context.Context // the requests' parent: the watch's
	req       *nethttp.Request
	reqCancel context.CancelCauseFunc
	deadline  *time.Timer // cancels req's context with context.DeadlineExceeded
}

// newPoller returns the state of a loop that starts from last.
func newPoller(d *driver, s *spec, last sources.Result) *poller {
	p := &poller{d: d, s: s, good: valueOf(last), secrets: d.secrets(s), ctx: context.Background()}
	p.rebase()
	return p
}

// rebase builds the backoff on the current poll interval: when a field
// with another poll= joins or leaves, the backoff follows the most eager
// field's, not the first one's.
func (p *poller) rebase() {
	p.maxBackoff = max(MaxBackoff, p.s.poll)
	p.retry = sources.NewRetry(min(transientBase, p.s.poll), max(permanentBase, p.s.poll), p.maxBackoff)
}

// run polls until the last field stops watching or the driver closes. The
// first poll runs at once, so that a change between Read and Watch is not
// lost, and so does a poll after a field joined.
func (p *poller) run(w *watch) {
	p.ctx = w.Context()
	defer p.dropRequest()
	for next := time.Duration(0); w.Sleep(next); {
		poll := p.s.poll
		p.s.poll, p.s.timeout = settings(w.Values(), p.s.poll, p.s.timeout)
		if p.s.poll != poll {
			p.rebase()
		}
		look := w.Begin(0, false) // the request has its own deadline
		var r sources.Result
		r, next = p.poll()
		look.End()
		if w.Context().Err() != nil {
			return // stopped: the request was canceled, report nothing
		}
		look.Report(r)
	}
}

// settings returns the smallest poll interval and the largest timeout of
// the fields: the most eager and the most patient decide.
func settings(vs []subValue, poll, timeout time.Duration) (time.Duration, time.Duration) {
	if len(vs) == 0 {
		return poll, timeout
	}
	poll, timeout = math.MaxInt64, 0
	for _, v := range vs {
		poll, timeout = min(poll, v.poll), max(timeout, v.timeout)
	}
	return poll, timeout
}

// poll sends one request and returns what it found and the wait before the
// next one.
func (p *poller) poll() (sources.Result, time.Duration) {
	req := p.request()
	conditional := p.setValidators()
	p.deadline.Reset(p.s.timeout)
	r := p.d.fetch(req, p.s, conditional)
	if !p.deadline.Stop() {
		p.dropRequest() // the deadline canceled the request's context
	}
	switch r.class {
	case classData:
		p.retry.Reset()
		p.good = r.value()
		return p.good.result(p.secrets), p.interval(r.fresh)
	case classNotModified:
		p.retry.Reset()
		// RFC 9111 §4.3.4: a 304 updates the stored validators.
		if len(r.etag) > 0 {
			p.good.etag = r.etag
		}
		if len(r.lastMod) > 0 {
			p.good.lastMod = r.lastMod
		}
		return p.good.result(p.secrets), p.interval(r.fresh)
	case classEmpty:
		// The server works: poll at the usual pace. The last good value and
		// its validators stay, so that a 304 to them later restores it.
		p.retry.Reset()
		return sources.Result{Err: r.err}, p.interval(r.fresh)
	case classMissing:
		p.retry.Reset()
		p.good = nil
		return sources.Result{Missing: true}, p.interval(0)
	case classTransient:
		next := p.retry.Next(false)
		if r.retryAfter > 0 {
			next = max(next, min(r.retryAfter, p.maxBackoff))
		}
		return p.fail(r.err, next)
	default:
		return p.fail(r.err, max(jitter(p.s.poll), p.retry.Next(true)))
	}
}

// request returns the request of the next poll, building it (with its
// context and deadline timer) when there is none.
func (p *poller) request() *nethttp.Request {
	if p.req != nil {
		return p.req
	}
	ctx, cancel := context.WithCancelCause(p.ctx)
	p.req, p.reqCancel = p.d.newRequest(ctx, p.s), cancel
	p.deadline = time.AfterFunc(time.Hour, func() { cancel(context.DeadlineExceeded) })
	p.deadline.Stop()
	return p.req
}

// dropRequest releases the request's context and timer.
func (p *poller) dropRequest() {
	if p.req == nil {
		return
	}
	p.deadline.Stop()
	p.reqCancel(context.Canceled)
	p.req, p.reqCancel, p.deadline = nil, nil, nil
}

// setValidators puts the ETag in If-None-Match, or else the Last-Modified
// date in If-Modified-Since (never both: RFC 9110 §13.1.3), and reports
// whether the request is conditional.
func (p *poller) setValidators() bool {
	h := p.req.Header
	switch {
	case p.good == nil:
	case len(p.good.etag) > 0:
		h["If-None-Match"] = p.good.etag
		delete(h, "If-Modified-Since")
		return true
	case len(p.good.lastMod) > 0:
		h["If-Modified-Since"] = p.good.lastMod
		delete(h, "If-None-Match")
		return true
	}
	delete(h, "If-None-Match")
	delete(h, "If-Modified-Since")
	return false
}

// fail logs a failed poll and returns its result.
func (p *poller) fail(err *Error, next time.Duration) (sources.Result, time.Duration) {
	if p.ctx.Err() == nil {
		p.d.logger.LogAttrs(p.ctx, slog.LevelDebug, "http: poll failed",
			slog.String("url", p.s.loc), slog.Any("err", err), slog.Duration("retry_in", next))
	}
	return sources.Result{Err: err}, next
}

// interval is the wait after a successful poll: poll=, or the response's
// freshness when longer, up to maxAgeFactor polls; jittered by ±10%.
func (p *poller) interval(fresh time.Duration) time.Duration {
	iv := p.s.poll
	if fresh > iv {
		iv = min(fresh, maxAgeFactor*min(p.s.poll, math.MaxInt64/maxAgeFactor))
	}
	return jitter(iv)
}

// jitter spreads d uniformly over [0.9d, 1.1d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}
