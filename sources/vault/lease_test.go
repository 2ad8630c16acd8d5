package vault

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// TestLeasePlan walks a renewable lease (TTL 60s, max TTL 200s) through
// its renewals to its rotation, with the jitter at both ends of its range.
func TestLeasePlan(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.999999} {
		t.Run(fmt.Sprint(r), func(t *testing.T) {
			t.Parallel()
			rnd := func() float64 { return r }
			const ttl = 60 * time.Second
			t0 := time.Unix(1_000_000, 0)
			maxEnd := t0.Add(200 * time.Second)
			l := newLease("id", &observation{}, ttl, true, t0, rnd)
			require.True(t, l.fresh(t0))
			lead := l.lead
			require.GreaterOrEqual(t, lead, time.Duration(leadMin*float64(ttl)))
			require.Less(t, lead, time.Duration(leadMax*float64(ttl)))

			now := t0
			renewals := 0
			for {
				at, renew := l.plan()
				require.True(t, at.After(now) || at.Equal(now), "plans go forward")
				if !renew {
					// Rotation: the new credentials are read at least 15% of
					// the lease before the old ones expire.
					require.Equal(t, l.expiry.Add(-lead), at)
					require.GreaterOrEqual(t, l.expiry.Sub(at), 15*ttl/100)
					break
				}
				// Renewals come at 60-70% of the remaining TTL.
				elapsed := float64(at.Sub(now)) / float64(l.expiry.Sub(now))
				require.InDelta(t, 0.65, elapsed, 0.0501)
				now = at
				granted := min(ttl, maxEnd.Sub(now)).Truncate(time.Second) // Vault truncates to seconds
				l.renewed(now, granted, rnd)
				renewals++
				require.Less(t, renewals, 10)
			}
			require.GreaterOrEqual(t, renewals, 3)
			require.True(t, l.capped)
			require.False(t, l.expiry.After(maxEnd), "never past Vault's max TTL")
		})
	}
}

func TestLeaseNotRenewable(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_000_000, 0)
	l := newLease("id", &observation{}, 60*time.Second, false, t0, rand.Float64)
	at, renew := l.plan()
	require.False(t, renew)
	lead := l.expiry.Sub(at)
	require.GreaterOrEqual(t, lead, 9*time.Second)
	require.Less(t, lead, 12*time.Second)
	require.True(t, l.fresh(at.Add(-time.Nanosecond)))
	require.False(t, l.fresh(at))

	l = newLease("id", &observation{}, 10*time.Second, true, t0, rand.Float64)
	l.noRenew = true
	_, renew = l.plan()
	require.False(t, renew, "a denied renewal leaves only rotation")
}

func TestClassifyAndScrub(t *testing.T) {
	t.Parallel()
	const token = "hvs.CAESIJ0000secrettoken"
	tests := []struct {
		name      string
		err       error
		sentinel  error
		status    int
		transient bool
		want      string
	}{
		{"403", &api.ResponseError{StatusCode: 403, Errors: []string{"permission denied"}}, sources.ErrAuth, 403, false, "authentication or permission refused (403): permission denied"},
		{"sealed", &api.ResponseError{StatusCode: 503, Errors: []string{"Vault is sealed"}}, ErrSealed, 503, true, "vault is sealed (503)"},
		{"503 standby", &api.ResponseError{StatusCode: 503, Errors: []string{"standby"}}, sources.ErrHTTPStatus, 503, true, "unexpected HTTP status 503: standby"},
		{"500", &api.ResponseError{StatusCode: 500, Errors: []string{"internal", "more"}}, sources.ErrHTTPStatus, 500, true, "unexpected HTTP status 500: internal; more"},
		{"501", &api.ResponseError{StatusCode: 501}, sources.ErrHTTPStatus, 501, false, "unexpected HTTP status 501"},
		{"429", &api.ResponseError{StatusCode: 429}, sources.ErrHTTPStatus, 429, true, "unexpected HTTP status 429"},
		{"400", &api.ResponseError{StatusCode: 400, Errors: []string{"lease not found"}}, sources.ErrHTTPStatus, 400, false, "400: lease not found"},
		{"raw body", &api.ResponseError{StatusCode: 502, RawError: true, Errors: []string{"<html>" + token + "</html>"}}, sources.ErrHTTPStatus, 502, true, "non-JSON body of 38 bytes"},
		{"transport", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), sources.ErrUnreachable, 0, true, "server unreachable: dial tcp"},
		{"timeout", fmt.Errorf("get: %w", context.DeadlineExceeded), sources.ErrUnreachable, 0, true, "no answer in time"},
		{"token echoed", fmt.Errorf("proxy said X-Vault-Token=%s", token), sources.ErrUnreachable, 0, true, "X-Vault-Token=<token>"},
		{"token in messages", &api.ResponseError{StatusCode: 400, Errors: []string{"bad token " + token}}, sources.ErrHTTPStatus, 400, false, "bad token <token>"},
		{"canceled, token echoed", fmt.Errorf("token %s: %w", token, context.Canceled), context.Canceled, 0, true, "token <token>: context canceled"},
		{"token cut through", &api.ResponseError{StatusCode: 500, Errors: []string{fixture.CutThrough(token)}}, sources.ErrHTTPStatus, 500, true, "unexpected HTTP status 500: xxx"},
		{"412", &api.ResponseError{StatusCode: 412}, sources.ErrHTTPStatus, 412, true, "unexpected HTTP status 412"},
		{"301", &api.ResponseError{StatusCode: 301}, sources.ErrHTTPStatus, 301, false, "unexpected HTTP status 301"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := classify("read", "secret/data/db", tt.err, token)
			require.ErrorIs(t, e, tt.sentinel)
			require.Equal(t, tt.status, e.StatusCode)
			require.Equal(t, tt.transient, !e.permanent())
			require.Contains(t, e.Error(), tt.want)
			require.Contains(t, e.Error(), `vault: read "secret/data/db": `)
			require.False(t, fixture.LeaksSecret(e.Error(), token), "the token or part of it leaks: %s", e)
			if errors.Is(tt.err, context.Canceled) {
				require.NotErrorIs(t, e, sources.ErrUnreachable, "a cancellation is the caller's")
			}
		})
	}
	malformed := &Error{Op: "read", Path: "p", StatusCode: 200, Err: fmt.Errorf("%w: x", ErrMalformed)}
	require.True(t, malformed.permanent())
	large := &Error{Op: "read", Path: "p", Err: fmt.Errorf("%w: x", sources.ErrTooLarge)}
	require.True(t, large.permanent())
	long := &api.ResponseError{StatusCode: 500, Errors: []string{strings.Repeat("x", 1000)}}
	require.Contains(t, classify("read", "p", long, "").Error(), sources.ServerText(long.Errors[0]), "Vault's messages are cut to sources.MaxServerText")
}

