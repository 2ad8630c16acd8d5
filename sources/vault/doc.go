// Package vault registers the "vault" scheme: secrets read from HashiCorp
// Vault and followed as they change: new KV versions, deletions, and
// dynamic credentials that are renewed and replaced before their lease
// runs out. Import it for its side effect:
//
//	import _ "github.com/livebind/livebind/sources/vault"
//
//	type Secrets struct {
//		DBPassword string  `live:"vault=secret/data/db#password"` // one field of a KV v2 secret
//		DB         DBCreds `live:"vault=secret/db"`               // the whole secret (data/ is added)
//		Legacy     string  `live:"vault=kv1/app#token"`           // KV v1
//		Dynamic    DBCreds `live:"vault=database/creds/app"`      // leased dynamic credentials
//	}
//
// Every vault field is secret: its value never appears in updates, errors
// or logs.
//
// The location is a Vault logical path (as the CLI and the API take it,
// without /v1/), optionally followed by "#field" to select one top-level
// field of the secret's data. Without a field the value is the data object
// as JSON; with one, a string field is its text and any other value is
// JSON. A field that is absent or null is missing. For KV v2 both
// secret/data/db and secret/db name the same secret: when the mount is KV
// v2 and the path lacks data/ after the mount, the driver inserts it.
//
// Options:
//
//   - kv=1 or kv=2: the KV version, instead of detecting it from the mount
//     (sys/internal/ui/mounts/<path>, once per mount).
//   - mount=PATH: with kv=2, where the mount ends (as team/kv), so that no
//     detection is needed at all. Without it, kv=2 still asks Vault for the
//     mount and falls back to the first path segment.
//   - write=NAME=VALUE&NAME=VALUE: issue a PKI certificate by writing these
//     parameters to <mount>/issue/<role> (the only path shape accepted, on
//     a mount detected as pki). See "PKI certificates" below.
//   - poll=D: how often a KV secret, or any secret without a lease, is
//     checked, default [DefaultPoll], jittered by ±10%.
//   - timeout=D: the bound on one request, default [DefaultTimeout].
//
// The client comes from the standard VAULT_* environment variables through
// api.DefaultConfig and api.NewClient, or from a client handed to livebind:
//
//	livebind.WithSourceConfig("vault", client) // *api.Client
//	livebind.WithSourceConfig("vault", vault.Config{Client: client, Poll: time.Minute})
//
// # Changes
//
// KV v2 secrets are followed by reading <mount>/metadata/<name> each poll:
// one small request that holds no secret data. The data is read only when
// current_version moves. When the token may not read the metadata, the
// driver reads the data each poll instead and compares versions and bytes.
// Either way a watched KV v2 secret costs at most 2 requests per poll
// interval (about 120 an hour at the default poll). A deleted or destroyed
// latest version is missing (livebind sends Removed and keeps the value);
// an undelete or a new version brings it back. A new version with the same
// data changes nothing.
//
// Secrets with a lease (database/creds/..., aws/creds/...) are not polled.
// A renewable lease is renewed when about 2/3 of its TTL has passed
// (jittered). When renewals stop extending it (its max TTL is near), when it
// is not renewable, or when renewing fails, new credentials are read 15-20%
// of the lease's length (at least 2s, at most half the lease) before it
// expires, and reported as a new value, so
// that a depends_on/update= function can swap a connection pool while the
// old credentials still work. Old leases are left to expire, not revoked.
// Every field of one dynamic secret shares one lease per Binding, and a
// Reload hands out the current credentials rather than new ones.
//
// # PKI certificates
//
// A field tagged vault=pki/issue/web; write=common_name=app.example.com&ttl=24h
// receives a certificate issued by that role (the whole answer, or one
// #field; [Certificate] is its shape, with the private key hidden when
// printed). A write is not idempotent, each one issues a new certificate,
// so it is sent once at Bind and again only 15-20% of the certificate's
// lifetime before it ends: by its lease when the role has
// generate_lease=true (PKI leases are not renewable, so they are never
// renewed), else by the certificate's expiration. Reads and Reloads hand
// out the current certificate while it is fresh.
//
// The client's token is looked up once and renewed (auth/token/renew-self)
// at about 2/3 of its TTL while Vault extends it, unless
// [Config].SkipTokenRenewal is set.
//
// # Failures
//
// Failures are errors wrapped in [*Error] ([sources.ErrAuth],
// [ErrTokenInvalid], [ErrSealed], [sources.ErrUnreachable], [sources.ErrHTTPStatus],
// [ErrMalformed], and [ErrLeaseExpired] once the current credentials' lease
// has run out); livebind keeps the last good value and reports an Error
// update. The driver retries forever with capped exponential backoff and
// jitter: from 1s after failures that clear up by themselves (sealed,
// unreachable, 5xx, 429), from 10s after 403, other 4xx and malformed
// answers, doubling up to [DefaultMaxBackoff] ([Config].MaxBackoff). A 403
// from an expired or revoked token is told apart from a policy denial by a
// lookup-self. Errors never contain the token or secret data. An answer
// body over 8 MiB, error texts included, is an error wrapping
// sources.ErrTooLarge, retried like a malformed answer; a client the
// driver builds stops reading it there (a client given in [Config].Client
// reads a non-2xx body whole: bound its transport yourself).
package vault
