package consul

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

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
		{"403", api.StatusError{Code: 403, Body: "Permission denied"}, ErrPermissionDenied, 403, true, `consul: key "app/x": permission denied (403): Permission denied`},
		{"500", api.StatusError{Code: 500, Body: "No cluster leader\n"}, ErrStatus, 500, false, `consul: key "app/x": unexpected status 500: No cluster leader`},
		{"429", api.StatusError{Code: 429, Body: "slow down"}, ErrStatus, 429, false, "unexpected status 429"},
		{"400", api.StatusError{Code: 400, Body: "bad"}, ErrStatus, 400, true, "unexpected status 400"},
		{"transport", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), ErrUnreachable, 0, false, `consul: key "app/x": agent unreachable: dial tcp`},
		{"timeout", fmt.Errorf("get: %w", context.DeadlineExceeded), ErrUnreachable, 0, false, "agent unreachable: no answer in time"},
		{"token scrubbed", fmt.Errorf("proxy said token=%s is bad", token), ErrUnreachable, 0, false, "token=<token> is bad"},
		{"token in body", api.StatusError{Code: 403, Body: "token " + token + " denied"}, ErrPermissionDenied, 403, true, "token <token> denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := classify(k, tt.err, token)
			require.ErrorIs(t, e, tt.sentinel)
			require.Equal(t, tt.status, e.StatusCode)
			require.Equal(t, tt.permanent, e.permanent())
			require.Contains(t, e.Error(), tt.want)
			require.NotContains(t, e.Error(), token)
		})
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'x'
	}
	require.Len(t, sources.Clip(string(long), maxBody), maxBody+3)
	require.Equal(t, "short", sources.Clip("short", maxBody))
	e := classify(queryKey{key: "k"}, api.StatusError{Code: 500, Body: string(long)}, "")
	require.Contains(t, e.Error(), string(long[:maxBody])+"...", "a long body is clipped to maxBody")
	require.NotContains(t, e.Error(), string(long[:maxBody+1]))
}
