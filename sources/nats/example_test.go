package nats_test

import (
	"context"
	"fmt"

	natsgo "github.com/nats-io/nats.go"

	"github.com/livebind/livebind"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// Example binds a JSON document kept in a JetStream key-value entry and a
// log level pushed on a core subject. It needs a running server, so it
// has no output to check.
func Example() {
	type Config struct {
		Flags map[string]bool `live:"nats=config/flags; format=json"`
		Level string          `live:"nats=subject:app.level; format=text; default=info"`
	}
	opts := natsgo.GetDefaultOptions()
	opts.Url = "nats://127.0.0.1:4222"
	opts.User, opts.Password = "app", "from-a-secret-store"
	opts.MaxReconnect = -1
	var cfg Config
	b, err := livebind.Bind(context.Background(), &cfg, livebind.WithSourceConfig("nats", lbnats.Config{Options: &opts}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	fmt.Println(b.Get().Flags, b.Get().Level)
}
