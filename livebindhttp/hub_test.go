package livebindhttp

import (
	"testing"

	"github.com/livebind/livebind"
)

type fixedGen uint64

func (g fixedGen) Generation() uint64 { return uint64(g) }

// TestHubSharesOneEncoding: every client queues the same encoded bytes,
// and a client over its byte bound is dropped with a reason while the
// others keep theirs.
func TestHubSharesOneEncoding(t *testing.T) {
	t.Parallel()
	var deliver func(livebind.Update)
	var done func()
	stopped := false
	h := &hub{b: fixedGen(1), max: 3, limit: 300, clients: map[*client]struct{}{},
		subscribe: func(d func(livebind.Update), dn func()) func() {
			deliver, done = d, dn
			return func() { stopped = true; go done() }
		}}
	var cs []*client
	for range 3 {
		c, err := h.join()
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	if _, err := h.join(); err != errTooManyStreams {
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
