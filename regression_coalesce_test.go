package livebind

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegressionCoalesceReordersPastError(t *testing.T) {
	env := newEnv("A", "0")
	var cfg struct {
		A int `live:"env=A; poll=1h"`
	}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	defer b.Close()
	release := make(chan struct{})
	got := make(chan Update, 100)
	first := true
	unsub, err := b.Subscribe(func(u Update) {
		if first {
			first = false
			<-release
		}
		got <- u
	}, Coalesce())
	require.NoError(t, err)
	defer unsub()
	env.set("A", "1")
	_ = b.Reload(t.Context()) // gen2: taken into delivery, blocks
	time.Sleep(20 * time.Millisecond)
	env.set("A", "2")
	_ = b.Reload(t.Context()) // gen3: A 1->2 queued
	env.set("A", "x")
	_ = b.Reload(t.Context()) // Error (gen3)
	env.set("A", "3")
	_ = b.Reload(t.Context()) // gen4: A 2->3, merged into the gen3 entry
	close(release)
	var seq []string
	deadline := time.After(2 * time.Second)
	for len(seq) < 4 {
		select {
		case u := <-got:
			seq = append(seq, u.String())
		case <-deadline:
			t.Fatalf("got %v", seq)
		}
	}
	for _, s := range seq {
		t.Log(s)
	}
	assert.NotContains(t, seq[len(seq)-1], "error", "the last thing the subscriber hears about A must be the newest value, not an older error")
}
