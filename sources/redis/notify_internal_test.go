package redis

import "testing"

// TestCovers: the flags must send keyspace events (K) for string writes
// ($), generic commands (g) and expiries (x); A stands for g$lshzxet.
// mergeFlags adds only what is missing.
func TestCovers(t *testing.T) {
	t.Parallel()
	for flags, want := range map[string]bool{
		"":       false,
		"K":      false,
		"KA":     true,
		"AK":     true,
		"K$gx":   true,
		"g$xK":   true,
		"K$g":    false, // no expiry events: an expiring key would vanish unseen
		"E$gx":   false, // keyevent only
		"KEA":    true,
		"Kg$lxe": true,
	} {
		if got := covers(flags); got != want {
			t.Errorf("covers(%q) = %v, want %v", flags, got, want)
		}
	}
	for cur, want := range map[string]string{"": "K$gx", "Ex": "ExK$g", "KA": "KA$gx", "K$gx": "K$gx"} {
		if got := mergeFlags(cur, requiredEvents); got != want {
			t.Errorf("mergeFlags(%q) = %q, want %q", cur, got, want)
		}
	}
}
