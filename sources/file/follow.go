package file

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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

// follower follows one file for every field that watches it, on its
// watch's goroutine: it waits for a change notification (or a poll),
// debounces, reads, retries what looks like a write in progress and
// reports. sources.Watches drops results a field has seen already.
type follower struct {
	d     *driver
	key   watchKey
	dir   string         // filepath.Dir(key.path)
	kicks sources.Signal // "something happened to the file"
	w     *watch

	failing atomic.Bool // the last report held an error (lets chmod events through)
	ready   atomic.Bool // close-aware backend: a kick said a writer is done
	writing atomic.Bool // close-aware backend: a write came after the last close

	// Guarded by d.mu: where the path leads through symbolic links, and the
	// extra directory watched for it ("" when it is dir).
	resolved    string
	resolvedDir string
	links       []string // symbolic links along dir; their directories are watched

	// Owned by the goroutine.
	dirErr   error       // the directory could not be watched at the last check
	missing  bool        // the last read found no file
	lastInfo fs.FileInfo // polling: stat before the last read, nil if it failed
	lastRead time.Time   // polling: when the last read started
}

func (d *driver) newFollower(key watchKey) *follower {
	return &follower{d: d, key: key, dir: filepath.Dir(key.path), kicks: sources.NewSignal()}
}

// kick reports that the file may have changed. It never blocks.
func (f *follower) kick() { f.kicks.Notify() }

// run follows the file until the last field stops or the driver closes.
// The first check runs at once, so that a change between Read and Watch is
// not lost.
func (f *follower) run(w *watch) {
	f.w = w
	if f.key.poll == 0 {
		f.d.follow(f)
		defer f.d.unfollow(f)
	}
	for f.check() && f.wait() {
	}
}

// wait waits for the next check: a poll that sees a change, or a change
// notification and its debounce, or the directory to come back. A field
// joining ends any wait at once. It reports whether the watch still runs.
func (f *follower) wait() bool {
	switch {
	case f.key.poll > 0:
		for {
			if !f.w.Sleep(f.key.poll) {
				return false
			}
			if f.w.Kicked() || f.changed() {
				return true
			}
		}
	case f.dirErr != nil:
		return f.waitDir()
	case f.d.closeEvents.Load():
		return f.waitClose()
	}
	if !f.w.Wait(f.kicks) {
		return false
	}
	if f.w.Kicked() {
		return true
	}
	return f.debounce()
}

// waitClose is wait with a close-aware backend: it returns when a writer is
// done with the file (see driver.handleEvent), then waits for the debounce
// (none by default). A write that no close follows (a writer that keeps the
// file open, truncate(2), mmap) is read maxwait after it, through the
// write-in-progress retries like any read.
func (f *follower) waitClose() bool {
	var grace *time.Timer
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	for {
		if !f.w.Wait(f.kicks) {
			return false
		}
		if f.w.Kicked() {
			return true
		}
		if f.ready.Swap(false) {
			return f.debounce()
		}
		if grace == nil {
			_, maxWait, _ := f.timing()
			grace = time.AfterFunc(maxWait, func() { // a late fire costs one read at most
				f.ready.Store(true)
				f.kick()
			})
		}
	}
}

// debounce waits until no notification came for the debounce interval,
// but no longer than maxwait after the first one. With a close-aware
// backend, a write since the last close also holds the read back until
// the next close (or maxwait).
func (f *follower) debounce() bool {
	debounce, maxWait, _ := f.timing()
	if debounce <= 0 {
		return true
	}
	closeEvents := f.d.closeEvents.Load()
	start := time.Now()
	timer := time.NewTimer(min(debounce, maxWait))
	defer timer.Stop()
	for {
		select {
		case <-f.w.Context().Done():
			return false
		case <-timer.C:
			if !closeEvents || !f.writing.Load() {
				return true
			}
			// A writer re-opened the file within the debounce: wait for
			// its close, but no longer than maxwait.
			wait := time.Until(start.Add(maxWait))
			if wait <= 0 {
				return true
			}
			timer.Reset(wait)
		case <-f.kicks:
			f.ready.Store(false) // this wait ends in a read anyway
			wait := min(debounce, time.Until(start.Add(maxWait)))
			if wait <= 0 {
				return true
			}
			timer.Reset(wait)
		}
	}
}

// timing is the most eager debounce, maxwait and write-in-progress retry
// gap among the fields.
func (f *follower) timing() (debounce, maxWait, gap time.Duration) {
	closeEvents := f.d.closeEvents.Load()
	debounceOf := func(t *sources.Target) time.Duration { return debounceWith(t, closeEvents) }
	debounce, maxWait, gap = DefaultDebounce, DefaultMaxWait, DefaultDebounce
	for i, t := range f.w.Values() {
		if i == 0 {
			debounce, maxWait, gap = debounceOf(t), maxWaitOf(t), retryGapOf(t)
		}
		debounce, maxWait, gap = min(debounce, debounceOf(t)), min(maxWait, maxWaitOf(t)), min(gap, retryGapOf(t))
	}
	return debounce, maxWait, gap
}

// noDirPolls makes waitDir check again only when an event says so (or
// after an hour): tests set it to see that events alone find a directory
// made again.
var noDirPolls atomic.Bool

