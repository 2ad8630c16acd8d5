package etcd

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Receive limits. etcd sends a value whole, in one gRPC message, and has
// no streaming read a 3.4 member answers. gRPC reads the 5-byte length
// header of each message first and refuses one longer than the call's
// MaxCallRecvMsgSize before it reads the body (codes.ResourceExhausted), so
// the driver gives each Range and each watch stream a limit derived from
// maxbytes=: an answer that cannot fit is refused unread instead of being
// received, unmarshaled and dropped. What the HTTP/2 transport has
// buffered of the refused message by then (at most its flow-control
// window) is discarded with the stream.
const (
	// respOverhead bounds what a Range response adds to its keys and
	// values besides kvOverhead per key: its header (four int64 varints,
	// with tags and its own length: 46 bytes) and the more and count
	// fields (13): at most 59 bytes; the rest is a margin. A value up to
	// respOverhead + kvOverhead bytes over maxbytes= (less its key's
	// length) thus still arrives whole, and is dropped once read.
	respOverhead = 256
	// kvOverhead bounds what one key-value pair adds to its key and value:
	// its own length prefix and tag, the tags and lengths of the key and
	// value, and four int64 varints (create and mod revision, version,
	// lease): at most 6 + 2·6 + 4·11 = 62 bytes.
	kvOverhead = 64
	// pageSlack is what the first Range of a page of a prefix may hold
	// beyond the values still allowed: its keys and framing (500 keys of
	// about 60 bytes). A page refused at that size is read again
	// keys-only to tell exactly, see boundedGet: that costs two requests
	// only when the values nearly fill maxbytes= and the keys are longer.
	pageSlack = 64 << 10
	// watchSlack is what a watch response may hold beyond twice maxbytes=:
	// its keys and framing. Twice maxbytes= so that a batch of two changes
	// within the limit (usual under churn) is not refused.
	watchSlack = 64 << 10
)

// errRefused marks a Range whose answer gRPC refused unread: its values
// are over the budget they were read with.
var errRefused = errors.New("refused unread by its length header")

// refused reports an error of gRPC refusing a received message over the
// call's MaxCallRecvMsgSize (not one of etcd's own ResourceExhausted
// errors, such as "too many requests", which the client turns into an
// rpctypes.EtcdError).
func refused(err error) bool {
	if err == nil || status.Code(err) != codes.ResourceExhausted {
		return false
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return false
	}
	return strings.Contains(status.Convert(err).Message(), "larger than max")
}

func clampLimit(n int) int { return min(n, math.MaxInt32) }

// withLimit is opts and a receive limit of n bytes, last so that it wins
// over the client's own, in a new slice: opts may be the client's shared
// call options.
func withLimit(opts []grpc.CallOption, n int) []grpc.CallOption {
	return append(append(make([]grpc.CallOption, 0, len(opts)+1), opts...), grpc.MaxCallRecvMsgSize(clampLimit(n)))
}

// limitedKV is a KVClient whose Ranges refuse an answer over max bytes.
type limitedKV struct {
	pb.KVClient
	max int
}

func (l limitedKV) Range(ctx context.Context, in *pb.RangeRequest, opts ...grpc.CallOption) (*pb.RangeResponse, error) {
	return l.KVClient.Range(ctx, in, withLimit(opts, l.max)...)
}

// limitedWatch is a WatchClient whose streams refuse a response over max
// bytes.
type limitedWatch struct {
	pb.WatchClient
	max int
}

func (l limitedWatch) Watch(ctx context.Context, opts ...grpc.CallOption) (pb.Watch_WatchClient, error) {
	return l.WatchClient.Watch(ctx, withLimit(opts, l.max)...)
}

// plainClient reports a client whose KV and Watcher are its own, not
// wrapped (by the namespace package, for one): the driver may then read
// through the client's connection with limits of its own, as the wrapper
// would otherwise be bypassed.
func plainClient(cli *clientv3.Client) bool {
	return reflect.TypeOf(cli.KV) == reflect.TypeOf(clientv3.NewKV(cli)) &&
		reflect.TypeOf(cli.Watcher) == reflect.TypeOf(clientv3.NewWatcher(cli))
}

// ranger returns the KV to read with, whose answers gRPC refuses over
// limit bytes; limit 0 means the client's own limit.
type ranger func(limit int) clientv3.KV

// ranger returns the ranger of cli: limited when the driver may read
// through cli's connection.
func (d *driver) ranger(cli *clientv3.Client) ranger {
	if !d.bounded {
		return func(int) clientv3.KV { return cli }
	}
	return func(limit int) clientv3.KV {
		if limit <= 0 {
			return cli
		}
		return clientv3.NewKVFromKVClient(limitedKV{clientv3.RetryKVClient(cli), limit}, cli)
	}
}

// watcher returns the Watcher of the watches of k: one per maxbytes= (so
// one watch stream per distinct maxbytes=), whose stream refuses a
// response over 2·maxbytes= + watchSlack. A refused response ends the
// stream with every watch on it; each reads again (endRefused).
func (d *driver) watcher(cli *clientv3.Client, k watchKey) clientv3.Watcher {
	if !d.bounded {
		return cli
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.watchers == nil { // closed: the watch's context has ended
		return cli
	}
	w, ok := d.watchers[k.maxBytes]
	if !ok {
		w = clientv3.NewWatchFromWatchClient(limitedWatch{pb.NewWatchClient(cli.ActiveConnection()), watchLimit(k.maxBytes)}, cli)
		d.watchers[k.maxBytes] = w
	}
	return w
}

// watchLimit is the receive limit of the watch stream of maxbytes=.
func watchLimit(maxBytes int) int {
	return clampLimit(2*min(maxBytes, math.MaxInt32) + watchSlack)
}

// boundedGet is one Get of key with opts (a range and a page size, for a
// prefix) whose values may sum to budget bytes, at revision rev (0: the
// latest). Its answer may hold slack bytes besides the values: over that,
// gRPC refuses it unread. Refused, it is not yet known whether the values
// or the keys made it too large, so the keys are read alone (at rev, or
// else at the latest revision, then used by every request that follows),
// and the Get is made once more at that revision allowing exactly their
// size: refused again, the values are over budget, and boundedGet returns
// errRefused. It also returns the revision the answer (or the refusal)
// stands for.
func boundedGet(ctx context.Context, kv ranger, key string, budget, slack int, rev int64, opts ...clientv3.OpOption) (*clientv3.GetResponse, int64, error) {
	at := func(rev int64, more ...clientv3.OpOption) []clientv3.OpOption {
		o := append(append([]clientv3.OpOption{}, opts...), more...)
		if rev != 0 {
			o = append(o, clientv3.WithRev(rev))
		}
		return o
	}
	resp, err := kv(budget+slack).Get(ctx, key, at(rev)...)
	if !refused(err) {
		if err == nil && rev == 0 {
			rev = resp.Header.Revision
		}
		return resp, rev, err
	}
	keys, err := kv(0).Get(ctx, key, at(rev, clientv3.WithKeysOnly())...)
	if err != nil {
		return nil, rev, err
	}
	if rev == 0 {
		rev = keys.Header.Revision
	}
	exact := budget + respOverhead
	for _, kv := range keys.Kvs {
		exact += len(kv.Key) + kvOverhead
	}
	resp, err = kv(exact).Get(ctx, key, at(rev)...)
	if refused(err) {
		return nil, rev, errRefused
	}
	return resp, rev, err
}
