package livebind

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWatchFieldChecksTypeAndPath(t *testing.T) {
	t.Parallel()
	b, _, _, _ := bindIssueConfig(t)
	_, err := WatchField(b, "Port", func(FieldChange[string]) {})
	require.ErrorIs(t, err, ErrFieldType)
	assert.Contains(t, err.Error(), "field is int, watcher wants string")
	_, err = WatchField(b, "Prot", func(FieldChange[int]) {})
	require.ErrorIs(t, err, ErrUnknownField)
	unsub, err := WatchField(b, "Port", func(FieldChange[int]) {})
	require.NoError(t, err)
	unsub()
	unsub() // idempotent
}

func TestUpdatesChannelAndCancel(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "0")
	var cfg struct {
		N int `live:"env=N; poll=5ms"`
	}
	ctx, cancel := context.WithCancel(t.Context())
	b, err := Bind(ctx, &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	ch := updates(b)
	env.set("N", "1")
	select {
	case u := <-ch:
		assert.Equal(t, 1, u.New)
	case <-time.After(wait):
		t.Fatal("no update")
	}
	cancel() // same as Close
	deadline := time.After(wait)
	for open := true; open; {
		select {
		case _, open = <-ch:
		case <-deadline:
			t.Fatal("Updates not closed after the Bind context was canceled")
		}
	}
	require.NoError(t, b.Close())
	assert.Equal(t, 1, b.Get().N, "Get still works after Close")
}

func TestSubscribeFiltersFieldsAndKinds(t *testing.T) {
	t.Parallel()
	b, env := bindAB(t)
	_, err := b.Subscribe(func(Update) {}, Fields("C"))
	require.ErrorIs(t, err, ErrUnknownField)

	onlyA := make(chan Update, 10)
	unsubA, err := b.Subscribe(func(u Update) { onlyA <- u }, Fields("A"))
	require.NoError(t, err)
	defer unsubA()
	errorsOnly := make(chan Update, 10)
	unsubE, err := b.Subscribe(func(u Update) { errorsOnly <- u }, Kinds(Error))
	require.NoError(t, err)
	defer unsubE()

	env.set("A", "1")
	env.set("B", "1")
	require.NoError(t, b.Reload(t.Context()))
	env.set("B", "x")
	require.Error(t, b.Reload(t.Context()))
	select {
	case u := <-onlyA:
		assert.Equal(t, "A", u.Field)
	case <-time.After(wait):
		t.Fatal("no update for A")
	}
	select {
	case u := <-errorsOnly:
		assert.Equal(t, "B", u.Field)
		assert.Equal(t, Error, u.Kind)
	case <-time.After(wait):
		t.Fatal("no error update")
	}
	time.Sleep(30 * time.Millisecond)
	assert.Empty(t, onlyA)
	assert.Empty(t, errorsOnly)
}

func TestSlowSubscriberGetsDropNotice(t *testing.T) {
	t.Parallel()
	seen := stalledUpdates(t, 3, 5)
	// The first update was being delivered when the buffer filled; of the
	// nine after it, six were dropped and the newest three kept.
	assert.Equal(t, 1, seen[0].New)
	var de *deliveryError
	require.ErrorAs(t, seen[1].Err, &de)
	assert.Equal(t, 6, de.Dropped)
	assert.ErrorIs(t, seen[1].Err, ErrDropped)
	assert.Equal(t, []any{8, 9, 10}, []any{seen[2].New, seen[3].New, seen[4].New})
}

// Regression (first review, fixed in 5a73683): the drop notice for a slow
// subscriber was delivered after newer generations, out of order.
func TestDropNoticeKeepsGenerationOrder(t *testing.T) {
	t.Parallel()
	var got []uint64
	for _, u := range stalledUpdates(t, 2, 4) {
		got = append(got, u.Gen)
	}
	for i := 1; i < len(got); i++ {
		assert.LessOrEqual(t, got[i-1], got[i], "generations in order: %v", got)
	}
}

