package livebind

import (
	"context"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
)

// TestSubscribersCannotMutateSnapshots: a subscriber that sorts the slice
// or edits the map it received (Old or New) used to change what Get and
// History return to everyone. Each subscriber now gets its own copies.
func TestSubscribersCannotMutateSnapshots(t *testing.T) {
	t.Parallel()
	env := newEnv("PORT", "1", "TAGS", "c,a,b", "LIMITS", `{"x":1}`)
	b, err := Bind(t.Context(), &hostile{}, WithLookupEnv(env.lookup), WithHistory(8))
	require.NoError(t, err)
	defer b.Close()

	vandal := func(v any) {
		switch v := v.(type) {
		case []string:
			sort.Strings(v)
			if len(v) > 0 {
				v[0] = "vandal"
			}
		case map[string]int:
			v["vandal"] = 666
			delete(v, "x")
			delete(v, "y")
		}
	}
	var wg sync.WaitGroup
	wg.Add(5) // the four subscribers below each see the TAGS and LIMITS changes
	var mu sync.Mutex
	seen := map[string]int{}
	note := func(who string) {
		mu.Lock()
		defer mu.Unlock()
		seen[who]++
		if seen[who] == 2 && who != "stream" {
			wg.Done()
		}
	}
	onChange(b, func(u Update) { vandal(u.Old); vandal(u.New); note("onchange") })
	_, err = b.Subscribe(func(u Update) { vandal(u.Old); vandal(u.New); note("subscribe") }, Fields("Tags", "Limits"))
	require.NoError(t, err)
	_, err = WatchField(b, "Tags", func(c FieldChange[[]string]) { vandal(c.Old); vandal(c.New); note("watch"); note("watch") })
	require.NoError(t, err)
	values, stop, err := stream(b, func(u Update) (Update, bool) { vandal(u.New); return u, true }, Fields("Tags", "Limits"))
	require.NoError(t, err)
	defer stop()
	go func() {
		n := 0
		for u := range values {
			vandal(u.Old)
			if n++; n == 2 {
				wg.Done()
			}
		}
	}()
	updates := updates(b)
	go func() {
		n := 0
		for u := range updates {
			vandal(u.Old)
			vandal(u.New)
			if n++; n == 2 {
				wg.Done()
			}
		}
	}()

	env.set("TAGS", "z,y,x")
	env.set("LIMITS", `{"x":2,"y":3}`)
	require.Eventually(t, func() bool {
		c := b.Get()
		return len(c.Tags) == 3 && c.Tags[0] == "z" && c.Limits["y"] == 3
	}, wait, time.Millisecond)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatalf("subscribers did not all see both changes: %v", seen)
	}

	c := b.Get()
	assert.Equal(t, []string{"z", "y", "x"}, c.Tags)
	assert.Equal(t, map[string]int{"x": 2, "y": 3}, c.Limits)
	h := b.History()
	require.NotEmpty(t, h)
	assert.Equal(t, []string{"c", "a", "b"}, h[0].Value.Tags, "generation 1 as published")
	assert.Equal(t, map[string]int{"x": 1}, h[0].Value.Limits)
	last := h[len(h)-1].Value
	assert.Equal(t, []string{"z", "y", "x"}, last.Tags)
}

// TestHistoryEntriesAreCopies: History used to share each entry's Changed
// slice (and the snapshot's slices) with its ring, so a caller editing what
// it got changed later History calls.
func TestHistoryEntriesAreCopies(t *testing.T) {
	t.Parallel()
	env := newEnv("PORT", "1", "TAGS", "c,a,b")
	b, err := Bind(t.Context(), &hostile{}, WithLookupEnv(env.lookup), WithHistory(8))
	require.NoError(t, err)
	defer b.Close()
	env.set("TAGS", "q,r")
	require.Eventually(t, func() bool { return gen(b) == 2 }, wait, time.Millisecond)

	h := b.History()
	require.Len(t, h, 2)
	require.Equal(t, []string{"Tags"}, h[1].Changed)
	h[1].Changed[0] = "vandal"
	h[1].Value.Tags[0] = "vandal"
	slices.Reverse(h[0].Value.Tags)
	h[1].Gen = 99

	h2 := b.History()
	assert.Equal(t, []string{"Tags"}, h2[1].Changed)
	assert.Equal(t, uint64(2), h2[1].Gen)
	assert.Equal(t, []string{"q", "r"}, h2[1].Value.Tags)
	assert.Equal(t, []string{"c", "a", "b"}, h2[0].Value.Tags)
	assert.Equal(t, []string{"q", "r"}, b.Get().Tags)
	require.NoError(t, b.Rollback(t.Context(), 1))
	assert.Equal(t, []string{"c", "a", "b"}, b.Get().Tags, "the ring kept generation 1 intact")
}

// withClient holds a live HTTP client in an untagged field.
type withClient struct {
	Port   int `live:"env=PORT; poll=1h"`
	Client *http.Client
}

