// Package redis registers the "redis" scheme: configuration read from a
// Redis key, followed through keyspace notifications, or pushed as the
// messages of a pub/sub channel. Import it for its side effect:
//
//	import _ "github.com/livebind/livebind/sources/redis"
//
//	type Config struct {
//		App   AppConfig `live:"redis=app:config; format=json"`
//		Limit int       `live:"redis=app:limit; format=text; poll=30s"`
//		Mode  string    `live:"redis=channel:app-mode; format=text; default=normal"`
//	}
//
// # Locations
//
//   - redis=KEY (or redis=key:KEY, for a key that starts with "channel:"
//     or "key:"): a string key. Its value is a document, decoded with
//     format= (or the key's extension) and key=. A missing key is Missing
//     (livebind sends Removed, later Added).
//   - redis=channel:NAME: a pub/sub channel. Each message is a whole
//     document. A channel has no state: until a message arrives the field
//     keeps its default= (or its zero value), and a required field fails
//     Bind. Messages published while the driver is disconnected are lost
//     (Redis keeps none); the last message received stays the value.
//
// # Options
//
//   - addr=HOST:PORT and db=N: the server and database for this field,
//     instead of the source config's.
//   - notify=enable: let the driver turn keyspace notifications on
//     (CONFIG SET notify-keyspace-events) when they are off. Without it the
//     driver never changes the server's configuration.
//   - poll=D: for a key, poll every D when notifications are off and may
//     not be turned on, instead of failing.
//   - maxbytes=N: the largest value or message, default [DefaultMaxBytes].
//     A key is read with GETRANGE 0..N, so a larger value never comes back
//     whole; a larger message is refused after it arrived (Redis bounds it
//     with client-output-buffer-limit pubsub).
//   - timeout=D: bounds one read, default [DefaultTimeout].
//
// # Connection
//
// Address, database, user, password and TLS come from [Config].Options, a
// bare *goredis.Client, or the REDIS_URL variable
// (redis://user:password@host:port/db, rediss:// for TLS), else
// [DefaultAddr]:
//
//	livebind.WithSourceConfig("redis", redis.Config{Options: &goredis.Options{Addr: "cache:6379", Password: pw}})
//
// Passwords never appear in errors, logs or updates. go-redis itself logs
// dial failures through its own global logger (goredis.SetLogger).
//
// # Keyspace notifications
//
// A key is watched by subscribing to __keyspace@DB__:KEY and reading the
// key again on every notification, on every (re)subscription and when a
// field joins, so a change made while the subscription was down is read
// when it comes back. Every key and channel of one server and database
// shares one subscription connection (SUBSCRIBE and UNSUBSCRIBE on it as
// watches start and stop); when it breaks, each key and channel reports
// the failure at once, then they reconnect together: one of them
// subscribes again per backoff step while the others wait for it, so an
// outage costs one connection attempt per step however many fields there
// are. Once the server answers, all subscribe on the new shared
// connection and each key is read again. The notifications must include
// K (keyspace), $ (string commands), g (DEL, RENAME ...) and x (expiry),
// or A for all. Read (at Bind) checks them with CONFIG GET
// notify-keyspace-events, and the first subscription after the
// subscription connection broke or closed with its last watch checks
// again (a restarted server may have lost a CONFIG SET), as does every
// subscription of a key tagged notify=enable:
//
//   - on: watched through notifications;
//   - off, notify=enable: the driver sets them (adding K$gx) and logs it;
//   - off, poll= given: the key is polled every poll=;
//   - off otherwise, or CONFIG SET refused: an error wrapping
//     [ErrNotificationsOff] that names the fixes (Bind fails);
//   - CONFIG GET refused to the user (ACL): the driver cannot check; it
//     logs a warning and trusts that they are on, unless notify=enable was
//     asked for, which then fails naming the permission to grant.
//
// # Failures
//
// A failure is an [*Error] update (the last good value stays) wrapping
// [sources.ErrUnreachable] (retried within [TransientMaxBackoff]), [sources.ErrAuth] or
// [ErrNotificationsOff] (retried from [PermanentBackoff], never hot),
// [ErrWrongType] or sources.ErrTooLarge. A channel the server refuses to
// the user (an ACL) is a [sources.ErrAuth] error for that field only; the shared
// connection goes on for the others. A silent subscription connection is
// PINGed every [HealthInterval]; a PING unanswered for another interval
// counts as a cut connection.
//
// # Cost
//
// Per Binding (one driver), per server and database: pool connections
// for reads (as many as keys are read at once, up to the pool's size:
// after a reconnection every key is read at once), and one subscription
// connection (always from a client the driver owns) shared by every
// watched key and channel there, opened by the first watch and closed
// when the last one stops. The health PING is sent per subscription connection, once
// per [HealthInterval] when it is idle, whatever the number of fields. A
// burst of notifications or messages coalesces: at most one read is in
// flight per key, and only the newest message waits.
package redis
