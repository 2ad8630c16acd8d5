// Package http registers the "http" scheme: configuration fetched from an
// HTTP or HTTPS URL and polled for changes. Import it for its side effect:
//
//	import _ "github.com/livebind/livebind/sources/http"
//
//	type Config struct {
//		Live  RemoteConfig `live:"http=https://config.example/live?env=prod; poll=30s"`
//		Rules []Rule       `live:"http=${RULES_URL}; poll=10s; format=yaml; header=Authorization: Bearer ${RULES_TOKEN}"`
//		Motd  string       `live:"http=https://example.com/motd.txt; timeout=2s; maxbytes=4096"`
//	}
//
// The location is the whole URL (http:// or https://). Options:
//
//   - poll=D: the poll interval, default [DefaultPoll]. Each wait is jittered
//     by ±10% so that many processes started together do not poll together.
//   - timeout=D: bounds one request, reading the body included, default
//     [DefaultTimeout]. A server that sends its body slowly is cut off.
//   - maxbytes=N: the largest body accepted, in bytes, default
//     [DefaultMaxBytes]. A larger body is an error wrapping
//     [sources.ErrTooLarge]; it is never cut short into a value.
//   - header=Name: value: one request header, ${VAR}-expanded like every
//     option. Its value is treated as a secret: it never appears in an error
//     or a log line. More headers, or a client with its own TLS roots, proxy
//     or authenticating transport, go in [Config], passed with
//     livebind.WithSourceConfig("http", http.Config{...}).
//
// Bad option values (a maxbytes= that is not a positive whole number, a
// header= that is not "Name: value", a location that is not an absolute
// http:// or https:// URL) are Bind errors. Fields that watch the same URL
// with the same header= and maxbytes= share one poll loop, which polls at
// the shortest poll= and allows the longest timeout= among them.
//
// The format comes from format=; else from a specific Content-Type
// (application/json or any +json type, application/yaml, application/toml);
// else from the URL path's extension; else text. A generic Content-Type
// (text/plain, application/octet-stream, anything else) defers to the
// extension, so app.json served as text/plain, as raw file hosts serve it,
// is JSON.
//
// # Conditional requests
//
// The ETag of a response is stored as received (weak or strong) and sent
// back in If-None-Match; If-Modified-Since (from Last-Modified) is sent only
// when there is no ETag. A 304 Not Modified changes nothing: its body is not
// read, and the validators are refreshed from its headers. When the server
// gives no validator, the whole body is fetched each time and compared with
// the last one: the same bytes report nothing.
//
// A Cache-Control max-age (less any Age) longer than poll= is honored: the
// server says the response stays fresh that long, so polling sooner is
// wasted. The wait is capped at ten poll intervals, so a CDN's max-age of a
// day does not silently turn poll=10s into a daily poll. no-cache and
// no-store disable it.
//
// # Status codes and failures
//
// 200, 203 and 204 are values. An empty body (a 204, or any of them with
// zero bytes) is an error wrapping [sources.ErrEmpty] in every format, text
// included: livebind keeps the last good value. 404 and 410 report the
// resource missing: the field keeps its value and a Removed update is sent
// (default= applies only when the resource is missing at Bind). Any other
// status is an error wrapping [sources.ErrHTTPStatus]. Every failure is an [*Error]
// naming the redacted URL and the status (0 when no response came); it
// never holds the body.
//
// After a failure livebind keeps the last good value and the driver retries
// by itself, with capped exponential backoff with jitter (each wait drawn
// from [d/2, d), d doubling), and never gives up:
//
//   - transport errors, timeouts, 429 and 5xx other than 501 are retried
//     from min(poll, 1s) doubling up to [MaxBackoff]. A Retry-After on 429 or
//     503 (seconds or an HTTP date) is honored, capped at [MaxBackoff];
//   - other 4xx, 501, unexpected statuses, too large bodies and response
//     headers over the client's limit ([MaxHeaderBytes] for the driver's own,
//     both [sources.ErrTooLarge]) will not fix themselves soon: they are retried no sooner than poll= and no sooner
//     than a backoff from max(poll, 1s) doubling up to [MaxBackoff].
//
// When poll= is longer than [MaxBackoff], the poll interval is the cap.
// Any answer from the server (a value, 304, 404) resets the backoff.
//
// # Secrets
//
// Locations are redacted wherever they are shown, by the rule of
// sources.RedactURL: scheme, host, port and path are shown; the user
// information, the value of every query parameter and the fragment become
// xxxxx (livebind's safequery= shows chosen parameters, secretlocation hides
// the whole location). Errors produced by net/http are rebuilt with the
// redacted URL. Bodies and header values are never logged or put in errors.
//
// Redirects are followed as the client's CheckRedirect allows (ten by
// default), never to a scheme other than http and https, nor from https
// down to plain http. A refusal (one of those, an 11th redirect, a loop,
// or an error of the client's CheckRedirect) is an [*Error] wrapping
// [sources.ErrRedirect], retried no sooner than poll=, as other failures
// that need someone to act.
//
// Configured headers (header= and [Config].Header) are sent only to the
// origin of the configured URL: its scheme, host and port. Once a
// redirect leads elsewhere (127.0.0.1:8080 to 127.0.0.1:9090 included),
// they are dropped for the rest of the chain, as is the Referer net/http
// would add (the previous URL, query credentials and all). net/http alone
// drops only Authorization and Cookie, and only for another host name.
// Headers that the client's own Transport adds are the Transport's
// business.
package http
