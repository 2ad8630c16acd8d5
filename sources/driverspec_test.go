package sources_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/sources"
)

// TestProblems checks the spec parser helpers: a walk in name order, every
// problem kept (joined, in order), and values stored only when they parse.
func TestProblems(t *testing.T) {
	t.Parallel()
	tg := &sources.Target{Timeout: 0, Params: map[string]string{
		"zeta": "1", "prefix": "yes please", "maxbytes": "-3", "stale": "true", "alpha": "x", "wait": "soon", "n": "12",
	}}
	var names []string
	var p sources.Problems
	prefix, stale := false, false
	maxBytes, n := 7, 0
	for name, val := range tg.SortedParams() {
		names = append(names, name)
		switch name {
		case "prefix":
			p.Flag(name, val, &prefix)
		case "stale":
			p.Flag(name, val, &stale)
		case "maxbytes":
			p.MaxBytes(val, &maxBytes)
		case "wait":
			_, ok := p.Duration(name, val, "30s or 5m")
			assert.False(t, ok)
		case "n":
			sources.ParseOption(&p, val, strconv.Atoi, &n)
		default:
			p.Unknown(name)
		}
	}
	assert.Equal(t, []string{"alpha", "maxbytes", "n", "prefix", "stale", "wait", "zeta"}, names)
	assert.False(t, prefix, "a flag that does not parse leaves the value")
	assert.True(t, stale)
	assert.Equal(t, 7, maxBytes, "a bad maxbytes= leaves the default")
	assert.Equal(t, 12, n)
	err := p.Err()
	require.Error(t, err)
	assert.Equal(t, "unknown option alpha=\n"+
		`option maxbytes: want a positive whole number of bytes below 2 GiB, got "-3"`+"\n"+
		`prefix is a flag: write prefix alone, not prefix="yes please"`+"\n"+
		`wait="soon" is not a duration such as 30s or 5m`+"\n"+
		"unknown option zeta=", err.Error())

	var none sources.Problems
	none.Add(nil)
	assert.NoError(t, none.Err(), "no problems, no error")

	sentinel := errors.New("sentinel")
	none.Add(sentinel)
	assert.ErrorIs(t, none.Err(), sentinel, "an added error stays matchable")

	var early []string
	for name := range tg.SortedParams() {
		early = append(early, name)
		if name == "maxbytes" {
			break
		}
	}
	assert.Equal(t, []string{"alpha", "maxbytes"}, early, "the walk stops when the loop does")
}