func TestSame(t *testing.T) {
	t.Parallel()
	data := func(s, v string) sources.Result {
		return sources.Result{Data: []byte(s), Format: formatText, Version: v}
	}
	require.True(t, sources.Same(data("a", "1"), data("a", "2")), "a new version alone is no change")
	require.False(t, sources.Same(data("a", "1"), data("b", "1")))
	require.True(t, sources.Same(sources.Result{Missing: true, Version: "3"}, sources.Result{Missing: true, Version: "9"}))
	require.False(t, sources.Same(data("", "1"), sources.Result{Missing: true}), "empty is not missing")
	e := sources.Result{Err: &Error{Op: "read", Path: "p", Err: ErrSealed}}
	require.True(t, sources.Same(e, sources.Result{Err: &Error{Op: "read", Path: "p", Err: ErrSealed}}))
	require.False(t, sources.Same(e, data("a", "1")))
	require.False(t, sources.Same(data("1", ""), sources.Result{Data: []byte("1"), Format: formatJSON}), "text 1 is not JSON 1")
}

// TestLeaseLeadFloor: once renewals cannot extend a lease, new credentials
// are read at least 2 s (at most half the lease) before it ends, whatever
// 15-20% of it is; a renewable lease that renewals still extend is renewed
// at 60-70% as before, the floor notwithstanding.
func TestLeaseLeadFloor(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_000_000, 0)
	for _, r := range []float64{0, 0.999999} {
		rnd := func() float64 { return r }
		for _, tc := range []struct {
			ttl, lead time.Duration
		}{
			{10 * time.Second, 2 * time.Second},                             // 15-20% is 1.5-2 s
			{5 * time.Second, 2 * time.Second},                              // 0.75-1 s
			{2 * time.Second, time.Second},                                  // half the lease
			{60 * time.Second, frac(60*time.Second, leadMin, leadMax, rnd)}, // 9-12 s: the fraction
		} {
			l := newLease("id", &observation{}, tc.ttl, false, t0, rnd)
			at, renew := l.plan()
			require.False(t, renew)
			require.Equal(t, tc.lead, l.expiry.Sub(at), "not renewable, TTL %s, jitter %v", tc.ttl, r)
		}

		l := newLease("id", &observation{}, 5*time.Second, true, t0, rnd)
		at, renew := l.plan()
		require.True(t, renew, "a short renewable lease is renewed")
		require.InDelta(t, 0.65, at.Sub(t0).Seconds()/5, 0.0501)
		l.renewed(at, 3*time.Second, rnd) // capped: 3 s left
		rot, renew := l.plan()
		require.False(t, renew)
		require.Equal(t, 2*time.Second, l.expiry.Sub(rot), "capped: the floor applies")
	}
}