// TestStreamCoalescesForSlowConsumer maps updates to ints for a consumer
// that does not read while 50 generations apply: it then gets one notice
// counting what was merged and one value per field, the latest.
func TestStreamCoalescesForSlowConsumer(t *testing.T) {
	t.Parallel()
	b, env := bindAB(t)
	type item struct {
		field string
		value int
		note  *deliveryError
	}
	inDelivery := make(chan struct{}) // closed when the delivery goroutine holds the first update
	var once sync.Once
	ch, stop, err := stream(b, func(u Update) (item, bool) {
		once.Do(func() { close(inDelivery) })
		var de *deliveryError
		if errors.As(u.Err, &de) {
			return item{note: de}, true
		}
		return item{field: u.Field, value: u.New.(int)}, true
	}, Coalesce())
	require.NoError(t, err)
	defer stop()
	first := true
	for i := 1; i <= 50; i++ {
		env.set("A", fmt.Sprint(i))
		env.set("B", fmt.Sprint(i))
		start := time.Now()
		require.NoError(t, b.Reload(t.Context()))
		require.Less(t, time.Since(start), time.Second, "the consumer does not stall the applier")
		if first {
			// The first update is taken by the delivery goroutine and blocks
			// on the unread channel; wait until it is there.
			select {
			case <-inDelivery:
			case <-time.After(wait):
				t.Fatal("the first update never reached the delivery goroutine")
			}
			first = false
		}
	}
	var got []item
	deadline := time.After(wait)
	for len(got) < 4 {
		select {
		case it := <-ch:
			got = append(got, it)
		case <-deadline:
			t.Fatalf("got %+v", got)
		}
	}
	assert.Equal(t, item{field: "A", value: 1}, got[0], "already in delivery")
	require.NotNil(t, got[1].note)
	assert.Equal(t, 0, got[1].note.Dropped)
	assert.Equal(t, 97, got[1].note.Coalesced, "99 updates folded into 2")
	assert.Equal(t, []item{{field: "A", value: 50}, {field: "B", value: 50}}, got[2:], "in generation order")
	stop()
	for range ch { // closed by stop
	}
}

