// Package ws registers the "ws" scheme: configuration pushed by a server
// over a WebSocket (github.com/coder/websocket). Import it for its side
// effect:
//
//	import _ "github.com/livebind/livebind/sources/ws"
//
//	type Config struct {
//		Flags Flags `live:"ws=wss://control.example/flags; format=json"`
//		Limit int   `live:"ws=wss://control.example/config; key=api.rps; ping=15s"`
//	}
//
// The location is the whole ws:// or wss:// URL. Each text or binary
// message is a whole document, decoded like an HTTP body (format=, key=).
// A server sends the full document when a client connects and again on
// every change; see docs/push.md.
//
// Options:
//
//   - maxbytes=N: the largest message, default [DefaultMaxBytes]. A larger
//     message is an error wrapping [sources.ErrTooLarge], read no further
//     than one byte past the limit, or not at all once a frame header
//     announces a length past it; the connection is dropped and opened
//     again on the slow backoff.
//   - ping=D: the keepalive interval, default [DefaultPing]; 0 turns the
//     keepalive off. A pong that does not come within timeout= (or D, when
//     shorter) drops the connection ([ErrNoPong]).
//   - header=Name: value: one handshake header, never logged.
//   - timeout=D: bounds the opening handshake, default [DefaultTimeout]; a
//     Read (at Bind, and Reload) waits at most this long for the first
//     message, and so does each connection of a watch (one that the server
//     holds without sending the document is dropped with an error wrapping
//     [sources.ErrUnreachable] and opened again).
//
// More headers, the Origin, subprotocols, TLS roots or a proxy go in
// [Config], passed with livebind.WithSourceConfig("ws", ws.Config{...}).
//
// A connection that the server closes in an orderly way (close codes 1000,
// 1001, 1012, 1013) is opened again after a short jittered wait, reporting
// nothing unless that fails; closed so before its first message, it is a
// failed attempt ([ErrEnded]), backed off like one. A connection that breaks is an Error wrapping
// [sources.ErrDisconnected] at once, then reopened with capped exponential
// backoff and jitter. A handshake answered 404 or 410 means missing
// (Removed); 401 and 403 ([sources.ErrAuth]) and other statuses ([sources.ErrHTTPStatus]) are
// retried on a slow backoff, never hot. Every failure is an [*Error]
// naming the redacted URL; the last good value stays.
package ws
