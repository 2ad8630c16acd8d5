package consul

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	const token = "5f4dcc3b-5aa7-4c1e-9b1a-0123456789ab"
	k := queryKey{key: "app/x"}
	tests := []struct {
		name      string
		err       error
		sentinel  error
		status    int
		permanent bool
		want      string
	}{
		{"403", api.StatusError{Code: 403, Body: "Permission denied"}, sources.ErrAuth, 403, true, `consul: key "app/x": authentication or permission refused (403): Permission denied`},
		{"500", api.StatusError{Code: 500, Body: "No cluster leader\n"}, sources.ErrHTTPStatus, 500, false, `consul: key "app/x": unexpected HTTP status 500: No cluster leader`},
		{"429", api.StatusError{Code: 429, Body: "slow down"}, sources.ErrHTTPStatus, 429, false, "unexpected HTTP status 429"},
		{"400", api.StatusError{Code: 400, Body: "bad"}, sources.ErrHTTPStatus, 400, true, "unexpected HTTP status 400"},
		{"transport", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), sources.ErrUnreachable, 0, false, `consul: key "app/x": server unreachable: dial tcp`},
		{"timeout", fmt.Errorf("get: %w", context.DeadlineExceeded), sources.ErrUnreachable, 0, false, "server unreachable: no answer in time"},
		{"token scrubbed", fmt.Errorf("proxy said token=%s is bad", token), sources.ErrUnreachable, 0, false, "token=<token> is bad"},
		{"token in body", api.StatusError{Code: 403, Body: "token " + token + " denied"}, sources.ErrAuth, 403, true, "token <token> denied"},
		{"501", api.StatusError{Code: 501, Body: "no"}, sources.ErrHTTPStatus, 501, true, "unexpected HTTP status 501"},
		// An answer past Config.MaxBytes: the agent did answer, and the
		// same answer would come again at once: the slow backoff.
		{"too large", fmt.Errorf("%w: the answer is larger than 9 bytes", sources.ErrTooLarge), sources.ErrTooLarge, 0, true, `consul: key "app/x": value too large: the answer is larger`},
		// A token echoed beside a context error: both sentinels still match.
		{"canceled, token echoed", fmt.Errorf("token %s: %w", token, context.Canceled), context.Canceled, 0, false, "token <token>: context canceled"},
		// The cut at sources.MaxServerText must not leave half of the token.
		{"token cut through", api.StatusError{Code: 500, Body: fixture.CutThrough(token)}, sources.ErrHTTPStatus, 500, false, "unexpected HTTP status 500: xxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := classify(k, tt.err, token)
			require.ErrorIs(t, e, tt.sentinel)
			require.Equal(t, tt.status, e.StatusCode)
			require.Equal(t, tt.permanent, e.permanent())
			require.Contains(t, e.Error(), tt.want)
			require.False(t, fixture.LeaksSecret(e.Error(), token), "the token or part of it leaks: %s", e)
			if errors.Is(tt.err, context.Canceled) {
				require.NotErrorIs(t, e, sources.ErrUnreachable, "a cancellation is the caller's")
			}
		})
	}
}

// TestClip: a long body is cut to sources.MaxServerText bytes.
func TestClip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 1000)
	e := classify(queryKey{key: "k"}, api.StatusError{Code: 500, Body: long}, "")
	require.Contains(t, e.Error(), long[:sources.MaxServerText]+"...")
	require.NotContains(t, e.Error(), long[:sources.MaxServerText+1])
}

// TestErrorZero: an *Error built by hand without a cause (in a caller's
// test, say) prints and unwraps instead of panicking.
func TestErrorZero(t *testing.T) {
	t.Parallel()
	e := &Error{Key: "app/x"}
	require.NotPanics(t, func() { _ = e.Error() })
	require.Equal(t, `consul: key "app/x": failed`, e.Error())
	require.NoError(t, e.Unwrap())
}