// TestUntaggedClientNotWalked: Bind used to deep copy untagged fields field
// by field, reading a live *http.Client's connection pool while its own
// goroutines wrote it (a data race, then "panic: persistConn was already in
// LRU"). Untagged fields are now copied as they are. Run under -race; in a
// child process because the old behavior can kill it.
func TestUntaggedClientNotWalked(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
		defer srv.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
		defer client.CloseIdleConnections()
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
					if resp, err := client.Do(req); err == nil {
						_ = resp.Body.Close()
					}
				}
			}()
		}
		for range 20 {
			cfg := withClient{Client: client}
			b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("PORT", "1").lookup))
			if err != nil {
				cancel()
				wg.Wait()
				t.Fatal(err)
			}
			assert.Same(t, client, b.Get().Client, "the caller's client, as it is")
			assert.Same(t, client, cfg.Client)
			_ = b.Close()
		}
		cancel()
		wg.Wait()
	})
}

// node builds rings and parent links.
type node struct {
	Name   string
	Next   *node
	Parent *withCycles
}

type withCycles struct {
	Port int            `live:"env=PORT; poll=1h"`
	Ring *node          // untagged: a cycle, with a parent link to *dst
	Any  map[string]any // untagged: a map that contains itself
	// Tree is tagged and its source is absent, so it keeps what *dst held,
	// which the library deep copies: a cycle there must not recurse.
	Tree *node `live:"env=TREE; format=json; poll=1h"`
}

// TestPointerCyclesDoNotOverflow: a pointer cycle in *dst (a ring, a parent
// link, a map holding itself) overflowed the stack in Bind. Untagged cycles
// are not walked; a tagged field's cycle is copied as a cycle. In a child
// process: the old behavior kills it.
func TestPointerCyclesDoNotOverflow(t *testing.T) {
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second, Heap: 256 << 20, Stack: 64 << 20}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		a, bn := &node{Name: "a"}, &node{Name: "b"}
		a.Next, bn.Next = bn, a
		tree := &node{Name: "root"}
		tree.Next = tree
		cfg := &withCycles{Ring: a, Tree: tree, Any: map[string]any{}}
		cfg.Any["self"] = cfg.Any
		a.Parent = cfg
		b, err := Bind(t.Context(), cfg, WithLookupEnv(newEnv("PORT", "1").lookup), WithHistory(2))
		require.NoError(t, err)
		defer b.Close()
		got := b.Get()
		assert.Same(t, a, got.Ring, "untagged: shared, not walked")
		assert.Same(t, cfg, got.Ring.Parent, "the parent link back to *dst")
		require.NotNil(t, got.Tree)
		assert.NotSame(t, tree, got.Tree, "tagged: deep copied")
		assert.Same(t, got.Tree, got.Tree.Next, "the copy keeps the cycle")
		h := b.History()
		require.Len(t, h, 1)
		assert.Same(t, h[0].Value.Tree, h[0].Value.Tree.Next)
	})
}

// TestDeepCopyCycles checks deepCopy on cyclic values directly. In a child
// process with a 64 MiB stack: without the copier's record of what it
// copied, a cycle recurses until the runtime's fatal stack overflow.
func TestDeepCopyCycles(t *testing.T) {
	t.Parallel()
	childtest.Require(t, childtest.Limits{Timeout: 30 * time.Second, Heap: 256 << 20, Stack: 64 << 20}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		s := []any{nil, "x"}
		s[0] = s
		m := map[string]any{}
		m["m"] = m
		type pair struct{ A, B *node }
		shared := &node{Name: "shared"}
		for name, v := range map[string]any{"slice": s, "map": m, "shared": pair{A: shared, B: shared}} {
			t.Run(name, func(t *testing.T) {
				c := ownCopy(v)
				switch c := c.(type) {
				case []any:
					assert.Equal(t, "x", c[1])
					assert.Equal(t, 2, len(c[0].([]any)))
				case map[string]any:
					_, ok := c["m"].(map[string]any)["m"]
					assert.True(t, ok)
				case pair:
					assert.Same(t, c.A, c.B, "shared stays shared")
					assert.NotSame(t, shared, c.A)
				}
			})
		}
	})
}

// TestFailedBindLeavesDstUntouched: a Bind that fails, also one whose
// context is canceled before it starts, must not write *dst (the canceled
// one did).
func TestFailedBindLeavesDstUntouched(t *testing.T) {
	t.Parallel()
	type cfgT struct {
		Port int      `live:"env=PORT; poll=1h"`
		Tags []string `live:"env=TAGS; poll=1h"`
		Need string   `live:"env=NEED; required; poll=1h"`
	}
	for _, tc := range []struct {
		name   string
		env    *testEnv
		cancel bool
	}{
		{name: "canceled", env: newEnv("PORT", "9", "TAGS", "new", "NEED", "x"), cancel: true},
		{name: "required/missing", env: newEnv("PORT", "9", "TAGS", "new")},
		{name: "decode", env: newEnv("PORT", "nine", "TAGS", "new", "NEED", "x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			cfg := cfgT{Port: 7, Tags: []string{"old"}}
			b, err := Bind(ctx, &cfg, WithLookupEnv(tc.env.lookup))
			require.Error(t, err)
			require.Nil(t, b)
			assert.Equal(t, cfgT{Port: 7, Tags: []string{"old"}}, cfg)
		})
	}
}

