// Package sse registers the "sse" scheme: configuration pushed by a server
// over a text/event-stream (Server-Sent Events). livebind registers it by
// default, like http=.
//
//	type Config struct {
//		Flags Flags  `live:"sse=https://control.example/flags; format=json"`
//		Limit int    `live:"sse=https://control.example/stream; event=limits; key=api.rps"`
//		Motd  string `live:"sse=${MOTD_URL}; format=text; header=Authorization: Bearer ${TOKEN}"`
//	}
//
// The location is the whole http:// or https:// URL. The data of each event
// (its data: lines joined by "\n") is a whole document, decoded like an
// HTTP body (format=, key=). A server sends the full document when a client
// connects and again on every change; see docs/push.md.
//
// Options:
//
//   - event=NAME: follow events of that type (their event: field). Without
//     it, events without an event: field (type "message") are followed.
//   - maxbytes=N: the largest event data, default [DefaultMaxBytes]. A
//     larger event is an error wrapping [sources.ErrTooLarge], skipped
//     without being buffered; the stream goes on.
//   - header=Name: value: one request header, never logged.
//   - timeout=D: bounds connecting (until the response's headers), default
//     [DefaultTimeout]; a Read (at Bind, and Reload) waits at most this long
//     for the first event, and so does a watch's stream opened without
//     Last-Event-ID (one that holds the connection without sending the
//     document is dropped with an error wrapping [sources.ErrUnreachable]
//     and opened again).
//   - idle=D: a stream on which no byte came for D (no event, no comment)
//     is dropped with an error wrapping [sources.ErrUnreachable] and opened
//     again: a server that holds the connection but stopped sending. At
//     least [MinIdle]; default none, since a server may send nothing
//     between changes. Set it above the server's heartbeat interval.
//
// Reconnecting follows the WHATWG standard: after the stream ends the
// client waits the server's retry: (bounded by [MinRetry] and [MaxRetry];
// [DefaultRetry] until one comes) and reconnects with the last event id in
// Last-Event-ID. A stream that ends before its first event when the
// request sent no Last-Event-ID (so the server had to send the document)
// is a failed attempt, an Error wrapping [ErrEnded] retried on the fast
// backoff; with Last-Event-ID it reconnects quietly, since the server may
// have nothing newer. A 204 No Content tells it to stop: the field keeps its
// value, an Error wrapping [ErrStopped] is sent, and the stream is not
// opened again until another field joins it. 404 and 410 mean missing
// (Removed). 401 and 403 ([sources.ErrAuth]), a wrong Content-Type
// ([ErrContentType]) and other statuses ([sources.ErrHTTPStatus]) are errors retried on
// a slow backoff; 429 and 5xx, and connections that fail, on a fast one
// (capped exponential with jitter). Every failure is an [*Error] naming the
// redacted URL; the last good value stays.
package sse
