package bindtest_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/livebind/livebind/internal/testenv/bindtest"
)

// TestHarnessPieces: Targets numbers fresh locations under the prefix and
// carries the options; TypedError wants both the type and the sentinel.
func TestHarnessPieces(t *testing.T) {
	next := bindtest.Targets("x", "p/", bindtest.MaxBytes(10))
	a, b := next(t), next(t)
	if a.Scheme != "x" || a.Location != "p/1" || b.Location != "p/2" || a.Params["maxbytes"] != "10" {
		t.Fatalf("targets %+v, %+v", a, b)
	}
	sentinel := errors.New("sentinel")
	is := bindtest.TypedError[*fs.PathError](sentinel)
	switch {
	case !is(&fs.PathError{Op: "read", Err: sentinel}):
		t.Fatal("a typed error wrapping the sentinel refused")
	case is(sentinel):
		t.Fatal("the bare sentinel accepted")
	case is(&fs.PathError{Op: "read", Err: errors.New("other")}):
		t.Fatal("a typed error wrapping another error accepted")
	}
}