// Regression (second review, fixed in 2e9fdf7): Coalesce merged a newer
// value across an Error in the queue, so the subscriber heard the error last
// although a newer good value was applied.
func TestCoalesceEndsOnNewestValue(t *testing.T) {
	env := newEnv("A", "0")
	var cfg struct {
		A int `live:"env=A; poll=1h"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
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

// Issue 14.3: changes made between Bind returning and the first Subscribe
// were never delivered. From(1) replays every change since Bind, then live
// ones follow: no generation missing, none twice, in order.
func TestSubscribeFromBindMissesNothing(t *testing.T) {
	t.Parallel()
	b, env := bindN(t, "0")
	for i := 1; i <= 5; i++ { // right after Bind, before anybody subscribed
		env.set("N", fmt.Sprint(i))
		require.NoError(t, b.Reload(t.Context()))
	}
	env.set("N", "bad") // an Error update after gen 6 belongs to the replay too
	require.Error(t, b.Reload(t.Context()))
	got := make(chan Update, 100)
	_, err := b.Subscribe(func(u Update) { got <- u }, From(1))
	require.NoError(t, err)
	env.set("N", "7") // and live updates follow the replay
	require.NoError(t, b.Reload(t.Context()))
	for i := 1; i <= 5; i++ {
		u := waitFor(t, got)
		assert.Equal(t, Updated, u.Kind)
		assert.Equal(t, uint64(i+1), u.Gen)
		assert.Equal(t, i, u.New)
	}
	u := waitFor(t, got)
	assert.Equal(t, Error, u.Kind)
	assert.Equal(t, uint64(6), u.Gen)
	assert.ErrorIs(t, u.Err, ErrDecode)
	u = waitFor(t, got)
	assert.Equal(t, uint64(7), u.Gen)
	assert.Equal(t, 7, u.New)
	select {
	case u := <-got:
		t.Fatalf("unexpected %v", u)
	case <-time.After(20 * time.Millisecond):
	}
}

// Snapshot and Subscribe(From(gen)) race with a source that changes all the
// time: whatever generation the snapshot had, the subscriber receives every
// later generation exactly once, in order, each matching the published value.
func TestSnapshotThenFromUnderChurn(t *testing.T) {
	t.Parallel()
	env := newEnv("N", "0")
	var cfg struct {
		N int `live:"env=N; poll=1ms"`
	}
	b := mustBind(t, &cfg, WithLookupEnv(env.lookup))
	ctx, cancel := context.WithCancel(t.Context())
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		for i := 1; ctx.Err() == nil && i < 100000; i++ {
			env.set("N", fmt.Sprint(i))
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for range 20 {
		snap, gen := b.Snapshot()
		got := make(chan Update, 1000)
		stop, err := b.Subscribe(func(u Update) { got <- u }, From(gen))
		require.NoError(t, err)
		want, last := gen+1, snap.N
		for want < gen+4 {
			u := waitFor(t, got)
			require.Equal(t, want, u.Gen, "generations follow the snapshot with no gap")
			require.Equal(t, last, u.Old, "the first update starts from the snapshot's value")
			last = u.New.(int)
			want++
		}
		stop()
	}
	cancel()
	<-writer
}

func TestSubscribeFromRefusesWhatIsNotKept(t *testing.T) {
	t.Parallel()
	b, env := bindN(t, "0")
	_, err := b.Subscribe(func(Update) {}, From(2))
	require.ErrorIs(t, err, ErrNoGeneration, "a generation not made yet")
	for i := 1; i <= DefaultBuffer+1; i++ {
		env.set("N", fmt.Sprint(i))
		require.NoError(t, b.Reload(t.Context()))
	}
	_, err = b.Subscribe(func(Update) {}, From(1))
	require.ErrorIs(t, err, ErrNoGeneration, "gen 2's update is no longer kept")
	got := make(chan Update, DefaultBuffer)
	stop, err := b.Subscribe(func(u Update) { got <- u }, From(2))
	require.NoError(t, err, "every update after gen 2 is kept")
	defer stop()
	assert.Equal(t, uint64(3), waitFor(t, got).Gen)
}

// stalledUpdates binds an env field N and subscribes, with the given
// buffer, a callback that blocks on its first update. It then makes ten
// changes with Reload (each must return at once and show in Get: the stuck
// subscriber holds up nobody), releases the callback and returns the first
// n updates it receives.
func stalledUpdates(t *testing.T, buffer, n int) []Update {
	t.Helper()
	b, env := bindN(t, "0")
	release := make(chan struct{})
	entered := make(chan struct{}, 100)
	out := make(chan Update, 100)
	_, err := b.Subscribe(func(u Update) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		out <- u
	}, Buffer(buffer))
	require.NoError(t, err)
	for i := 1; i <= 10; i++ {
		env.set("N", fmt.Sprint(i))
		start := time.Now()
		require.NoError(t, b.Reload(t.Context()))
		assert.Less(t, time.Since(start), time.Second, "a blocked subscriber must not stall the applier")
		assert.Equal(t, i, b.Get().N, "Get is not delayed by the subscriber")
		if i == 1 { // the delivery goroutine holds the first update before the rest arrive
			waitFor(t, entered)
		}
	}
	close(release)
	var seen []Update
	for len(seen) < n {
		select {
		case u := <-out:
			seen = append(seen, u)
		case <-time.After(wait):
			t.Fatalf("got %v", seen)
		}
	}
	return seen
}

// nConfig is an env field N that changes only when a test calls Reload
// (the poll is an hour).
type nConfig struct {
	N int `live:"env=N; poll=1h"`
}

// TestOptionGivenToTheWrongCall: Bind and subscriptions share one Option
// type; a subscription option given to Bind fails Bind, and a Bind option
// given to Subscribe or WatchField fails the subscription, each naming the
// option's position and where it belongs.
func TestOptionGivenToTheWrongCall(t *testing.T) {
	t.Parallel()
	var c struct {
		N int `live:"env=N"`
	}
	_, err := Bind(t.Context(), &c, WithLookupEnv(newEnv("N", "1").lookup), From(1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "option 2 configures a subscription")

	b := mustBind(t, &c, WithLookupEnv(newEnv("N", "1").lookup))
	_, err = b.Subscribe(func(Update) {}, Kinds(Updated), WithHistory(3))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "option 2 configures Bind")
	_, err = WatchField(b, "N", func(FieldChange[int]) {}, WithLogger(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "option 1 configures Bind")
}

// bindN binds nConfig with N set to v and returns the environment that
// changes it.
func bindN(t *testing.T, v string) (*Binding[nConfig], *testEnv) {
	t.Helper()
	env := newEnv("N", v)
	var cfg nConfig
	return mustBind(t, &cfg, WithLookupEnv(env.lookup)), env
}

// abConfig is two env fields, A and B, that change only when a test calls
// Reload.
type abConfig struct {
	A int `live:"env=A; poll=1h"`
	B int `live:"env=B; poll=1h"`
}

// bindAB binds abConfig with A and B set to 0 and returns the environment
// that changes them.
func bindAB(t *testing.T) (*Binding[abConfig], *testEnv) {
	t.Helper()
	env := newEnv("A", "0", "B", "0")
	var cfg abConfig
	return mustBind(t, &cfg, WithLookupEnv(env.lookup)), env
}

// gens lists the generations of the queued events, oldest first.
func gens(q *eventQueue) []uint64 {
	var out []uint64
	for _, ev := range q.pending() {
		out = append(out, ev.u.Gen)
	}
	return out
}

func genEvent(g uint64) event { return event{u: Update{Gen: g}} }

// A subscriber's queue delivers in order, reuses its slots instead of
// growing when it is drained as fast as it is filled, and gives back a
// backing array that a burst grew past DefaultBuffer.
// Not parallel: testing.AllocsPerRun refuses to run in a parallel test.
func TestEventQueueOrderReuseRelease(t *testing.T) {
	var q eventQueue
	for g := range uint64(4) {
		q.push(genEvent(g))
	}
	ev, ok := q.pop()
	require.True(t, ok)
	assert.Equal(t, uint64(0), ev.u.Gen)
	q.remove(1) // gen 2
	assert.Equal(t, []uint64{1, 3}, gens(&q))

	// Full array with free slots before head: the events move to the front.
	q = eventQueue{buf: make([]event, 0, 4)}
	for g := range uint64(4) {
		q.push(genEvent(g))
	}
	q.pop()
	q.pop()
	q.push(genEvent(4))
	q.push(genEvent(5))
	assert.Equal(t, []uint64{2, 3, 4, 5}, gens(&q))
	assert.Equal(t, 4, cap(q.buf), "the array must be reused, not grown")

	for _, want := range []uint64{2, 3, 4, 5} {
		ev, ok := q.pop()
		require.True(t, ok)
		assert.Equal(t, want, ev.u.Gen)
	}
	_, ok = q.pop()
	assert.False(t, ok)

	// Drained as fast as filled: in order, and no allocation once warm.
	var order []uint64
	allocs := testing.AllocsPerRun(1000, func() {
		q.push(genEvent(7))
		q.push(genEvent(8))
		a, _ := q.pop()
		b, _ := q.pop()
		if a.u.Gen != 7 || b.u.Gen != 8 {
			order = []uint64{a.u.Gen, b.u.Gen}
		}
	})
	assert.Zero(t, allocs)
	assert.Nil(t, order, "pops out of order")

	for g := range uint64(DefaultBuffer + 1) {
		q.push(genEvent(g))
	}
	for range DefaultBuffer + 1 {
		q.pop()
	}
	assert.Zero(t, cap(q.buf), "a drained queue must not keep an array grown past DefaultBuffer")
}

// A subscriber that stopped reading keeps its last Buffer events: each new
// one drops the oldest. Making room must cost O(1) moved events per push on
// average, whatever capacity the backing array happens to have; moving the
// whole queue to the front on every push made each publish O(Buffer) for
// every stalled subscriber, under the lock the applier publishes with.
func TestEventQueueFullDropIsAmortized(t *testing.T) {
	t.Parallel()
	const limit, pushes = 300, 3000
	for _, capacity := range []int{0, limit, limit + 1, 2 * limit} {
		sub := &subscriber{buffer: limit}
		sub.queue.buf = make([]event, 0, capacity)
		moved := 0
		for g := range uint64(pushes) {
			var second *event // the event that becomes the oldest when one is dropped
			if sub.queue.len() == limit {
				second = &sub.queue.pending()[1]
			}
			sub.push(&event{u: Update{Gen: g}})
			if second != nil && &sub.queue.pending()[0] != second {
				moved += limit - 1
			}
		}
		assert.Equal(t, limit, sub.queue.len())
		assert.Equal(t, pushes-limit, sub.dropped)
		assert.Equal(t, []uint64{pushes - limit, pushes - 1}, []uint64{sub.queue.pending()[0].u.Gen, sub.queue.pending()[limit-1].u.Gen}, "the newest Buffer events stay, in order")
		assert.LessOrEqual(t, moved, 2*pushes, "initial capacity %d: %d events moved for %d pushes", capacity, moved, pushes)
	}
}
