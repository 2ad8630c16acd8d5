package sources_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// TestReportFailure checks the push drivers' helpers: ReportNow reaches the
// subscriber, ReportFailure reports the error, waits the backoff and goes
// on, and once the watch has ended it reports nothing and returns false.
func TestReportFailure(t *testing.T) {
	t.Parallel()
	var ws sources.Watches[string, struct{}]
	results := fixture.NewCollector[sources.Result]()
	boom := errors.New("boom")
	type step struct {
		ok      bool
		elapsed time.Duration
	}
	steps := make(chan step, 2)
	ended := make(chan bool, 1)
	stop, err := ws.Subscribe("k", sources.Sub[struct{}]{Emit: results.Add}, func(w *sources.Watch[string, struct{}]) {
		w.ReportNow(sources.Result{Data: []byte("pushed")})
		retry := sources.NewRetry(20*time.Millisecond, time.Hour, time.Hour)
		start := time.Now()
		ok := w.ReportFailure(&retry, boom, false)
		steps <- step{ok, time.Since(start)}
		<-w.Context().Done()
		ended <- w.ReportFailure(&retry, boom, true)
	})
	require.NoError(t, err)
	assert.Equal(t, "pushed", string(results.Next(t, emitWait).Data))
	assert.ErrorIs(t, results.Next(t, emitWait).Err, boom, "the failure is reported")
	s := <-steps
	assert.True(t, s.ok, "the watch goes on after the wait")
	assert.GreaterOrEqual(t, s.elapsed, 10*time.Millisecond, "the transient backoff (20 ms, jittered) was waited")
	stop()
	assert.False(t, <-ended, "an ended watch does not wait")
	results.Quiet(t, emitQuiet)
	ws.Close()
}

// TestCapTransient checks that only the transient waits get the lower cap.
func TestCapTransient(t *testing.T) {
	t.Parallel()
	r := sources.NewRetry(100*time.Millisecond, 10*time.Second, time.Minute).CapTransient(time.Second)
	assert.Equal(t, time.Second, r.Transient.Max)
	assert.Equal(t, time.Minute, r.Permanent.Max)
	low := sources.NewRetry(100*time.Millisecond, 10*time.Second, 500*time.Millisecond).CapTransient(time.Second)
	assert.Equal(t, 500*time.Millisecond, low.Transient.Max, "a lower configured cap stays")
}
