// Package etcd registers the etcd= source: a field reads one etcd key, or
// every key under a prefix as a nested object, and follows it with an etcd
// watch. Import it for its side effect:
//
//	import _ "github.com/livebind/livebind/sources/etcd"
//
//	type Config struct {
//		Flags  []string          `live:"etcd=app/flags"`                // a key; text, JSON, YAML or TOML
//		DB     DBConfig          `live:"etcd=app/db.json"`              // format from the extension
//		Tuning map[string]string `live:"etcd=app/tuning/; prefix"`      // app/tuning/a -> {"a": ...}
//		Limits Limits            `live:"etcd=app/limits; maxbytes=4096"` // a smaller size limit
//	}
//
//	b, err := livebind.Bind(ctx, &cfg, livebind.WithSourceConfig("etcd", etcd.Config{
//		Endpoints: []string{"https://etcd-1:2379"},
//		Username:  "app", Password: password, TLS: tlsConfig,
//	}))
//
// Options:
//   - prefix: read every key under the location as one JSON object, nested
//     by "/" (the shape of consul's prefix mode, see [sources.PrefixJSON]);
//     no key under it is Missing. The keys are read in pages of [PageSize]
//     keys, every page at the revision of the first, so no response holds
//     more than PageSize keys and the object is one state of the prefix. A
//     page refused because that revision was compacted meanwhile starts
//     the read over (at most three times, then a [sources.ErrUnreachable] error).
//   - maxbytes=N: the largest value, or sum of values under a prefix, in
//     bytes; default [DefaultMaxBytes]. A larger one is an error wrapping
//     sources.ErrTooLarge and the field keeps its last good value. Reads
//     and watches are made with a gRPC receive limit derived from N, so an
//     answer over it is refused at its length header, unread. A paged
//     read stops at the first page that takes the sum over N, and the next
//     change under the prefix reads it again.
//   - timeout=D: bounds one read (a whole paged read, restarts included);
//     default [DefaultTimeout].
//
// Each Binding has one client (built from [Config], or the *clientv3.Client
// given), so one gRPC connection, over which etcd multiplexes the watches
// of one maxbytes= on one watch stream; fields that read the same key with the same options
// share one watch. A watch starts with a Get (a paged read for a prefix)
// and watches from its revision + 1, so no change is missed. A watch whose revision was
// compacted, a lost connection (the driver follows the gRPC connection
// state and reports the loss at once as a [sources.ErrUnreachable] error), a
// member that lost its leader (watches require a leader) and a field
// joining all lead to a new Get and a new watch from its revision: the
// latest state is always reported, never a silent gap. Failures are
// [*Error] values; the password never appears in them.
package etcd
