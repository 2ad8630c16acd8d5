package sources_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/sources"
)

var errBadTarget = errors.New("bad target")

// pushTarget is a parsed target of streamDriver.
type pushTarget struct{ sources.StreamSpec }

func (*pushTarget) Ended() error { return errors.New("ended") }

// streamDriver returns a StreamDriver whose targets are keyed by location;
// "bad" fails to parse. Each dial yields a stream of the documents sent on
// docs, and records what the field saw (nil for a Read).
func streamDriver(docs chan []byte, dials chan *sources.Result) *sources.StreamDriver[string, *pushTarget] {
	return &sources.StreamDriver[string, *pushTarget]{
		Retry: sources.NewRetry(10*time.Millisecond, 10*time.Millisecond, 50*time.Millisecond),
		Parse: func(t *sources.Target) (*pushTarget, error) {
			if t.Location == "bad" {
				return nil, errBadTarget
			}
			return &pushTarget{sources.StreamSpec{Timeout: time.Second}}, nil
		},
		Key: func(t *sources.Target, _ *pushTarget) string { return t.Location },
		Dial: func(_ *pushTarget, last *sources.Result) sources.Dialer {
			return func(context.Context) (sources.Stream, *sources.StreamEnd) {
				dials <- last
				return &chanStream{docs: docs}, nil
			}
		},
	}
}

// A bad target is the Read's error and the Watch's; a Read takes the first
// document of a fresh stream (dialed with no last result), a watch the
// documents after it (dialed with what its field saw); an empty stream is
// the Ended error; Close ends the watch.
func TestStreamDriver(t *testing.T) {
	docs := make(chan []byte, 4)
	dials := make(chan *sources.Result, 4)
	d := streamDriver(docs, dials)

	require.ErrorIs(t, d.Read(t.Context(), &sources.Target{Location: "bad"}).Err, errBadTarget)
	_, err := d.Watch(&sources.Target{Location: "bad"}, sources.Result{}, func(sources.Result) {})
	require.ErrorIs(t, err, errBadTarget)

	docs <- []byte("one")
	r := d.Read(t.Context(), &sources.Target{Location: "a"})
	require.Equal(t, "one", string(r.Data))
	require.Nil(t, <-dials, "a Read dials with no last result")

	log := fixture.NewLog[sources.Result](5 * time.Second)
	last := sources.Result{Data: []byte("one"), Version: "7"}
	stop, err := d.Watch(&sources.Target{Location: "a"}, last, log.Add)
	require.NoError(t, err)
	require.Equal(t, "7", (<-dials).Version, "a watch dials with what its field saw")
	docs <- []byte("two")
	log.Until(t, "the next document", fixture.IsData("two"))
	require.NoError(t, d.Close())
	stop()

	empty := make(chan []byte)
	close(empty)
	r = streamDriver(empty, make(chan *sources.Result, 1)).Read(t.Context(), &sources.Target{Location: "a"})
	require.EqualError(t, r.Err, "ended")
}

// StreamScheme lists header= and maxbytes= with the extra options, takes
// timeout=, redacts the URL and checks a target by parsing it.
func TestStreamScheme(t *testing.T) {
	t.Parallel()
	parse := func(t *sources.Target) (int, error) {
		if t.Location == "bad" {
			return 0, errBadTarget
		}
		return 1, nil
	}
	s := sources.StreamScheme("push", []string{"event"}, parse, nil)
	require.Equal(t, "push", s.Name)
	require.ElementsMatch(t, []string{"header", "maxbytes", "event"}, s.Options)
	require.True(t, s.Timeout)
	require.NoError(t, s.Check(&sources.Target{Location: "ok"}))
	require.ErrorIs(t, s.Check(&sources.Target{Location: "bad"}), errBadTarget)
	require.NotContains(t, s.Redact("https://u:hunter2@h/x"), "hunter2")
}

// OrDefault keeps a positive duration and replaces zero and negative ones.
func TestOrDefault(t *testing.T) {
	t.Parallel()
	require.Equal(t, time.Second, sources.OrDefault(time.Second, time.Minute))
	require.Equal(t, time.Minute, sources.OrDefault(0, time.Minute))
	require.Equal(t, time.Minute, sources.OrDefault(-time.Second, time.Minute))
}
