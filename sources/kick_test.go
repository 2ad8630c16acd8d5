package sources

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKickWakesASleepingWatch: Kick ends the watch's Sleep at once and
// reports true; a key without a watch reports false.
func TestKickWakesASleepingWatch(t *testing.T) {
	t.Parallel()
	var ws Watches[string, struct{}]
	defer ws.Close()
	woke := make(chan time.Duration, 1)
	asleep := make(chan struct{})
	stop, err := ws.Subscribe("k", Sub[struct{}]{Emit: func(Result) {}}, func(w *Watch[string, struct{}]) {
		close(asleep)
		start := time.Now()
		if w.Sleep(time.Hour) {
			woke <- time.Since(start)
		}
		<-w.Context().Done()
	})
	require.NoError(t, err)
	defer stop()
	<-asleep
	assert.False(t, ws.Kick("other"), "no watch of that key")
	require.True(t, ws.Kick("k"))
	select {
	case d := <-woke:
		assert.Less(t, d, time.Minute)
	case <-time.After(5 * time.Second):
		t.Fatal("Kick did not end the Sleep")
	}
}
