package livebindhttp

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/livebind/livebind"
)

// updateJSON is the shape of an update event's data, encoded the plain
// way, as reference for updateFrame.
type updateJSON struct {
	Kind   string          `json:"kind"`
	Field  string          `json:"field"`
	Source string          `json:"source,omitempty"`
	Old    json.RawMessage `json:"old"`
	New    json.RawMessage `json:"new"`
	Gen    uint64          `json:"gen"`
	Time   time.Time       `json:"time,omitzero"`
	Error  string          `json:"error,omitempty"`
	Secret bool            `json:"secret,omitempty"`
}

func referenceFrame(u livebind.Update) string {
	out := updateJSON{Kind: string(u.Kind), Field: u.Field, Source: u.Source, Gen: u.Gen, Time: u.Time, Secret: u.Secret}
	if u.Secret {
		out.Old, out.New = redactedJSON, redactedJSON
	} else {
		out.Old, out.New = encodeValue(u.Old, true), encodeValue(u.New, true)
	}
	if u.Err != nil {
		out.Error = u.Err.Error()
	}
	return string(encodeEvent("update", out))
}

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

// TestUpdateFrameMatchesJSON: the hand-assembled frame is exactly what
// encoding/json makes of the update, escapes and fallbacks included.
func TestUpdateFrameMatchesJSON(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, u := range []livebind.Update{
		{Kind: livebind.Updated, Field: "A", Source: "env:A", Old: 1, New: 2, Gen: 3, Time: now},
		{Kind: livebind.Added, Field: "B", New: map[string]any{"x": "</script><b>&"}, Gen: 4},
		{Kind: livebind.Error, Field: "C", Source: "http:https://h/x?a=xxxxx", Gen: 5, Err: errors.New("bad \"<tag>\" \u2028 </script>")},
		{Kind: livebind.Updated, Field: "D", Old: "[redacted]", New: "[redacted]", Secret: true, Gen: 6},
		{Kind: livebind.Updated, Field: "E", Old: math.NaN(), New: panicky{}, Gen: 7},
		{Kind: livebind.Error, Gen: 8, Err: errors.New("dropped")},
		{Kind: livebind.Updated, Field: "F", Old: strings.Repeat("\u2028", 3), New: nil, Gen: 9},
	} {
		if got, want := string(updateFrame(u)), referenceFrame(u); got != want {
			t.Errorf("frame\n%s\nwant\n%s", got, want)
		}
	}
}

// TestHubSharesOneEncoding: every client queues the same encoded bytes,
// and a client over its byte bound is dropped with a reason while the
// others keep theirs.
func TestHubSharesOneEncoding(t *testing.T) {
	t.Parallel()
	var deliver func(livebind.Update)
	var done func()
	stopped := false
	h := &hub{
		gen: func() uint64 { return 1 }, max: 3, limit: 300, clients: map[*client]struct{}{},
		subscribe: func(d func(livebind.Update), dn func()) func() {
			deliver, done = d, dn
			return func() { stopped = true; go done() }
		},
	}
	var cs []*client
	for range 3 {
		c, err := h.join()
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	if _, err := h.join(); !errors.Is(err, errTooManyStreams) {
		t.Fatalf("fourth join: %v", err)
	}
	deliver(livebind.Update{Kind: livebind.Updated, Field: "F", Gen: 2, New: "v"})
	f0, _, _ := cs[0].take()
	f1, _, _ := cs[1].take()
	if len(f0) != 1 || len(f1) != 1 || &f0[0].data[0] != &f1[0].data[0] {
		t.Fatalf("frames not shared: %v %v", f0, f1)
	}
	cs[0].written(len(f0[0].data))
	cs[1].written(len(f1[0].data))
	// cs[2] never takes: after a few updates it is over 300 bytes.
	for g := uint64(3); g < 8; g++ {
		deliver(livebind.Update{Kind: livebind.Updated, Field: "F", Gen: g, New: "v"})
		for _, c := range cs[:2] {
			fs, _, _ := c.take()
			for _, f := range fs {
				c.written(len(f.data))
			}
		}
	}
	fs, bye, _ := cs[2].take()
	if bye == "" || len(fs) != 0 || cs[2].bytes != 0 {
		t.Fatalf("stalled client: bye %q, %d frames, %d bytes", bye, len(fs), cs[2].bytes)
	}
	for _, c := range cs[:2] {
		if _, bye, _ := c.take(); bye != "" {
			t.Fatalf("a reading client was dropped: %s", bye)
		}
	}
	for _, c := range cs {
		h.leave(c)
	}
	if !stopped {
		t.Fatal("the last client out did not end the subscription")
	}
}
