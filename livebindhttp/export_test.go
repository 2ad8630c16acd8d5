package livebindhttp

// The wire types, for the external tests to decode responses with.
// TestStatusWire pins the JSON of the status types to the documented text;
// UpdateJSON is the reference encoding of an update (hub_test.go).
type (
	StatusJSON = statusJSON
	UpdateJSON = updateJSON
)
