// Package nats registers the "nats" scheme: configuration read from a NATS
// JetStream key-value entry and followed with a key watcher, or pushed as
// the messages of a core NATS subject. Import it for its side effect:
//
//	import _ "github.com/livebind/livebind/sources/nats"
//
//	type Config struct {
//		App  AppConfig `live:"nats=config/app; format=json"`
//		Mode string    `live:"nats=subject:app.mode; format=text; default=normal"`
//	}
//
// # Locations
//
//   - nats=BUCKET/KEY: the entry KEY of the key-value bucket BUCKET (the
//     first "/" separates them; the key may hold more). Its value is a
//     document. A missing key, and a key whose latest revision is a delete
//     or a purge, is Missing (livebind sends Removed, later Added). A
//     bucket that does not exist is Missing too; the driver checks for it
//     again, 100 ms doubling to [BucketRecheck] apart, and its first value
//     once it is created is an Added.
//   - nats=subject:NAME: a core NATS subject (wildcards allowed). Each
//     message is a whole document. A subject has no state: until a message
//     arrives the field keeps its default= (or its zero value), and a
//     required field fails Bind. Messages published while the connection
//     is down are lost; the last message received stays the value.
//
// # Options
//
//   - maxbytes=N: the largest value or message, default [DefaultMaxBytes].
//     The server's max_payload (1 MiB by default) bounds them first.
//   - timeout=D: bounds one read, default [DefaultTimeout].
//
// # Connection
//
// One connection per Binding, dialed on first use, from [Config].Options
// (URL, user and password, token, TLS), a bare *natsgo.Conn (used as is),
// or the NATS_URL variable (one URL or a comma-separated list), else
// natsgo.DefaultURL, reconnecting forever
// every [ReconnectWait]:
//
//	livebind.WithSourceConfig("nats", nats.Config{Options: &opts})
//
// Passwords and tokens never appear in errors, logs or updates.
//
// # Failures and reconnection
//
// A failure is an [*Error] update (the last good value stays) wrapping
// [sources.ErrUnreachable] (retried within [TransientMaxBackoff]), [sources.ErrAuth]
// (retried from [PermanentBackoff], never hot) or sources.ErrTooLarge.
// When the connection is lost the watch reports sources.ErrUnreachable; when the
// client has reconnected, an entry's watch opens a new key watcher, whose
// first update is the entry's current value, so a change made meanwhile is
// not missed, and a subject's watch reports its last message again.
//
// A subject, or a bucket's JetStream requests, that the server's
// permissions refuse to the user is a sources.ErrAuth error for the fields
// that need it, at once; the others go on over the same connection. The
// client's asynchronous errors go to the Binding's logger (and to the
// user's AsyncErrorCB), never to stderr. Whatever answers at the server's
// address is held to [MaxControlLine] per line and [MaxMessage] per
// message before the client reads it.
//
// # Cost
//
// An idle entry field costs the JetStream heartbeats of its watcher (about
// 10 messages a minute); an idle subject field costs nothing; the
// connection sends a PING every 2 minutes. A burst coalesces: only the
// newest update waits for the fields.
package nats
