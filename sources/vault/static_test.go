package vault

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStaticRotation: a static role's answer loses its ticking "ttl", is
// versioned by its last rotation and says when the next one is due; other
// answers are left alone.
func TestStaticRotation(t *testing.T) {
	sent := time.Unix(1000, 0)
	obs, err := newObservation(json.RawMessage(`{"last_vault_rotation":"2026-12-01T13:38:47Z","password":"pw","rotation_period":5,"ttl":4,"username":"u"}`), "")
	require.NoError(t, err)
	got, at, ok := staticRotation(obs, sent)
	require.True(t, ok)
	require.Equal(t, sent.Add(4*time.Second), at)
	require.Equal(t, "2026-12-01T13:38:47Z", got.version)
	require.JSONEq(t, `{"last_vault_rotation":"2026-12-01T13:38:47Z","password":"pw","rotation_period":5,"username":"u"}`, string(got.raw))
	again, err := newObservation(json.RawMessage(`{"ttl":3,"username":"u","password":"pw","rotation_period":5,"last_vault_rotation":"2026-12-01T13:38:47Z"}`), "")
	require.NoError(t, err)
	got2, _, _ := staticRotation(again, sent)
	require.Equal(t, got.raw, got2.raw, "a later read of the same rotation gives the same bytes")

	for _, raw := range []string{
		`{"username":"u","password":"p"}`,                       // dynamic or KV: no ttl
		`{"ttl":"4","last_vault_rotation":"x"}`,                 // ttl not a number
		`{"ttl":-1,"last_vault_rotation":"x"}`,                  // negative
		`{"ttl":4,"last_vault_rotation":5}`,                     // rotation not a string
		`{"ttl":9223372036854775807,"last_vault_rotation":"x"}`, // overflows a Duration
		`{"ttl":4.5,"last_vault_rotation":"x","password":"p"}`,  // not whole seconds
	} {
		o, err := newObservation(json.RawMessage(raw), "v")
		require.NoError(t, err)
		same, at, ok := staticRotation(o, sent)
		require.False(t, ok, raw)
		require.Same(t, o, same, raw)
		require.True(t, at.IsZero(), raw)
	}
	require.Equal(t, time.Minute, staticDelay(time.Minute, time.Time{}, time.Time{}), "not static: the poll")
	require.Equal(t, staticRetry, staticDelay(time.Minute, time.Now().Add(-time.Second), time.Now().Add(-time.Second)), "overdue: retried, never hot")
	overdue := staticDelay(time.Minute, time.Now(), time.Now().Add(-20*time.Second))
	require.InDelta(t, float64(5*time.Second), float64(overdue), float64(100*time.Millisecond), "overdue for 20s: a quarter of that")
	require.Equal(t, time.Minute, staticDelay(time.Minute, time.Now(), time.Now().Add(-time.Hour)), "overdue for long: at most the poll")
	d := staticDelay(time.Minute, time.Now().Add(3*time.Second), time.Time{})
	require.InDelta(t, float64(3*time.Second+staticMargin), float64(d), float64(50*time.Millisecond))
	require.Equal(t, time.Second, staticDelay(time.Second, time.Now().Add(time.Hour), time.Time{}), "a poll sooner than the rotation")
}

// FuzzStaticRotation: any data object is either a static role's answer or
// left alone; never a crash, and the ttl never survives.
func FuzzStaticRotation(f *testing.F) {
	f.Add(`{"last_vault_rotation":"2026","password":"pw","rotation_period":5,"ttl":4,"username":"u"}`)
	f.Add(`{"ttl":1e99,"last_vault_rotation":""}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, raw string) {
		o, err := newObservation(json.RawMessage(raw), "v")
		if err != nil {
			return
		}
		got, _, ok := staticRotation(o, time.Now())
		if !ok {
			return
		}
		if _, has := got.fields["ttl"]; has {
			t.Fatal("ttl kept")
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(got.raw, &m))
	})
}
