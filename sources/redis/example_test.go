package redis_test

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/livebind/livebind"
	lbredis "github.com/livebind/livebind/sources/redis"
)

// Example binds a JSON document kept in a Redis key, a limit polled where
// keyspace notifications cannot be used, and a mode pushed on a channel.
// It needs a running server, so it has no output to check.
func Example() {
	type Config struct {
		App struct {
			Workers int    `json:"workers"`
			Region  string `json:"region"`
		} `live:"redis=app:config; format=json; notify=enable"`
		Limit int    `live:"redis=app:limit; format=text; poll=30s; default=100"`
		Mode  string `live:"redis=channel:app-mode; format=text; default=normal"`
	}
	var cfg Config
	b, err := livebind.Bind(context.Background(), &cfg, livebind.WithSourceConfig("redis", lbredis.Config{
		Options: &goredis.Options{Addr: "127.0.0.1:6379", Username: "app", Password: "from-a-secret-store"},
	}))
	if err != nil {
		fmt.Println(err) // names the field; a server with notifications off and no notify=/poll= says how to fix it
		return
	}
	defer b.Close()
	fmt.Println(b.Get().App.Workers, b.Get().Mode)
}
