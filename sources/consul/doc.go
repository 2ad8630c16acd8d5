// Package consul registers the "consul" scheme: configuration read from
// Consul's key/value store and followed with blocking queries. Import it for
// its side effect:
//
//	import _ "github.com/livebind/livebind/sources/consul"
//
//	type Config struct {
//		Flags   FeatureFlags      `live:"consul=app/feature-flags; format=json"`
//		Limits  Limits            `live:"consul=app/limits.yaml"`
//		Tuning  map[string]string `live:"consul=app/tuning/; prefix"`
//		Timeout time.Duration     `live:"consul=app/http/timeout; format=text; wait=2m"`
//	}
//
// The location is a key (a leading "/" is ignored). A key with a "." or
// ".." segment or an empty one ("a//b") is refused: Consul's HTTP API
// redirects such a path to the cleaned one, another key. Options:
//
//   - prefix: watch every key under the location instead of one key. The
//     value is a JSON object of the keys relative to the prefix, nested by
//     "/", each value a JSON string (see below).
//   - dc=NAME: read from another datacenter.
//   - stale: let any server answer (Consul's "stale" consistency mode),
//     cheaper and possibly slightly behind the leader.
//   - wait=D: how long one blocking query waits for a change, default
//     [DefaultWait], at most [MaxWait]. Consul adds up to wait/16 of jitter.
//   - ratelimit=D: the minimum average gap between two requests of the
//     query, more than zero, default [DefaultRateLimit]. Zero is a Bind
//     error; a negative Config.RateLimit turns the limit off.
//
// Address, token and TLS come from the standard CONSUL_* environment
// variables through api.DefaultConfig, or from a client handed to livebind:
//
//	livebind.WithSourceConfig("consul", client)                                  // *api.Client
//	livebind.WithSourceConfig("consul", consul.Config{Client: client, RateLimit: time.Second})
//
// # Values and formats
//
// The value of a key is passed on as bytes; livebind decodes it in the
// format of format=, else the key's extension (.json, .yaml, .toml, .txt),
// else as text. A prefix watch declares JSON:
//
//	app/tuning/a   = "1"       {"a": "1",
//	app/tuning/x/y = "2"   ->   "x": {"y": "2"}}
//
// Folder markers (keys ending in "/") are skipped. A key that is also a
// folder keeps its own value under the name "" in the folder's object. A
// prefix with no keys is missing.
//
// # Changes
//
// Fields reading the same key or prefix with the same dc, stale and wait
// share one blocking query per Binding, however many targets they make. A
// blocking query's return is no proof of change: the driver reports a value
// only when its bytes differ from the last one reported (rewriting the same
// value changes Consul's index, not the field). A deleted key is reported
// missing: livebind sends Removed and keeps the field's value (or its
// default=); when the key comes back it sends Added.
//
// The index follows Consul's documented rules: it restarts from 0 (a
// non-blocking read) when an answer's index is lower than the previous one,
// as after an agent restart or a snapshot restore, after any failure, after
// any wait for a token or a retry (the agent may have restarted unseen), and
// after an early answer with an unchanged index (Consul abandons blocking
// queries on a snapshot restore and answers from the old state); it is never
// below 1 otherwise. Requests are rate limited by a token bucket of
// [RateBurst] tokens refilled every ratelimit=: a key that changes now and
// then, or in bursts of up to [RateBurst] changes, is followed at once; a
// churning key is read at most every [DefaultRateLimit].
//
// # Failures
//
// An unreachable agent, a 5xx, a 403 (the ACL token may not read the key)
// or any other failure is reported as an error wrapped in [*Error]
// ([sources.ErrUnreachable], [sources.ErrHTTPStatus], [sources.ErrAuth],
// [ErrMalformed] for an answer that is not Consul's JSON); livebind keeps the
// last good value. The driver retries forever with capped exponential
// backoff and jitter: from 250ms after failures that clear up by themselves,
// doubling up to [TransientMaxBackoff], and from 10s after 403 and other
// 4xx and malformed answers, doubling up to [DefaultMaxBackoff]
// ([Config].MaxBackoff). Errors never
// contain the ACL token, the CONSUL_HTTP_AUTH password or a header the
// client adds, whatever the server echoes.
//
// The driver's own client reads at most [Config].MaxBytes ([DefaultMaxBytes])
// of an answer: a larger one is an error wrapping sources.ErrTooLarge,
// retried on the slow backoff, and an error text is cut there. It follows
// no redirect (the token would go along). A client
// given in [Config].Client is used as it is.
package consul
