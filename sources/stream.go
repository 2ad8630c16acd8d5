package sources

import (
	"context"
	"sync"
	"time"
)

// Helpers for push sources: a server that keeps a connection open and sends
// a whole document on connect and on every change (a WebSocket, an event
// stream, a subscription). The driver writes how to open one connection and
// how to read its next document; [FollowStream] does the rest: reconnecting
// with backoff, reporting, coalescing a burst into its latest document, and
// ending promptly when the watch ends.

// Stream is one open connection of a push source.
type Stream interface {
	// Next waits for the next document and returns it as a Result: Data,
	// Missing, or an Err about that one document that leaves the stream
	// usable (an oversized event that was skipped). It returns a non-nil
	// *StreamEnd, and no Result, when the stream has ended. It must return
	// soon after ctx ends or Close is called.
	Next(ctx context.Context) (Result, *StreamEnd)
	// Close ends the stream and releases its connection. It is called once,
	// after the last Next has returned.
	Close() error
}

// StreamEnd tells [FollowStream] why a stream ended or could not be
// opened, what to report and when to connect again.
type StreamEnd struct {
	// Result is reported to the watch's fields: Missing (the server says the
	// document does not exist) or an Err. The zero Result reports nothing: a
	// clean end (the server closed the stream in an orderly way), after which
	// only a failed reconnect is an error.
	Result Result
	// Permanent marks a failure that will not clear up until someone acts
	// (401, 403, a document over the limit): it is retried on the permanent
	// backoff, never hot.
	Permanent bool
	// Stop reports that the server asked not to reconnect (an event stream
	// answering 204): the watch waits until a field joins it.
	Stop bool
	// After is the least wait before connecting again (a server's retry
	// hint), or 0 for the backoff alone.
	After time.Duration
}

// StreamPolicy bounds how [FollowStream] connects and reconnects.
type StreamPolicy struct {
	// Timeout bounds one connect (the handshake, up to a Stream), and with
	// Late the wait for a stream's first document. Zero means no bound but
	// the watch's own.
	Timeout time.Duration
	// Retry gives the waits between connects: its transient backoff after a
	// clean end, a dropped connection or a failed connect, its permanent
	// backoff after a [StreamEnd] marked Permanent. It is reset once a
	// stream delivers a document, and once a stream ends that stayed open
	// for at least [HealthyStream].
	Retry Retry
	// Ended, when set, makes every stream owe its first document (the
	// server sends the state on connect): a stream that ends cleanly (its
	// end reports nothing) before one is a failed attempt, reported as
	// Ended's error (the driver's typed error, the one [ReadStream] gets)
	// once while it repeats, and retried as the end says (its After and
	// Permanent are kept: a clean end's is the transient backoff). A server that accepts every connect and closes it at
	// once would otherwise be reconnected to for ever without a word. A
	// [ResumedStream] owes nothing. Nil: a clean end before a document is
	// a clean end.
	Ended func() error
	// Late, when set with Ended and a Timeout, bounds the wait for the
	// first document a stream owes to Timeout from the connect: the first
	// Next is called with a context that ends then, and its end is
	// reported as Late's error (the driver's typed error wrapping
	// [ErrUnreachable]). A server that holds the connection without the
	// document (answering pings, sending keepalives) would otherwise be
	// held for ever without a word. timeout is the bound.
	Late func(timeout time.Duration) error
}

// ResumedStream is a [Stream] that may say it resumes where its watch left
// off (an event stream requested with Last-Event-ID): its server may
// rightly have nothing new, so it owes no first document ([StreamPolicy]
// Ended and Late do not apply), and a quiet stream or a clean end before a
// document is no failure.
type ResumedStream interface {
	Stream
	// Resumed reports that the stream resumes; it is asked once, before
	// the first Next.
	Resumed() bool
}

// HealthyStream is how long a stream must stay open to count as a healthy
// connection when it ends, even with nothing delivered: the next connect
// then waits only the backoff's first wait. An event stream resumed with a
// current Last-Event-ID may rightly send nothing, and a proxy that ends
// idle streams every minute would otherwise push the reconnects of a quiet
// source toward the backoff's cap, leaving it disconnected most of the time.
const HealthyStream = 10 * time.Second

// Dialer opens one stream, bounded by ctx. On failure it returns a nil
// Stream and a non-nil *StreamEnd that says what to report.
type Dialer func(ctx context.Context) (Stream, *StreamEnd)

