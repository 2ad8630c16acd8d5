package postgres

import (
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/pgtest"
	"github.com/livebind/livebind/sources"
)

// TestChannelWantedWhileListening: a channel wanted while the listener
// runs its LISTENs, after it took the list of channels to LISTEN and
// before it waits (no wait to interrupt yet), must be LISTENed too, at
// once, not at the next notification or health ping.
func TestChannelWantedWhileListening(t *testing.T) {
	s := pgtest.Start(t)
	drv, err := open(sources.Config{Logger: slog.New(slog.DiscardHandler), LookupEnv: os.LookupEnv, Value: s.AdminDSN()})
	require.NoError(t, err)
	d := drv.(*driver)
	defer func() { require.NoError(t, d.Close()) }()
	var once sync.Once
	d.hub.afterListen = func() { once.Do(func() { d.hub.want("late") }) }
	d.hub.listen(t.Context(), "first")
	require.Eventually(t, func() bool {
		d.hub.mu.Lock()
		defer d.hub.mu.Unlock()
		return d.hub.listening["late"]
	}, 3*time.Second, 10*time.Millisecond, "channel late is not LISTENed")
}
