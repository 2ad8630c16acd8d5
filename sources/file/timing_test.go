package file

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

func TestMaxWaitDefaults(t *testing.T) {
	for _, tc := range []struct {
		name              string
		debounce, maxWait time.Duration
		wantD, wantM      time.Duration
	}{
		{"defaults", 0, 0, DefaultDebounce, DefaultMaxWait},
		{"long debounce", 500 * time.Millisecond, 0, 500 * time.Millisecond, 5 * time.Second},
		{"explicit", 20 * time.Millisecond, 50 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond},
		{"debounce=0 (negative)", -1, 0, 0, DefaultMaxWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := &sources.Target{Debounce: tc.debounce, MaxWait: tc.maxWait}
			require.Equal(t, tc.wantD, debounceOf(tg))
			require.Equal(t, tc.wantM, maxWaitOf(tg))
			require.Positive(t, retryGapOf(tg), "a write in progress is re-read after a pause even without debounce")
		})
	}
}

// A steady drip of writes cannot postpone the read past maxwait.
func TestWatchSteadyDrip(t *testing.T) {
	path := appFile(t, v1)
	tg := target(path)
	tg.Debounce, tg.MaxWait = 100*time.Millisecond, 300*time.Millisecond
	w, _ := startWatch(t, openDriver(t), tg)

	reported := 0
	var last, seen string
	end := time.Now().Add(1500 * time.Millisecond)
	for i := 0; time.Now().Before(end); i++ {
		last = fmt.Sprintf("n = \"%d\"\n", i)
		writeFile(t, path, last)
		time.Sleep(20 * time.Millisecond)
		for w.Len() > 0 {
			r := w.Next(t)
			require.NoError(t, r.Err)
			require.NotEmpty(t, r.Data)
			reported++
			seen = string(r.Data)
		}
	}
	require.Positive(t, reported, "nothing was read while the writes went on")
	// The final content is reported after the drip ends (or was, just
	// before it ended).
	for seen != last {
		r := w.Next(t)
		require.NoError(t, r.Err)
		seen = string(r.Data)
	}
}

// Stopping a watch or closing the driver while a debounce timer is pending
// returns at once; goleak (TestMain) checks that nothing is left behind.
func TestStopWhileDebouncing(t *testing.T) {
	for _, closeDriver := range []bool{false, true} {
		t.Run(fmt.Sprintf("close=%v", closeDriver), func(t *testing.T) {
			path := appFile(t, v1)
			d := openDriver(t)
			tg := target(path)
			tg.Debounce = time.Hour
			// Start from another value: the first check reports v1, so the
			// write below is not picked up by that check.
			w := watchFrom(t, d, tg, sources.Result{Data: []byte(v2)})
			w.wantData(t, v1)
			writeFile(t, path, v2)
			// Let the notification arrive, so the hour-long debounce timer is armed.
			time.Sleep(200 * time.Millisecond)

			start := time.Now()
			if closeDriver {
				require.NoError(t, d.Close())
				require.NoError(t, d.Close())
			} else {
				w.Stop()
			}
			require.Less(t, time.Since(start), time.Second)
			require.Zero(t, w.Len())
			w.Stop()
		})
	}
}
