package livebind

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/livebind/livebind/sources"
)

// WithCache keeps a last-known-good copy of every remote source's value in
// dir (created if missing). When a remote source fails at Bind, Bind starts
// from the cached value instead of failing, and [SourceStatus].FromCache
// says so until the source answers. Files are written atomically (a
// temporary file renamed over the old one). Local sources (file, env) are
// not cached. Sources that hold a secret are not cached at all unless
// [WithCacheEncryption] is given.
func WithCache(dir string) Option {
	return optionFunc(func(o *options) { o.cacheDir = dir })
}

// WithCacheEncryption lets [WithCache] store sources that hold secrets:
// seal encrypts what is written and open decrypts what is read. A value
// that open cannot decrypt is ignored (the source must then answer at Bind).
func WithCacheEncryption(seal, open func([]byte) ([]byte, error)) Option {
	return optionFunc(func(o *options) { o.cacheSeal, o.cacheOpen = seal, open })
}

// cacheEntry is one cached observation on disk.
type cacheEntry struct {
	Source  string    `json:"source"` // redacted, for people reading the directory
	Format  string    `json:"format,omitempty"`
	Version string    `json:"version,omitempty"`
	Saved   time.Time `json:"saved"`
	Sealed  bool      `json:"sealed,omitempty"`
	Data    []byte    `json:"data"`
}

// cachePath names t's cache file by a hash of its identity, so that no
// location (which could hold a credential) appears in a file name.
func (b *Binding[T]) cachePath(t *target) (string, bool) {
	if b.opts.cacheDir == "" || t.scheme.Local {
		return "", false
	}
	if t.spec.Secret && b.opts.cacheSeal == nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(t.identity()))
	return filepath.Join(b.opts.cacheDir, "livebind-"+hex.EncodeToString(sum[:12])+".json"), true
}

// cacheLater notes t's observation r, to be saved by flushCache once the
// generation that holds its values is published: a value that Validate or
// an update= function rejects never reaches the cache.
func (b *Binding[T]) cacheLater(t *target, r sources.Result) {
	if b.opts.cacheDir == "" {
		return
	}
	if r.Err != nil || r.Missing || t.failing != nil {
		delete(b.toCache, t)
		return
	}
	b.toCache[t] = r
}

// flushCache saves the observations noted by cacheLater whose fields are
// no longer held back.
func (b *Binding[T]) flushCache() {
	for t, r := range b.toCache {
		held := false
		for _, f := range t.fields {
			if _, ok := b.desired[f]; ok {
				held = true
				break
			}
		}
		if !held {
			b.saveCache(t, r)
			delete(b.toCache, t)
		}
	}
}

// saveCache writes t's good observation atomically when it differs from
// what was saved last. Failures are logged: the cache is an aid, never a
// reason to reject a value. Runs on the applier (or Bind).
func (b *Binding[T]) saveCache(t *target, r sources.Result) {
	if r.Err != nil || r.Missing || t.failing != nil || bytes.Equal(r.Data, t.cached) {
		return
	}
	path, ok := b.cachePath(t)
	if !ok {
		return
	}
	t.cached = r.Data
	e := cacheEntry{Source: t.String(), Format: r.Format, Version: r.Version, Saved: time.Now().UTC(), Data: r.Data}
	if t.spec.Secret {
		e.Version = "" // a content hash of a secret can be brute-forced
		sealed, err := b.opts.cacheSeal(r.Data)
		if err != nil {
			b.log.Warn("livebind: cache: seal failed; not cached", "source", t.String(), "error", err)
			return
		}
		e.Data, e.Sealed = sealed, true
	}
	if err := writeAtomic(path, e); err != nil {
		b.log.Warn("livebind: cache: write failed", "source", t.String(), "error", err)
	}
}

func writeAtomic(path string, e cacheEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".livebind-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// loadCache returns t's cached observation, if any.
func (b *Binding[T]) loadCache(t *target) (sources.Result, time.Time, bool) {
	path, ok := b.cachePath(t)
	if !ok {
		return sources.Result{}, time.Time{}, false
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return sources.Result{}, time.Time{}, false
	}
	var e cacheEntry
	if err := json.Unmarshal(raw, &e); err != nil || len(e.Data) == 0 {
		b.log.Warn("livebind: cache: unreadable entry ignored", "source", t.String(), "path", path)
		return sources.Result{}, time.Time{}, false
	}
	if e.Sealed != t.spec.Secret {
		return sources.Result{}, time.Time{}, false
	}
	if e.Sealed {
		data, err := b.opts.cacheOpen(e.Data)
		if err != nil {
			b.log.Warn("livebind: cache: cannot open sealed entry; ignored", "source", t.String())
			return sources.Result{}, time.Time{}, false
		}
		e.Data = data
	}
	return sources.Result{Data: e.Data, Format: e.Format, Version: e.Version}, e.Saved, true
}

// fromCache replaces a failed Bind-time result of t with its cached value,
// if there is one.
func (b *Binding[T]) fromCache(t *target, r sources.Result) (sources.Result, bool) {
	if r.Err == nil {
		return r, false
	}
	c, saved, ok := b.loadCache(t)
	if !ok {
		return r, false
	}
	b.log.Warn("livebind: source failed at Bind; starting from the cached value",
		"source", t.String(), "saved", saved, "error", r.Err)
	return c, true
}

// errCacheNeedsOpen reports WithCacheEncryption given only half.
var errCacheNeedsOpen = errors.New("livebind: WithCacheEncryption needs both seal and open")
