package bindtest

import (
	"cmp"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

// What the tests of the server-backed drivers (consul, etcd, nats,
// postgres, redis) share: the pieces of their conformance harnesses
// (sourcetest.Harness), the table test of their Check, and the checks of a
// binding through a server that is down, cut off or flooded.

// MaxBytes is the option set maxbytes=n.
func MaxBytes(n int) map[string]string { return map[string]string{"maxbytes": strconv.Itoa(n)} }

// ConfigValue returns a Harness.Config that gives every driver v as its
// config's Value.
func ConfigValue(v any) func(*testing.T) sources.Config {
	return func(*testing.T) sources.Config { return sources.Config{Value: v} }
}

// Targets returns a Harness.Target: each call gives a fresh target of
// scheme with params, at prefix followed by the next number (1, 2 ...).
func Targets(scheme, prefix string, params map[string]string) func(*testing.T) *sources.Target {
	var n atomic.Int64
	return func(*testing.T) *sources.Target {
		return &sources.Target{Scheme: scheme, Location: prefix + strconv.FormatInt(n.Add(1), 10), Params: params}
	}
}

// TypedError returns a Harness.ErrorAs: err must hold an E (errors.As),
// the driver's typed error, and wrap target.
func TypedError[E error](target error) func(error) bool {
	return func(err error) bool {
		var e E
		return errors.As(err, &e) && errors.Is(err, target)
	}
}

// SilentStall returns a Harness.Stall: tg observed by a driver whose
// config cfg(t, addr) points at a server that accepts connections and
// never answers (fixture.SilentServer) until released.
func SilentStall(tg *sources.Target, cfg func(t *testing.T, addr string) any) func(*testing.T) (sources.Config, *sources.Target, func()) {
	return func(t *testing.T) (sources.Config, *sources.Target, func()) {
		t.Helper()
		addr, release := fixture.SilentServer(t)
		return sources.Config{Value: cfg(t, addr)}, tg, release
	}
}

// Oversized returns a Harness.Oversize that writes with set a value of
// 16·maxSize bytes: far over the limit, so no framing overhead decides.
func Oversized(set func(t *testing.T, tg *sources.Target, v []byte), maxSize int) func(*testing.T, *sources.Target) {
	return func(t *testing.T, tg *sources.Target) {
		t.Helper()
		set(t, tg, make([]byte, 16*maxSize))
	}
}

// KeepAliveLeaks are the goroutines of the idle keep-alive connections of
// an HTTP client that a harness hands a driver, for Harness.IgnoreLeaks
// (a driver closes only the idle connections of clients it built itself).
func KeepAliveLeaks() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	}
}

// TypedCheckTable runs scheme's Check (it must be registered) on a target
// of each case, each as a parallel subtest named by its Note (or else its
// location): a case without Want must pass, any other must fail with an
// error holding Want that is an E (errors.As), the scheme's typed error.
func TypedCheckTable[E error](t *testing.T, scheme string, cases []CheckCase) {
	t.Helper()
	typed := func(err error) bool {
		var e E
		return errors.As(err, &e)
	}
	for _, tc := range cases {
		t.Run(cmp.Or(tc.Note, tc.Loc), func(t *testing.T) {
			t.Parallel()
			tg := &sources.Target{Scheme: scheme, Location: tc.Loc, Params: tc.Params, Poll: tc.Poll}
			fixture.WantCheck(t, scheme, tg, tc.Want, typed)
		})
	}
}

// Lifecycle checks a text field bound to a location whose value is "one"
// (current returns the field): write("two") is an Updated, remove() a
// Removed that keeps "two", and write("three") an Added.
func Lifecycle(t *testing.T, rec *fixture.Log[livebind.Update], current func() any, write func(string), remove func()) {
	t.Helper()
	if got := current(); got != "one" {
		t.Fatalf("bindtest: value %v at Bind; want \"one\"", got)
	}
	write("two")
	if u := rec.Until(t, "Updated", HasNew("two")); u.Kind != livebind.Updated {
		t.Fatalf("bindtest: %v; want an Updated to \"two\"", u)
	}
	remove()
	rec.Until(t, "Removed", func(u livebind.Update) bool { return u.Kind == livebind.Removed })
	if got := current(); got != "two" {
		t.Fatalf("bindtest: value %v after removal; want the last value \"two\" kept", got)
	}
	write("three")
	if u := rec.Until(t, "Added", HasNew("three")); u.Kind != livebind.Added {
		t.Fatalf("bindtest: %v; want an Added of \"three\"", u)
	}
}

