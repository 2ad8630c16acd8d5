package livebind

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// TestStatusThroughFailureAndRecovery stops a real HTTP server and starts it
// again on the same address.
func TestStatusThroughFailureAndRecovery(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	serve := func(ln net.Listener, body string) *http.Server {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("ETag", fmt.Sprintf("%q", body))
			_, _ = w.Write([]byte(body))
		}), ReadHeaderTimeout: time.Second}
		go func() { _ = srv.Serve(ln) }()
		return srv
	}
	srv := serve(ln, "1")
	var cfg struct {
		N   int    `live:"http=http://${ADDR}/n; format=text; poll=20ms; required"`
		Key string `live:"env=KEY; secret; default=none"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(newEnv("ADDR", addr).lookup))
	rec := record(t, b)

	st := b.Status()
	require.Len(t, st.Sources, 2)
	src := st.Sources[0]
	assert.Equal(t, "http:http://"+addr+"/n", src.Source)
	assert.True(t, src.Healthy)
	assert.True(t, src.Present)
	assert.Equal(t, `"1"`, src.Version)
	assert.False(t, src.LastSuccess.IsZero())
	assert.Equal(t, []string{"N"}, src.Fields)
	// Both sources poll: once their first poll ran, the next one is known.
	deadline := time.Now().Add(wait)
	for (b.Status().Sources[0].NextPoll.IsZero() || b.Status().Sources[1].NextPoll.IsZero()) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.WithinDuration(t, time.Now(), b.Status().Sources[0].NextPoll, time.Second, "http polls every 20ms")
	assert.WithinDuration(t, time.Now(), b.Status().Sources[1].NextPoll, 2*time.Second, "env polls every 1s")
	assert.Equal(t, FieldStatus{Field: "Key", Source: "env:KEY", Secret: true, State: "absent"}, st.Fields[1])
	require.NoError(t, b.Ready(time.Second))

	require.NoError(t, srv.Close())
	rec.want(t, Error)
	st = b.Status()
	assert.False(t, st.Sources[0].Healthy)
	assert.False(t, st.Sources[0].FailingSince.IsZero())
	assert.Contains(t, st.Sources[0].LastError, "connect")
	assert.Equal(t, 1, b.Get().N, "value kept")
	assert.NoError(t, b.Ready(time.Hour), "not failing long enough to matter")
	time.Sleep(30 * time.Millisecond)
	err = b.Ready(10 * time.Millisecond)
	require.ErrorIs(t, err, ErrNotReady)
	assert.Contains(t, err.Error(), "required field N")

	ln2, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv2 := serve(ln2, "2")
	defer srv2.Close()
	_, _ = rec.until(t, 10*time.Second, func(u Update) bool { return u.Kind == Updated && u.Field == "N" })
	st = b.Status()
	assert.True(t, st.Sources[0].Healthy)
	assert.True(t, st.Sources[0].FailingSince.IsZero())
	assert.Equal(t, `"2"`, st.Sources[0].Version)
	assert.Positive(t, st.Sources[0].Errors)
	assert.Equal(t, uint64(1), st.Fields[0].Updates)
	require.NoError(t, b.Ready(10*time.Millisecond))
	require.NoError(t, b.Close())
	assert.True(t, b.Status().Closed)
	require.ErrorIs(t, b.Ready(time.Hour), ErrClosed)
}

func TestHistoryBoundAndRollback(t *testing.T) {
	t.Parallel()
	env := newEnv("A", "1", "B", "x")
	var cfg struct {
		A int    `live:"env=A; poll=1h"`
		B string `live:"env=B; poll=1h"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup), WithHistory(3))
	rec := record(t, b)
	for i := 2; i <= 5; i++ {
		env.set("A", fmt.Sprint(i))
		require.NoError(t, b.Reload(t.Context()))
	}
	h := b.History()
	require.Len(t, h, 3, "bounded")
	assert.Equal(t, []uint64{3, 4, 5}, []uint64{h[0].Gen, h[1].Gen, h[2].Gen})
	assert.Equal(t, []string{"A"}, h[2].Changed)
	assert.Equal(t, 5, h[2].Value.A)
	require.ErrorIs(t, b.Rollback(t.Context(), 1), ErrNoGeneration, "dropped from the ring")

	for range 4 {
		rec.next(t, wait)
	}
	require.NoError(t, b.Rollback(t.Context(), 3))
	u := rec.want(t, Updated)
	assert.Equal(t, "rollback to gen 3", u.Source)
	assert.Equal(t, 5, u.Old)
	assert.Equal(t, 3, u.New)
	assert.Equal(t, uint64(6), u.Gen)
	assert.Equal(t, 3, b.Get().A)
	assert.Equal(t, uint64(3), b.History()[2].RollbackOf)

	// Same source data: the rollback stays, even through Reload.
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, 3, b.Get().A)
	// Another field's change does not undo it either.
	env.set("B", "y")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, 3, b.Get().A)
	assert.Equal(t, "y", b.Get().B)
	// The next real change of A's source replaces it.
	env.set("A", "9")
	require.NoError(t, b.Reload(t.Context()))
	assert.Equal(t, 9, b.Get().A)
	assert.Nil(t, (&Binding[struct{}]{}).hist.entries)
}

