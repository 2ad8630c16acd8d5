package sources

import (
	"context"
	"net/http"
	"time"
)

// StreamDriver is the Read, Watch and Close of a push driver (sse=, ws=),
// written once: the driver embeds it, sets Parse, Key and Dial, and writes
// nothing else of the [Driver] contract. Fields whose targets have the
// same key share one stream, followed by [FollowStream]; a Read is
// [ReadStream] bounded by the target's timeout, by its ctx and by Close.
// S is the driver's parsed target. Set the fields before the driver's
// first call.
type StreamDriver[K comparable, S StreamTarget] struct {
	// Parse checks a target. Its error is the Read's Result, or the
	// Watch's error.
	Parse func(*Target) (S, error)
	// Key is what fields share one stream by.
	Key func(*Target, S) K
	// Dial returns how to open the stream of s: for a Read when last is
	// nil, otherwise for a watch whose field saw *last before it started.
	Dial func(s S, last *Result) Dialer
	// Late is the error of a watch's stream whose first document did not
	// come within the target's timeout= of the connect: the driver's typed
	// error wrapping [ErrUnreachable] (see [StreamPolicy].Late). Nil
	// leaves that wait unbounded. Every watch's stream owes its first
	// document, as a Read's does: a clean end before it is the target's
	// Ended error, unless the stream is a [ResumedStream].
	Late func(s S, timeout time.Duration) error
	// Retry gives the waits between connects; each watch starts from a
	// copy of it.
	Retry Retry
	// Own is the transport the driver built itself (see [StreamClient]),
	// or nil; Close closes its idle connections.
	Own *http.Transport

	watches Watches[K, struct{}]
}

// StreamTarget is a target of a [StreamDriver], parsed: typically a
// struct that embeds a [StreamSpec] (which gives Spec) and adds its
// scheme's options.
type StreamTarget interface {
	// Spec returns the options every push source over HTTP reads.
	Spec() *StreamSpec
	// Ended is the error of a stream that ended before its first
	// document, a Read's or a watch's (the driver's typed error).
	Ended() error
}

// Spec implements [StreamTarget].
func (s *StreamSpec) Spec() *StreamSpec { return s }

// Read implements [Driver]: the first document of a fresh stream.
func (d *StreamDriver[K, S]) Read(ctx context.Context, t *Target) Result {
	s, err := d.Parse(t)
	if err != nil {
		return Result{Err: err}
	}
	ctx, cancel := d.watches.ReadContext(ctx, s.Spec().Timeout)
	defer cancel()
	return ReadStream(ctx, d.Dial(s, nil), s.Ended)
}

// Watch implements [Driver]: fields whose targets have the same key share
// one stream.
func (d *StreamDriver[K, S]) Watch(t *Target, last Result, emit func(Result)) (func(), error) {
	s, err := d.Parse(t)
	if err != nil {
		return nil, err
	}
	sub := Sub[struct{}]{Target: t, Last: last, Emit: emit}
	p := StreamPolicy{Timeout: s.Spec().Timeout, Retry: d.Retry, Ended: s.Ended}
	if d.Late != nil {
		p.Late = func(timeout time.Duration) error { return d.Late(s, timeout) }
	}
	return d.watches.Subscribe(d.Key(t, s), sub, func(w *Watch[K, struct{}]) {
		FollowStream(w, p, d.Dial(s, &last))
	})
}

// Close implements [Driver]: it ends every stream and waits, then closes
// the idle connections of Own.
func (d *StreamDriver[K, S]) Close() error {
	d.watches.Close()
	if d.Own != nil {
		d.Own.CloseIdleConnections()
	}
	return nil
}

// OrDefault returns v when it is positive, and def otherwise: a source
// config's zero (or negative) duration means the source's default.
func OrDefault(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// StreamScheme is the [Scheme] of a push source over HTTP named name: it
// takes the options [ParseStreamSpec] reads (header=, maxbytes=) and
// extra, honors timeout=, redacts its URL with [RedactURL], checks a
// target by parsing it with parse and opens drivers with open.
func StreamScheme[S any](name string, extra []string, parse func(*Target) (S, error), open func(Config) (Driver, error)) Scheme {
	return Scheme{
		Name:    name,
		Options: append([]string{"header", "maxbytes"}, extra...),
		Timeout: true,
		Check:   func(t *Target) error { _, err := parse(t); return err },
		Open:    open,
		Redact:  RedactURL,
	}
}