// FollowStream is the watch loop of a push source: connect with dial,
// report every document the stream delivers, and when the stream ends or
// cannot be opened report what its [StreamEnd] says and connect again after
// a jittered backoff, until the watch ends. A reader goroutine per stream
// hands documents over through a one-slot mailbox, so a burst the fields
// cannot keep up with coalesces into its latest document (each document is
// the whole state; only the latest matters) and memory stays bounded. A
// field that joins a running watch is told the latest document at once.
func FollowStream[K comparable, S any](w *Watch[K, S], p StreamPolicy, dial Dialer) {
	retry := p.Retry
	wait := time.Duration(0)
	for w.Sleep(wait) {
		look := w.Begin(p.Timeout, false)
		s, end := dial(look.Context())
		look.End()
		if w.Context().Err() != nil {
			if s != nil {
				_ = s.Close()
			}
			return
		}
		if s != nil {
			opened := time.Now()
			var delivered bool
			end, delivered = pump(w, s, p)
			if end == nil {
				return // the watch ended
			}
			if delivered || time.Since(opened) >= HealthyStream {
				retry.Reset()
			}
		}
		if !isZero(end.Result) {
			look := w.Begin(0, false)
			look.Report(end.Result)
			look.End()
		}
		if end.Stop {
			if !w.Wait(nil) { // until a field joins
				return
			}
			wait = 0
			continue
		}
		wait = max(end.After, retry.Next(end.Permanent))
	}
}

// ReadStream is a push source's Read: open one stream with dial, return its
// first document and close it. A stream that ends before its first
// document is an error: ended (a driver's typed error) when its end
// reports nothing.
func ReadStream(ctx context.Context, dial Dialer, ended func() error) Result {
	s, end := dial(ctx)
	if s != nil {
		var r Result
		r, end = s.Next(ctx)
		_ = s.Close()
		if end == nil {
			return r
		}
	}
	if isZero(end.Result) {
		return Result{Err: ended()}
	}
	return end.Result
}

// isZero reports a Result that says nothing: no data, not missing, no error.
func isZero(r Result) bool { return r.Data == nil && !r.Missing && r.Err == nil }

// pump reads s on its own goroutine and reports each document, until the
// stream ends (its end is returned) or the watch ends (nil). delivered
// reports that a document came. The first Next is held to what p says a
// stream owes (see firstNext).
func pump[K comparable, S any](w *Watch[K, S], s Stream, p StreamPolicy) (end *StreamEnd, delivered bool) {
	var box mailbox
	box.ready = make(chan struct{}, 1)
	done := make(chan struct{})
	ctx := w.Context()
	go func() {
		defer close(done)
		r, end := firstNext(ctx, s, p)
		for end == nil {
			box.put(r, nil)
			r, end = s.Next(ctx)
		}
		box.put(Result{}, end)
	}()
	defer func() {
		_ = s.Close() // ends a Next in progress
		<-done
	}()
	var (
		cur Result
		has bool
	)
	for w.Wait(box.ready) {
		r, fresh, end := box.take()
		if fresh {
			cur, has, delivered = r, true, true
		}
		look := w.Begin(0, false) // clears a kick: a newcomer is told cur
		if has {
			look.Report(cur)
		}
		look.End()
		if end != nil {
			return end, delivered
		}
	}
	return nil, delivered
}

// firstNext is the first Next of s, a stream of a watch that follows p.
// Every Next returns a Result or the stream's end, so a stream ends before
// its first document exactly when its first Next returns an end: one flag
// fewer, and the deadline below applies to that one call.
// Unless s is resumed, a stream owes that document (p.Ended set): a clean
// end is p.Ended's error and, with p.Late and p.Timeout, an end because
// the document did not come within p.Timeout is p.Late's.
func firstNext(ctx context.Context, s Stream, p StreamPolicy) (Result, *StreamEnd) {
	if p.Ended == nil {
		return s.Next(ctx)
	}
	if rs, ok := s.(ResumedStream); ok && rs.Resumed() {
		return s.Next(ctx)
	}
	fctx := ctx
	if p.Late != nil && p.Timeout > 0 {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	r, end := s.Next(fctx)
	if end == nil || ctx.Err() != nil { // a document, or the watch ended
		return r, end
	}
	owed := *end
	switch {
	case fctx.Err() != nil:
		owed.Result = Result{Err: p.Late(p.Timeout)}
	case isZero(end.Result):
		owed.Result = Result{Err: p.Ended()}
	default:
		return r, end
	}
	return Result{}, &owed
}

// mailbox is a one-slot mailbox: put never blocks, a newer document
// replaces one not taken yet, and the end of the stream is kept apart so it
// is never lost.
type mailbox struct {
	mu    sync.Mutex
	r     Result
	fresh bool
	end   *StreamEnd
	ready chan struct{} // buffered(1): something to take
}

func (b *mailbox) put(r Result, end *StreamEnd) {
	b.mu.Lock()
	if end != nil {
		b.end = end
	} else {
		b.r, b.fresh = r, true
	}
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

func (b *mailbox) take() (r Result, fresh bool, end *StreamEnd) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, fresh, end = b.r, b.fresh, b.end
	b.r, b.fresh = Result{}, false
	return r, fresh, end
}
