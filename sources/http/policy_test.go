package http

import (
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// TestPollDelays checks the wait after each kind of answer by calling poll
// directly, without the goroutine and its timer.
func TestPollDelays(t *testing.T) {
	t.Parallel()
	type span struct{ lo, hi time.Duration } // [lo, hi]
	ms := time.Millisecond
	tests := []struct {
		name   string
		poll   time.Duration
		status int
		kv     []string
		want   []span // successive polls
	}{
		{"200", 10 * ms, 0, nil, []span{{9 * ms, 11 * ms}, {9 * ms, 11 * ms}}},
		{"304 max-age stretches poll, capped", 10 * ms, 0, []string{"Cache-Control", "max-age=60"}, []span{{90 * ms, 110 * ms}, {90 * ms, 110 * ms}}},
		{"max-age less age", 10 * time.Second, 0, []string{"Cache-Control", "max-age=60", "Age", "40"}, []span{{18 * time.Second, 22 * time.Second}}},
		{"404", 10 * ms, nethttp.StatusNotFound, nil, []span{{9 * ms, 11 * ms}}},
		{"500 backs off from poll", 10 * ms, 500, nil, []span{{5 * ms, 10 * ms}, {10 * ms, 20 * ms}, {20 * ms, 40 * ms}}},
		{"500 backs off from 1s", time.Minute, 500, nil, []span{{500 * ms, time.Second}, {time.Second, 2 * time.Second}}},
		{"503 retry-after", 10 * ms, 503, []string{"Retry-After", "2"}, []span{{2 * time.Second, 2 * time.Second}}},
		{"429 retry-after capped", 10 * ms, 429, []string{"Retry-After", "100000"}, []span{{MaxBackoff, MaxBackoff}}},
		{"429 retry-after capped at a longer poll", time.Hour, 429, []string{"Retry-After", "100000"}, []span{{time.Hour, time.Hour}}},
		{"500 ignores retry-after", 10 * ms, 500, []string{"Retry-After", "100"}, []span{{5 * ms, 10 * ms}}},
		{"403 no sooner than 1s/2", 10 * ms, 403, nil, []span{{500 * ms, time.Second}, {time.Second, 2 * time.Second}}},
		{"403 no sooner than poll", 30 * time.Second, 403, nil, []span{{27 * time.Second, 33 * time.Second}, {30 * time.Second, 60 * time.Second}}},
		{"501 is permanent", 10 * ms, 501, nil, []span{{500 * ms, time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := newResource(t, "x", withETag)
			d := openDriver(t, nil)
			tg := target(res.url(), tt.poll)
			var got []sources.Result
			w := newTestPoller(d, mustSpec(t, tg), d.Read(t.Context(), tg), func(r sources.Result) { got = append(got, r) })
			t.Cleanup(w.dropRequest)
			res.fail(tt.status, tt.kv...)
			for i, want := range tt.want {
				next := w.poll()
				require.True(t, next >= want.lo && next <= want.hi, "poll %d: next = %v, want in [%v, %v]", i, next, want.lo, want.hi)
			}
			switch tt.status {
			case 0:
				require.Empty(t, got, "304s report nothing")
			case nethttp.StatusNotFound:
				require.Equal(t, []sources.Result{{Missing: true}}, got)
			default:
				require.Len(t, got, 1, "one error, reported once")
				require.ErrorContains(t, got[0].Err, fmt.Sprint(tt.status))
			}
		})
	}
}

func mustSpec(tb testing.TB, tg *sources.Target) *spec {
	tb.Helper()
	s, err := parseSpec(tg)
	require.NoError(tb, err)
	return s
}

// A transport error is transient: backoff from min(poll, 1s), and success
// resets it.
func TestPollTransportErrorBackoff(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nethttp.NotFoundHandler())
	url := srv.URL
	srv.Close()
	d := openDriver(t, nil)
	var got []sources.Result
	w := newTestPoller(d, mustSpec(t, target(url, 10*time.Millisecond)), sources.Result{}, func(r sources.Result) { got = append(got, r) })
	t.Cleanup(w.dropRequest)
	for i, hi := range []time.Duration{10, 20, 40, 80} {
		hi *= time.Millisecond
		next := w.poll()
		require.True(t, next >= hi/2 && next < hi, "poll %d: next = %v", i, next)
	}
	require.Len(t, got, 1)
	w.retry.Reset()
	require.Less(t, w.retry.Transient.Next(), 10*time.Millisecond)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	date := now.Format(nethttp.TimeFormat)
	tests := []struct {
		v, date string
		want    time.Duration
		ok      bool
	}{
		{"120", "", 2 * time.Minute, true},
		{" 0 ", "", 0, true},
		{"99999999999999999999999", "", time.Duration(maxSeconds) * time.Second, true},
		{"-1", "", 0, false},
		{"1.5", "", 0, false},
		{"", "", 0, false},
		{"soon", "", 0, false},
		{now.Add(90 * time.Second).Format(nethttp.TimeFormat), "", 90 * time.Second, true},
		{now.Add(-time.Hour).Format(nethttp.TimeFormat), "", 0, true},
		{"Wednesday, 01-May-24 12:00:30 GMT", "", 30 * time.Second, true}, // RFC 850
		{"Wed May  1 12:00:30 2024", "", 30 * time.Second, true},          // asctime
		// Relative to the server's Date: its clock is 1h behind ours.
		{now.Add(-time.Hour + 10*time.Second).Format(nethttp.TimeFormat), now.Add(-time.Hour).Format(nethttp.TimeFormat), 10 * time.Second, true},
		{now.Add(10 * time.Second).Format(nethttp.TimeFormat), "garbage", 10 * time.Second, true},
		{now.Add(10 * time.Second).Format(nethttp.TimeFormat), date, 10 * time.Second, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.v, tt.date, now)
		require.Equal(t, tt.ok, ok, "%q", tt.v)
		require.Equal(t, tt.want, got, "%q", tt.v)
	}
}

func TestFreshness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		h    nethttp.Header
		want time.Duration
	}{
		{nethttp.Header{}, 0},
		{nethttp.Header{"Cache-Control": {"max-age=60"}}, time.Minute},
		{nethttp.Header{"Cache-Control": {`public, MAX-AGE="60"`}}, time.Minute},
		{nethttp.Header{"Cache-Control": {"public", "max-age=60"}}, time.Minute},
		{nethttp.Header{"Cache-Control": {"max-age=60"}, "Age": {"15"}}, 45 * time.Second},
		{nethttp.Header{"Cache-Control": {"max-age=60"}, "Age": {"600"}}, 0},
		{nethttp.Header{"Cache-Control": {"max-age=60, no-cache"}}, 0},
		{nethttp.Header{"Cache-Control": {"no-store", "max-age=60"}}, 0},
		{nethttp.Header{"Cache-Control": {"s-maxage=60"}}, 0},
		{nethttp.Header{"Cache-Control": {"max-age=-5"}}, 0},
		{nethttp.Header{"Cache-Control": {"max-age="}}, 0},
		{nethttp.Header{"Cache-Control": {"max-age=99999999999999999999"}}, time.Duration(maxSeconds) * time.Second},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, freshness(tt.h), "%v", tt.h)
	}
}

