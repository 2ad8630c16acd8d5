package consul_test

import (
	"context"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/livebind/livebind/internal/testenv/bindtest"
)

// BenchmarkPutToCallback measures the latency from a PUT to the Subscribe
// callback that reports it, through a real agent and livebind, with
// ratelimit=1ms (the benchmark puts back to back, which the default rate
// limit would deliberately slow to one read every 15s). It reports p50-ms
// and p99-ms. Run: go test -run '^$' -bench PutToCallback -benchtime=200x
// ./sources/consul
func BenchmarkPutToCallback(b *testing.B) {
	_, client := agentWith(b, "bench/v", "start")
	type config struct {
		V string `live:"consul=${LOC}; format=text; ratelimit=1ms"`
	}
	bindtest.PublishLatency[config](b, "consul", client, bindtest.Writer{Name: "put", Loc: "bench/v", Write: func(ctx context.Context, v string) error {
		_, err := client.KV().Put(&api.KVPair{Key: "bench/v", Value: []byte(v)}, (&api.WriteOptions{}).WithContext(ctx))
		return err
	}})
}