// BenchmarkOwnCopy measures what a subscriber pays per update value for
// its own copy: nothing for scalars and plain structs, one deep copy for
// slices and maps.
func BenchmarkOwnCopy(b *testing.B) {
	type plain struct {
		Host string
		Port int
	}
	for _, tc := range []struct {
		name string
		v    any
	}{
		{"int", 42},
		{"plain-struct", plain{Host: "h", Port: 1}},
		{"time", time.Now()},
		{"slice-3", []string{"a", "b", "c"}},
		{"map-2", map[string]int{"a": 1, "b": 2}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkAny = ownCopy(tc.v)
			}
		})
	}
}

var sinkAny any

// hostList keeps its hosts in an unexported slice, which deepCopy cannot
// see into; its Clone method says how to copy it.
type hostList struct{ hosts []string }

func (h *hostList) UnmarshalText(b []byte) error {
	h.hosts = strings.Split(string(b), ",")
	return nil
}

// Rename edits the list in place, as a method of an opaque type may.
func (h hostList) Rename(s string) { h.hosts[0] = s }

func (h hostList) First() string { return h.hosts[0] }

func (h hostList) Clone() hostList { return hostList{hosts: slices.Clone(h.hosts)} }

type opaque struct {
	N     int        `live:"env=N; poll=5ms"`
	Big   *big.Int   `live:"env=BIG; poll=5ms"`
	Float *big.Float `live:"env=FLOAT; poll=5ms"`
	Hosts hostList   `live:"env=HOSTS; poll=5ms"`
}

// TestOpaqueValuesAreCopied: values whose references sit in unexported
// fields (a *big.Int's digits, a user type's slice) were copied as they
// are, so a subscriber calling x.SetInt64(7) on its Update.New changed
// Get(), the history and every other holder. math/big values are now
// copied with their own Set/Copy, and a type with a Clone() method of its
// own type through it.
func TestOpaqueValuesAreCopied(t *testing.T) {
	t.Parallel()
	vandal := func(v any) {
		switch v := v.(type) {
		case *big.Int:
			v.SetInt64(7)
		case *big.Float:
			v.SetInt64(7)
		case hostList:
			v.Rename("vandal")
		}
	}
	holders := []struct {
		name string
		// take subscribes or reads one holder's values, and vandalizes them
		// once it has them; done is closed when it has.
		take func(t *testing.T, b *Binding[opaque], dst *opaque, done chan<- struct{})
	}{
		{"dst", func(_ *testing.T, _ *Binding[opaque], dst *opaque, done chan<- struct{}) {
			vandal(dst.Big)
			vandal(dst.Float)
			vandal(dst.Hosts)
			close(done)
		}},
		{"history", func(_ *testing.T, b *Binding[opaque], _ *opaque, done chan<- struct{}) {
			v := b.History()[0].Value
			vandal(v.Big)
			vandal(v.Float)
			vandal(v.Hosts)
			close(done)
		}},
		{"subscribe", func(t *testing.T, b *Binding[opaque], _ *opaque, done chan<- struct{}) {
			t.Helper()
			n := 0
			_, err := b.Subscribe(func(u Update) {
				vandal(u.Old)
				vandal(u.New)
				if n++; n == 3 {
					close(done)
				}
			}, Fields("Big", "Float", "Hosts"))
			require.NoError(t, err)
		}},
		{"watchfield", func(t *testing.T, b *Binding[opaque], _ *opaque, done chan<- struct{}) {
			t.Helper()
			_, err := WatchField(b, "Big", func(c FieldChange[*big.Int]) {
				vandal(c.Old)
				vandal(c.New)
				close(done)
			})
			require.NoError(t, err)
		}},
	}
	for _, h := range holders {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv("N", "1", "BIG", "12345", "FLOAT", "1.5", "HOSTS", "a,b")
			var dst opaque
			b := mustBind(t, &dst, WithLookupEnv(env.lookup), WithHistory(4))
			rec := record(t, b)
			done := make(chan struct{})
			h.take(t, b, &dst, done)
			env.set("BIG", "99999")
			env.set("FLOAT", "2.5")
			env.set("HOSTS", "c,d")
			waitFor(t, done)
			changed := map[string]bool{}
			rec.until(t, wait, func(u Update) bool { changed[u.Field] = true; return len(changed) == 3 })
			c := b.Get()
			assert.Equal(t, "99999", c.Big.String(), "Get")
			assert.Equal(t, "2.5", c.Float.String(), "Get")
			assert.Equal(t, "c", c.Hosts.First(), "Get")
			g1 := b.History()[0].Value
			assert.Equal(t, "12345", g1.Big.String(), "History")
			assert.Equal(t, "1.5", g1.Float.String(), "History")
			assert.Equal(t, "a", g1.Hosts.First(), "History")
		})
	}
}