// FirstMessage checks a field with default=idle on a subject or channel
// that had no message at Bind: it holds "idle" (current returns it), and
// the first message, "busy" sent with send (which returns once the watch
// received it), is an Added.
func FirstMessage(t *testing.T, rec *fixture.Log[livebind.Update], current func() any, send func(string)) {
	t.Helper()
	if got := current(); got != "idle" {
		t.Fatalf("bindtest: value %v at Bind; want the default \"idle\"", got)
	}
	send("busy")
	if u := rec.Until(t, "Added", func(u livebind.Update) bool { return u.Kind == livebind.Added }); u.New != "busy" {
		t.Fatalf("bindtest: Added %v; want \"busy\"", u.New)
	}
}

// FailsFast checks that binding a T with cfg as the source config of
// scheme, while its server is down, fails at once with an error that wraps
// want, holds names (the key or row, as the error quotes it) and never
// holds secret.
func FailsFast[T any](t *testing.T, scheme string, cfg any, want error, names, secret string) {
	t.Helper()
	var dst T
	b, err := livebind.Bind(t.Context(), &dst, livebind.WithSourceConfig(scheme, cfg))
	switch {
	case err == nil:
		_ = b.Close()
		t.Fatalf("bindtest: Bind succeeded with the server down; want an error wrapping %v", want)
	case !errors.Is(err, want) || !strings.Contains(err.Error(), names):
		t.Fatalf("bindtest: Bind: %v; want an error wrapping %v and holding %s", err, want, names)
	case secret != "" && strings.Contains(err.Error(), secret):
		t.Fatal("bindtest: the Bind error holds the secret")
	}
}

// ConnectionCut checks a field bound through p whose value is "before":
// cutting p gives an Error update (wrapping want, when want is not nil); a
// value "while-cut" written with write meanwhile does not reach the field
// (current keeps "before"), and lands once p resumes (the watch re-reads,
// it does not trust a resumed stream).
func ConnectionCut(t *testing.T, rec *fixture.Log[livebind.Update], p *fixture.Proxy, current func() any, write func(string), want error) {
	t.Helper()
	p.Cut()
	u := rec.Until(t, "Error", IsError)
	if want != nil && !errors.Is(u.Err, want) {
		t.Fatalf("bindtest: error %v while cut; want one wrapping %v", u.Err, want)
	}
	write("while-cut")
	if got := current(); got != "before" {
		t.Fatalf("bindtest: value %v while cut; want the last good \"before\"", got)
	}
	p.Resume()
	rec.Until(t, "the change made while cut", HasNew("while-cut"))
}

// slowCount is a subscriber hook that takes 1 ms per update and counts
// the updates in n.
func slowCount(n *atomic.Int64) func() {
	return func() { n.Add(1); time.Sleep(time.Millisecond) }
}

// CoalescedBurst checks a [PairBurst] through throttle= to a subscriber
// of b that takes 1 ms per update: warm runs first (it returns once the
// watches of b are live), then send; the outcome must be [Coalesced].
func CoalescedBurst[T any](t *testing.T, b *livebind.Binding[T], last func(*T) (msg, key string), warm func(), send func(n int)) {
	t.Helper()
	var updates atomic.Int64
	hook := slowCount(&updates)
	if _, err := b.Subscribe(func(livebind.Update) { hook() }); err != nil {
		t.Fatalf("bindtest: Subscribe: %v", err)
	}
	warm()
	peak, _ := PairBurst(t, b, last, send)
	Coalesced(t, updates.Load(), peak)
}

// BurstRound is one round of [BurstBench].
type BurstRound struct {
	// Env holds the name, value pairs of the ${VAR}s of the round's fresh
	// locations.
	Env []string
	// Warm writes a message the binding hears, until it is heard.
	Warm func(v string)
	// Send sends the burst (see [PairBurst]).
	Send func(n int)
}

// BurstBench runs a [PairBurst] each round of b against a new binding of a
// T (with cfg as the source config of scheme, and the round's ${VAR}s)
// whose subscriber takes 1 ms per update, once a message is heard, and
// reports it with [ReportBurst].
func BurstBench[T any](b *testing.B, scheme string, cfg any, last func(*T) (msg, key string), round func() BurstRound) {
	b.Helper()
	for b.Loop() {
		r := round()
		var updates atomic.Int64
		bd, got := SchemeStrings[T](b, scheme, cfg, slowCount(&updates), r.Env...)
		fixture.Heard(b, got, r.Warm)
		updates.Store(0)
		peak, settled := PairBurst(b, bd, last, r.Send)
		ReportBurst(b, peak, updates.Load(), settled)
		_ = bd.Close()
	}
}
