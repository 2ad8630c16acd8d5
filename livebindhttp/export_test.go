package livebindhttp

import "time"

// The wire types, for the external tests to decode responses with.
// TestStatusWire pins the JSON of the status types to the documented text;
// UpdateJSON is the reference encoding of an update (hub_test.go).
type (
	StatusJSON = statusJSON
	UpdateJSON = updateJSON
)

// WithWriteTimeout replaces the event streams' write timeout (writeTimeout),
// so that a test can see a silent client lose its stream without waiting
// 10 s, or keep a slow test's stream whatever the machine's load.
func WithWriteTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.writeTimeout = d })
}