// waitDir waits, with backoff, until the file's directory can be watched
// again; an event of an ancestor's watch (a directory along the path made
// again) ends a wait at once. A watch limit that refuses it is reported.
func (f *follower) waitDir() bool {
	for backoff := minBackoff; ; backoff = min(2*backoff, maxBackoff) {
		if noDirPolls.Load() {
			backoff = time.Hour
		}
		if !f.w.SleepOrWait(backoff, f.kicks) {
			return false
		}
		err := f.d.ensure(f.dir)
		if err == nil || f.w.Kicked() {
			return true
		}
		if lerr := limitError(f.key.path, err); lerr != nil {
			// The directory is back but cannot be watched: say so (once:
			// the message does not change) and keep trying.
			look := f.w.Begin(0, false)
			f.report(look, observation{Result: sources.Result{Err: lerr}}, nil)
			look.End()
		} else if !isMissing(err) {
			f.d.logger.Debug("file: cannot watch directory yet", "path", f.key.path, "dir", f.dir, "err", showPaths(err))
		}
	}
}

// changed is a poll's stat: whether the file may have changed since the
// last read.
func (f *follower) changed() bool {
	fi, err := os.Stat(f.key.path)
	switch {
	case err != nil:
		// Still missing, as at the last read: nothing to read.
		return !errors.Is(err, fs.ErrNotExist) || f.lastInfo != nil || !f.missing
	case f.lastInfo != nil && os.SameFile(fi, f.lastInfo) && fi.Size() == f.lastInfo.Size() &&
		fi.ModTime().Equal(f.lastInfo.ModTime()) && f.lastRead.Sub(fi.ModTime()) >= racyWindow:
		return false
	}
	return true
}

// check reads the file, retries what looks like a write in progress
// (missing, empty or not parsing for some field), and reports what it
// found to each field. It reports whether the watch still runs.
func (f *follower) check() bool {
	start := time.Now()
	for attempt := 0; ; attempt++ {
		look := f.w.Begin(0, false)
		raw, checked := f.observe()
		// A write that came after the last close, before or during this
		// read: the file is being rewritten, wait for its close, for
		// maxwait at most (as for a write that no read came before), not
		// just for the retries of content that does not parse: what was
		// read may be a prefix that parses.
		writing := f.key.poll == 0 && f.d.closeEvents.Load() && f.writing.Load()
		retry := raw.retry || writing
		for _, o := range checked {
			retry = retry || o.retry
		}
		_, maxWait, gap := f.timing()
		if retry && (attempt < retries || (writing && time.Since(start) < maxWait)) {
			look.End()
			if !f.pause(gap) {
				return false
			}
			continue
		}
		f.report(look, raw, checked)
		look.End()
		return f.w.Context().Err() == nil
	}
}

// pause waits gap before reading a write in progress again. With a
// close-aware backend, a notification that a writer is done ends it at
// once (a delete then re-create is read at the close that ends
// it). With fsnotify, notifications come from the writes themselves, and
// only a field joining ends it. It reports whether the watch still runs.
func (f *follower) pause(gap time.Duration) bool {
	if !f.d.closeEvents.Load() || f.key.poll > 0 {
		return f.w.Sleep(gap)
	}
	timer := time.NewTimer(gap)
	defer timer.Stop()
	for {
		select {
		case <-f.w.Context().Done():
			return false
		case <-timer.C:
			return f.w.Context().Err() == nil
		case <-f.kicks:
			if f.ready.Swap(false) {
				return f.w.Context().Err() == nil
			}
		}
	}
}

// observe reads the file once and classifies it for each field's Check.
func (f *follower) observe() (observation, map[*sources.Target]observation) {
	var werr error
	if f.key.poll > 0 {
		fi, err := os.Stat(f.key.path)
		if err != nil {
			fi = nil
		}
		f.lastInfo, f.lastRead = fi, time.Now()
	} else {
		werr = f.d.lookDir(f)
	}
	f.dirErr = werr
	raw := readRaw(f.key.path, f.key.maxBytes)
	f.missing = raw.Missing
	if werr != nil {
		if lerr := limitError(f.key.path, werr); lerr != nil {
			raw = observation{Result: sources.Result{Err: lerr}}
		} else if !isMissing(werr) {
			f.d.logger.Debug("file: cannot watch directory", "path", f.key.path, "dir", f.dir, "err", showPaths(werr))
		}
	}
	if f.key.poll == 0 && !raw.Missing {
		// Re-resolve after every read: a Kubernetes volume update swaps the
		// ..data link, and with it the directory the file really lives in.
		if res, err := filepath.EvalSymlinks(f.key.path); err == nil {
			f.d.setResolved(f, res)
		}
	}
	checked := make(map[*sources.Target]observation)
	if raw.Data != nil {
		for _, t := range f.w.Values() {
			if t.Check != nil {
				checked[t] = classify(raw, f.key.path, t)
			}
		}
	}
	return raw, checked
}

// report hands each field what the look found, through its own Check.
func (f *follower) report(look *sources.Look[watchKey, *sources.Target], raw observation, checked map[*sources.Target]observation) {
	// Decide whether the watch is failing before anything is reported: a
	// chmod made right after an error is seen (the fix a user makes) is let
	// through only while failing is set, so it must already be set when the
	// error reaches anyone.
	failing := raw.Err != nil
	results := make(map[*sources.Target]sources.Result)
	for _, t := range f.w.Values() {
		o, ok := checked[t]
		if !ok {
			o = classify(raw, f.key.path, t)
		}
		failing = failing || o.Err != nil
		results[t] = o.Result
	}
	f.failing.Store(failing)
	look.ReportEach(func(t *sources.Target) sources.Result { // called on this goroutine
		if r, ok := results[t]; ok {
			return r
		}
		return classify(raw, f.key.path, t).Result // a field that joined meanwhile
	})
}