func TestValueOf(t *testing.T) {
	t.Parallel()
	lm := "Mon, 02 Jan 2006 15:04:05 GMT"
	tests := []struct {
		version       string
		etag, lastMod []string
	}{
		{`"abc"`, []string{`"abc"`}, nil},
		{`W/"abc"`, []string{`W/"abc"`}, nil},
		{lm, nil, []string{lm}},
		{"0123456789abcdef", nil, nil},
		{"", nil, nil},
	}
	for _, tt := range tests {
		v := valueOf(sources.Result{Data: []byte("x"), Version: tt.version})
		require.Equal(t, tt.etag, v.etag, tt.version)
		require.Equal(t, tt.lastMod, v.lastMod, tt.version)
	}
	require.Nil(t, valueOf(sources.Result{Missing: true, Version: `"x"`}), "a missing result has no validators")
	require.Nil(t, valueOf(sources.Result{Err: sources.ErrHTTPStatus}), "nor has an error")
}

func TestJitter(t *testing.T) {
	t.Parallel()
	for range 1000 {
		d := jitter(100 * time.Millisecond)
		require.GreaterOrEqual(t, d, 90*time.Millisecond)
		require.LessOrEqual(t, d, 110*time.Millisecond)
	}
	require.Zero(t, jitter(0))
}

// TestJoinShorterPollRebasesBackoff: fields that share a poll loop poll
// as often as the most eager asks, failures included. A field with
// poll=100ms that joins a poll=1h field on a URL that answers 403 must
// not wait the hour the first field's backoff was built on.
func TestJoinShorterPollRebasesBackoff(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		n.Add(1)
		w.WriteHeader(nethttp.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	d := openDriver(t, nil)
	slow, fast := target(srv.URL+"/c.json", time.Hour), target(srv.URL+"/c.json", 100*time.Millisecond)
	stopA, err := d.Watch(slow, sources.Result{}, func(sources.Result) {})
	require.NoError(t, err)
	t.Cleanup(stopA)
	eventually(t, func() bool { return n.Load() >= 1 }, "first poll")
	stopB, err := d.Watch(fast, sources.Result{}, func(sources.Result) {})
	require.NoError(t, err)
	t.Cleanup(stopB)
	eventually(t, func() bool { return n.Load() >= 2 }, "poll at join")
	eventually(t, func() bool {
		next := d.NextPoll(fast)
		return !next.IsZero() && time.Until(next) < 10*time.Second
	}, "the poll=100ms field polls again within seconds")
}
