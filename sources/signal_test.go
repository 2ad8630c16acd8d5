package sources_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/livebind/livebind/sources"
)

// TestSignal checks that Notify never blocks and that wake-ups coalesce:
// many Notify calls leave exactly one wake-up pending.
func TestSignal(t *testing.T) {
	t.Parallel()
	s := sources.NewSignal()
	pending := func() bool {
		select {
		case <-s:
			return true
		default:
			return false
		}
	}
	assert.False(t, pending(), "a new Signal has nothing pending")
	for range 3 {
		s.Notify() // would block on the second call if it did not coalesce
	}
	assert.True(t, pending(), "a Notify leaves a wake-up")
	assert.False(t, pending(), "three Notify calls coalesce into one wake-up")
}
