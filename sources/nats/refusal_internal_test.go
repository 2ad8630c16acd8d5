package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	natsgo "github.com/nats-io/nats.go"
)

// TestRefusalRouting: a refused JetStream request of one key (a direct
// get names the key's subject) ends the requests in flight of that key
// only, not those of another key of the bucket, which the permissions may
// allow; a refusal of the bucket's own API (stream info) ends every
// request of the bucket; a refused subscription ends only its subject's.
func TestRefusalRouting(t *testing.T) {
	t.Parallel()
	d := &driver{logger: slog.New(slog.DiscardHandler)}
	ctxs := map[string]context.Context{}
	for _, k := range []watchKey{{bucket: "b", key: "secret"}, {bucket: "b", key: "pub.lic"}, {bucket: "c", key: "secret"}} {
		ctx, done := d.refusable(t.Context(), k)
		defer done()
		ctxs[k.bucket+"/"+k.key] = ctx
	}
	refused := func(subject string) error {
		return fmt.Errorf("%w: Permissions Violation for Publish to %q", natsgo.ErrPermissionViolation, subject)
	}
	ended := func() map[string]bool {
		out := map[string]bool{}
		for name, ctx := range ctxs {
			out[name] = errors.Is(context.Cause(ctx), natsgo.ErrPermissionViolation)
		}
		return out
	}

	d.asyncError(nil, refused("$JS.API.DIRECT.GET.KV_b.$KV.b.secret"))
	if got := ended(); !got["b/secret"] || got["b/pub.lic"] || got["c/secret"] {
		t.Fatalf("after a direct get of b/secret refused: %v", got)
	}
	d.asyncError(nil, refused("$JS.API.STREAM.INFO.KV_b"))
	if got := ended(); !got["b/pub.lic"] || got["c/secret"] {
		t.Fatalf("after b's stream info refused: %v", got)
	}
}
