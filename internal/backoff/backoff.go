// Package backoff is the old home of [sources.Backoff], kept so that
// drivers not yet moved to the shared lifecycle still build. New code uses
// sources.Backoff and sources.Retry.
package backoff

import "github.com/livebind/livebind/sources"

// Defaults for the zero values of [Backoff]'s fields.
const (
	// DefaultBase is the first wait's upper bound when Base is zero.
	DefaultBase = sources.DefaultBackoffBase
	// DefaultMax caps the waits when Max is zero.
	DefaultMax = sources.DefaultBackoffMax
)

// Backoff is [sources.Backoff]: capped exponential backoff with equal
// jitter and no give-up time.
type Backoff = sources.Backoff
