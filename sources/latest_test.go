package sources

import "testing"

// A key never Set reads as Missing; a Set key reads as its last Result,
// and keys do not share values.
func TestLatest(t *testing.T) {
	var l Latest[string]
	if r := l.Get("a"); !r.Missing || r.Data != nil || r.Err != nil {
		t.Fatalf("Get of an unset key = %+v, want Missing", r)
	}
	l.Set("a", Result{Data: []byte("1")})
	l.Set("a", Result{Data: []byte("2")})
	if r := l.Get("a"); r.Missing || string(r.Data) != "2" {
		t.Fatalf("Get(a) = %+v, want the last Data 2", r)
	}
	if r := l.Get("b"); !r.Missing {
		t.Fatalf("Get(b) = %+v, want Missing: keys must not share values", r)
	}
}
