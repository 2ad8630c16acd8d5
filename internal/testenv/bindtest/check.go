package bindtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// CheckCase is one target of a table test of a scheme's Check.
type CheckCase struct {
	// Loc and Params are the target's location and options.
	Loc    string
	Params map[string]string
	// Poll is the target's poll= interval.
	Poll time.Duration
	// Want is "" when Check must accept the target; otherwise Check must
	// refuse it with an error whose text holds Want.
	Want string
	// Note, when set, says why the target is there (shown on failure).
	Note string
}

// CheckTable runs scheme's Check (it must be registered) on a target of
// each case: a case without Want must pass, any other must fail with an
// error holding Want and, when secret is not "", never holding secret.
func CheckTable(t *testing.T, scheme, secret string, cases []CheckCase) {
	t.Helper()
	s, ok := sources.Lookup(scheme)
	require.True(t, ok, "scheme %q is not registered", scheme)
	for _, tc := range cases {
		err := s.Check(&sources.Target{Scheme: scheme, Location: tc.Loc, Params: tc.Params, Poll: tc.Poll})
		if tc.Want == "" {
			require.NoError(t, err, "%s %v %s", tc.Loc, tc.Params, tc.Note)
			continue
		}
		require.ErrorContains(t, err, tc.Want, "%s %v %s", tc.Loc, tc.Params, tc.Note)
		if secret != "" {
			require.NotContains(t, err.Error(), secret)
		}
	}
}
