package file

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livebind/livebind/sources"
)

const (
	// minBackoff and maxBackoff bound the checks for a missing directory.
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
	// racyWindow: a file whose modification time is this close to the last
	// read may have changed again without its stat changing (coarse mtimes),
	// so polling reads it again.
	racyWindow = 2 * time.Second
)

// phase is what a runner's timer is armed for.
type phase uint8

const (
	phaseIdle     phase = iota // nothing pending
	phaseDebounce              // waiting for a burst of notifications to end
	phaseRetry                 // waiting to read again after a write in progress
	phaseDirWait               // waiting, with backoff, for the directory to exist
)

// runner watches one target on its own goroutine. Targets with the same
// location and options share one runner (livebind shares the Target), so
// goroutines scale with the number of files, not of fields.
type runner struct {
	d        *driver
	t        *sources.Target
	path     string // cleaned absolute path
	dir      string // filepath.Dir(path)
	maxBytes int64  // maxbytes=: the largest file read
	poll     time.Duration
	debounce time.Duration
	maxWait  time.Duration
	emit     func(sources.Result)

	// Guarded by d.mu: where path leads through symbolic links, and the
	// extra directory watched for it ("" when it is dir).
	resolved    string
	resolvedDir string

	failing atomic.Bool   // the last report was an error (lets chmod events through)
	kicks   chan struct{} // buffered 1: "something happened to the file"
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	// Owned by the goroutine.
	prev     observation
	phase    phase
	timer    *time.Timer
	burst    time.Time     // first kick of the current burst
	attempt  int           // retries done for the current read
	backoff  time.Duration // current directory check interval
	lastInfo fs.FileInfo   // polling: stat before the last read, nil if it failed
	lastRead time.Time     // polling: when the last read started
}

func newRunner(d *driver, t *sources.Target, path string, maxBytes int64, last sources.Result, emit func(sources.Result)) *runner {
	r := &runner{
		d:        d,
		t:        t,
		path:     path,
		dir:      filepath.Dir(path),
		maxBytes: maxBytes,
		poll:     t.Poll,
		debounce: debounceOf(t),
		maxWait:  maxWaitOf(t),
		emit:     emit,
		kicks:    make(chan struct{}, 1),
		done:     make(chan struct{}),
		prev:     observationOf(last),
	}
	r.failing.Store(r.prev.kind == kindErr)
	return r
}

func (r *runner) start() {
	r.wg.Add(1)
	go r.run()
}

// stop ends the watch and waits for its goroutine. It is idempotent; after it
// returns emit is not called again.
func (r *runner) stop() {
	r.once.Do(func() {
		r.d.removeRunner(r)
		close(r.done)
		r.wg.Wait()
		if r.poll == 0 {
			r.d.releaseRunner(r)
		}
	})
}

// kick reports that the file may have changed. It never blocks.
func (r *runner) kick() {
	select {
	case r.kicks <- struct{}{}:
	default:
	}
}

func (r *runner) run() {
	defer r.wg.Done()
	// The first check runs at once, so that a change between Read and
	// Watch is not lost.
	r.phase = phaseRetry
	r.timer = time.NewTimer(0)
	defer r.timer.Stop()
	var tick <-chan time.Time
	if r.poll > 0 {
		ticker := time.NewTicker(r.poll)
		defer ticker.Stop()
		tick = ticker.C
	}
	for {
		select {
		case <-r.done:
			return
		case <-r.kicks:
			r.onKick(time.Now())
		case <-r.timer.C:
			r.onTimer()
		case <-tick:
			r.onTick()
		}
	}
}

// onKick (re)arms the debounce timer: debounce after the last kick, but no
// later than maxWait after the first kick of the burst. A kick during retries
// or while waiting for the directory starts a new burst.
func (r *runner) onKick(now time.Time) {
	if r.phase != phaseDebounce {
		r.burst = now
	}
	r.phase = phaseDebounce
	r.attempt = 0
	wait := min(r.debounce, r.burst.Add(r.maxWait).Sub(now))
	r.timer.Reset(max(wait, 0))
}

func (r *runner) onTimer() {
	switch r.phase {
	case phaseDebounce, phaseRetry:
		r.check()
	case phaseDirWait:
		if err := r.d.ensure(r.dir); err != nil {
			if lerr := limitError(r.path, err); lerr != nil {
				// The directory is back but cannot be watched: say so
				// (once: the message does not change) and keep trying.
				r.report(observation{kind: kindErr, err: lerr})
			} else if !isMissing(err) {
				r.d.logger.Debug("file: cannot watch directory yet", "path", r.path, "dir", r.dir, "err", err)
			}
			r.backoff = min(2*r.backoff, maxBackoff)
			r.timer.Reset(r.backoff)
			return
		}
		r.backoff = 0
		r.attempt = 0
		r.check()
	case phaseIdle:
		// A stale tick of a timer that was re-armed; nothing to do.
	}
}

// onTick is a poll: read again when stat says the file may have changed.
func (r *runner) onTick() {
	if r.phase != phaseIdle {
		return // a retry is pending; it reads soon enough
	}
	fi, err := os.Stat(r.path)
	switch {
	case err != nil:
		if errors.Is(err, fs.ErrNotExist) && r.lastInfo == nil && r.prev.kind == kindMissing {
			return
		}
	case r.lastInfo != nil && os.SameFile(fi, r.lastInfo) && fi.Size() == r.lastInfo.Size() &&
		fi.ModTime().Equal(r.lastInfo.ModTime()) && r.lastRead.Sub(fi.ModTime()) >= racyWindow:
		return
	}
	r.attempt = 0
	r.check()
}

// check reads the file, retries what looks like a write in progress, reports
// what changed and decides what the timer waits for next.
func (r *runner) check() {
	var werr error
	if r.poll > 0 {
		fi, err := os.Stat(r.path)
		if err != nil {
			fi = nil
		}
		r.lastInfo, r.lastRead = fi, time.Now()
	} else {
		werr = r.d.ensure(r.dir)
	}
	o := readFile(r.path, r.t, r.maxBytes)
	if werr != nil {
		if lerr := limitError(r.path, werr); lerr != nil {
			o = observation{kind: kindErr, err: lerr}
		} else if !isMissing(werr) {
			r.d.logger.Debug("file: cannot watch directory", "path", r.path, "dir", r.dir, "err", werr)
		}
	}
	if r.poll == 0 && o.kind != kindMissing {
		// Re-resolve after every read: a Kubernetes volume update swaps the
		// ..data link, and with it the directory the file really lives in.
		if res, err := filepath.EvalSymlinks(r.path); err == nil {
			r.d.setResolved(r, res)
		}
	}
	if o.retry && r.attempt < retries {
		r.attempt++
		r.phase = phaseRetry
		r.timer.Reset(retryGapOf(r.t))
		return
	}
	r.attempt = 0
	r.report(o)
	if werr != nil {
		r.phase = phaseDirWait
		if r.backoff == 0 {
			r.backoff = minBackoff
		}
		r.timer.Reset(r.backoff)
		return
	}
	r.phase = phaseIdle
}

// report emits o when it differs from the previous observation.
func (r *runner) report(o observation) {
	r.failing.Store(o.kind == kindErr)
	if !o.differs(r.prev) {
		return
	}
	r.prev = o
	r.emit(o.result())
}
