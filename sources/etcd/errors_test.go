package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// TestClassify: each client error wraps the sentinel callers match, a
// permission problem is retried slowly, the key is named, a long message
// is cut, and a password the client or a proxy echoed is scrubbed.
func TestClassify(t *testing.T) {
	t.Parallel()
	const pw = "etcd-pass-0123456789"
	long := strings.Repeat("x", 1000)
	cases := []fixture.ErrorCase{
		{Name: "denied", Err: rpctypes.ErrPermissionDenied, Is: sources.ErrAuth, Permanent: true, Text: `etcd: prefix "app/": authentication or permission refused: etcdserver: permission denied`},
		{Name: "auth failed", Err: rpctypes.ErrAuthFailed, Is: sources.ErrAuth, Permanent: true, Text: "authentication or permission refused: etcdserver: authentication failed"},
		{Name: "unauthenticated, password echoed", Err: status.Error(codes.Unauthenticated, "bad password "+pw), Is: sources.ErrAuth, Permanent: true, Text: "bad password <token>"},
		{Name: "unavailable", Err: status.Error(codes.Unavailable, "connection refused"), Is: sources.ErrUnreachable, Text: "server unreachable: rpc error"},
		{Name: "timeout", Err: fmt.Errorf("get: %w", context.DeadlineExceeded), Is: sources.ErrUnreachable, Text: "server unreachable: no answer in time"},
		{Name: "canceled", Err: fmt.Errorf("get: %w", context.Canceled), Is: context.Canceled, Text: "context canceled"},
		{Name: "canceled by gRPC", Err: status.Error(codes.Canceled, "context canceled"), Is: context.Canceled, Text: "context canceled"},
		{Name: "long", Err: errors.New(long), Is: sources.ErrUnreachable, Text: long[:sources.MaxServerText] + "..."},
		{Name: "password cut through", Err: errors.New(fixture.CutThrough(pw)), Is: sources.ErrUnreachable, Text: "server unreachable: xxx"},
	}
	fixture.WantClassified(t, pw, func(err error) (error, bool) {
		e := classify(watchKey{key: "app/", prefix: true}, err, pw)
		return e, e.permanent()
	}, cases...)
}