func TestReloadOnSignal(t *testing.T) {
	// Not parallel: the signal goes to the whole process.
	env := newEnv("S", "1")
	var cfg struct {
		S int `live:"env=S; poll=1h"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	// The recipe of docs/operations.md that replaced WithReloadOnSignal.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	defer signal.Stop(sig)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				_ = b.Reload(ctx)
			}
		}
	}()
	rec := record(t, b)
	env.set("S", "2")
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGHUP))
	u := rec.next(t, wait)
	assert.Equal(t, 2, u.New)
	deadline := time.Now().Add(wait)
	for b.Status().Reloads < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, uint64(1), b.Status().Reloads, "exactly one reload per signal")
	rec.quiet(t, 20*time.Millisecond)
	assert.False(t, strings.Contains(fmt.Sprint(b.Status()), "secret"))
}

type readyCond struct {
	Mode string `live:"env=MODE; poll=5ms"`
	Port int    `live:"env=PORT; poll=5ms; required; when=Mode == \"on\""`
}

// Regression (second review, fixed in 2e9fdf7): a required field that was
// failing when its condition turned off kept Ready failing for ever, though
// nothing watched it any more.
func TestReadyIgnoresFieldTurnedOff(t *testing.T) {
	env := newEnv("MODE", "on", "PORT", "80")
	var cfg readyCond
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	rec := record(t, b)
	env.set("PORT", "eighty")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Port" && u.Kind == Error })
	env.set("MODE", "off")
	_, _ = rec.until(t, wait, func(u Update) bool { return u.Field == "Port" && u.Kind == Removed })
	time.Sleep(50 * time.Millisecond)
	for _, s := range b.Status().Sources {
		t.Logf("%s active=%v healthy=%v err=%q", s.Source, s.Active, s.Healthy, s.LastError)
	}
	require.NoError(t, b.Reload(t.Context()))
	assert.NoError(t, b.Ready(10*time.Millisecond), "PORT is not watched any more")
}

type zzDriver struct{}

func (zzDriver) Read(context.Context, *sources.Target) sources.Result {
	return sources.Result{Data: []byte("v")}
}

func (zzDriver) Watch(*sources.Target, sources.Result, func(sources.Result)) (func(), error) {
	return nil, errors.New("watch limit reached")
}

func (zzDriver) Close() error { return nil }

func init() {
	sources.Register(sources.Scheme{Name: "failingwatch", Open: func(sources.Config) (sources.Driver, error) { return zzDriver{}, nil }})
}

// Regression (second review, fixed in 2e9fdf7): a source whose Watch failed
// to start when its condition turned on was reported healthy, and Ready and
// Reload returned nil.
func TestWatchStartFailureKeepsSourceUnhealthy(t *testing.T) {
	env := newEnv("MODE", "off")
	var cfg struct {
		Mode string `live:"env=MODE; poll=5ms"`
		X    string `live:"failingwatch=x; required; when=Mode == \"on\""`
	}
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	rec := record(t, b)
	env.set("MODE", "on")
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Field == "X" })
	t.Logf("update: %v", u)
	time.Sleep(20 * time.Millisecond)
	st := b.Status()
	t.Logf("%+v", st.Sources[1])
	assert.False(t, st.Sources[1].Healthy, "the source is not watched")
	assert.Error(t, b.Ready(0))
	assert.Error(t, b.Reload(t.Context()), "Reload: nil means every source is healthy")
}

// TestStatusShowsLeases: Status shows the expiry and next renewal that a
// LeaseReporter driver gives for each of its targets (a zero renewal for a
// lease that is not renewed), and zero times for targets without a lease
// and for other sources.
func TestStatusShowsLeases(t *testing.T) {
	t.Parallel()
	var cfg struct {
		L fixture.Leased
		C string `live:"env=LEASE_C; default=x"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(newEnv().lookup))
	st := b.Status().Sources
	require.Len(t, st, 4)
	assert.Equal(t, fixture.LeaseExpires, st[0].LeaseExpires)
	assert.Equal(t, fixture.LeaseRenewal, st[0].LeaseRenewal)
	assert.Equal(t, fixture.LeaseExpires, st[1].LeaseExpires)
	assert.True(t, st[1].LeaseRenewal.IsZero(), "a lease that is not renewed")
	for _, s := range st[2:] {
		assert.True(t, s.LeaseExpires.IsZero() && s.LeaseRenewal.IsZero(), "%s has no lease", s.Source)
	}
}
