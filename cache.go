package livebind

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/livebind/livebind/sources"
)

// WithCache keeps a last-known-good copy of every remote source's value in
// dir (created 0700 if missing). When a remote source fails at Bind, Bind
// starts from the cached value instead of failing, and
// [SourceStatus].FromCache says so until the source answers. Files are
// written atomically (a temporary file renamed over the old one). Local
// sources (file, env) are not cached. Sources that hold a secret are not
// cached at all unless [WithCacheEncryption] is given.
//
// The cache trusts nothing it finds on disk. Bind fails with an error
// wrapping [ErrCache] if dir, or the key file in it, is not owned by the
// process's user or can be written by others (group or world), or if the
// key file can be read by others. Every entry carries an HMAC-SHA256 under a
// random per-cache key (the file .livebind-cache.key, 0600, created beside
// the entries) over the entry and the identity of its source, so an entry
// that was changed, or copied from another source's file, is refused; so is
// an entry file not owned by the process's user or writable by others. A
// refused entry is never used: the source must answer at Bind, the refusal
// is logged and [SourceStatus].CacheError says why.
func WithCache(dir string) Option {
	return optionFunc(func(o *options) { o.cacheDir = dir })
}

// WithCacheEncryption lets [WithCache] store sources that hold secrets:
// seal encrypts what is written and open decrypts what is read. A value
// that open cannot decrypt is ignored (the source must then answer at Bind).
func WithCacheEncryption(seal, open func([]byte) ([]byte, error)) Option {
	return optionFunc(func(o *options) {
		o.cacheSeal, o.cacheOpen = recoverBytes("seal", seal), recoverBytes("open", open)
	})
}

// cacheKeyFile is the per-cache HMAC key, beside the entries.
const cacheKeyFile = ".livebind-cache.key"

// cacheKeySize is the HMAC key's length in bytes.
const cacheKeySize = 32

// cacheVersion tags the entry format; older entries (unauthenticated) are
// refused.
const cacheVersion = 2

// diskCache is an opened, checked cache directory.
type diskCache struct {
	dir string
	key []byte
}

// cacheEntry is one cached observation on disk.
type cacheEntry struct {
	V       int       `json:"v"`
	Source  string    `json:"source"` // redacted, for people reading the directory
	Format  string    `json:"format,omitempty"`
	Version string    `json:"version,omitempty"`
	Saved   time.Time `json:"saved"`
	Sealed  bool      `json:"sealed,omitempty"`
	Data    []byte    `json:"data"`
	MAC     string    `json:"mac"` // hex HMAC-SHA256, see mac
}

// mac authenticates e for the source whose identity is id. The display
// name (Source) is left out: it is only for people.
func (e *cacheEntry) mac(key []byte, id string) string {
	h := hmac.New(sha256.New, key)
	field := func(s string) {
		_, _ = io.WriteString(h, strconv.Itoa(len(s)))
		_, _ = io.WriteString(h, ":")
		_, _ = io.WriteString(h, s)
	}
	field("livebind-cache-v" + strconv.Itoa(e.V))
	field(id)
	field(e.Format)
	field(e.Version)
	field(e.Saved.UTC().Format(time.RFC3339Nano))
	field(strconv.FormatBool(e.Sealed))
	field(string(e.Data))
	return hex.EncodeToString(h.Sum(nil))
}

// openCache checks WithCache's directory (creating it if missing) and
// loads or creates its key. Bind fails on any error.
func (b *Binding[T]) openCache() error {
	if b.opts.cacheDir == "" {
		return nil
	}
	c, err := openDiskCache(b.opts.cacheDir)
	if err != nil {
		return err
	}
	b.cache = c
	return nil
}

func openDiskCache(dir string) (*diskCache, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("livebind: cache: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("livebind: cache: %w", err)
	}
	fi, err := os.Stat(abs) // a symlink to a directory of ours is fine: its target is checked
	if err != nil {
		return nil, fmt.Errorf("livebind: cache: %w", err)
	}
	if !fi.IsDir() {
		return nil, &cacheError{Path: abs, Reason: "not a directory"}
	}
	if reason := untrusted(fi, 0o022); reason != "" {
		return nil, &cacheError{Path: abs, Reason: reason}
	}
	key, err := loadOrCreateKey(filepath.Join(abs, cacheKeyFile))
	if err != nil {
		return nil, err
	}
	return &diskCache{dir: abs, key: key}, nil
}

// untrusted says why a file or directory that the cache reads cannot be
// trusted, or "" when it can: it must be owned by the process's effective
// user, and no bit of forbidden (of the permission bits) may be set.
func untrusted(fi fs.FileInfo, forbidden fs.FileMode) string {
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return fmt.Sprintf("owned by uid %d, not by this process's uid %d", uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&forbidden != 0 {
		what := "writable by others"
		if perm&forbidden&0o044 != 0 {
			what = "readable by others"
		}
		return fmt.Sprintf("%s (mode %04o)", what, perm)
	}
	return ""
}

// loadOrCreateKey reads the cache key, creating it (0600, atomically by a
// hard link, so that a concurrent Bind never reads half a key) if missing.
func loadOrCreateKey(path string) ([]byte, error) {
	for range 3 {
		key, err := readKey(path)
		if !errors.Is(err, fs.ErrNotExist) {
			return key, err
		}
		key = make([]byte, cacheKeySize)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
		f, err := os.CreateTemp(filepath.Dir(path), ".livebind-key-*.tmp")
		if err != nil {
			return nil, fmt.Errorf("livebind: cache: key: %w", err)
		}
		_, werr := f.Write(key)
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			_ = os.Remove(f.Name())
			return nil, fmt.Errorf("livebind: cache: key: %w", err)
		}
		lerr := os.Link(f.Name(), path)
		_ = os.Remove(f.Name())
		if lerr == nil {
			return key, nil
		}
		if !errors.Is(lerr, fs.ErrExist) {
			return nil, fmt.Errorf("livebind: cache: key: %w", lerr)
		}
		// Another Bind created it first: read theirs.
	}
	return nil, &cacheError{Path: path, Reason: "key file keeps disappearing"}
}

// readKey reads and checks an existing key file.
func readKey(path string) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, &cacheError{Path: path, Reason: "key file is a symbolic link"}
		}
		return nil, err
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("livebind: cache: key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &cacheError{Path: path, Reason: "key file is not a regular file"}
	}
	if reason := untrusted(fi, 0o077); reason != "" {
		return nil, &cacheError{Path: path, Reason: "key file " + reason}
	}
	key, err := io.ReadAll(io.LimitReader(f, cacheKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("livebind: cache: key: %w", err)
	}
	if len(key) != cacheKeySize {
		return nil, &cacheError{Path: path, Reason: fmt.Sprintf("key file holds %d bytes, want %d", len(key), cacheKeySize)}
	}
	return key, nil
}

// cachePath names t's cache file by a hash of its identity, so that no
// location (which could hold a credential) appears in a file name.
func (b *Binding[T]) cachePath(t *target) (string, bool) {
	if b.cache == nil || t.scheme.Local {
		return "", false
	}
	if t.spec.Secret && b.opts.cacheSeal == nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(t.identity()))
	return filepath.Join(b.cache.dir, "livebind-"+hex.EncodeToString(sum[:12])+".json"), true
}

// cacheLater notes t's observation r, to be saved by flushCache once the
// generation that holds its values is published: a value that Validate or
// an update= function rejects never reaches the cache.
func (b *Binding[T]) cacheLater(t *target, r sources.Result) {
	if b.cache == nil {
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
	e := cacheEntry{V: cacheVersion, Source: t.String(), Format: r.Format, Version: r.Version, Saved: time.Now().UTC(), Data: r.Data}
	if t.spec.Secret {
		e.Version = "" // a content hash of a secret can be brute-forced
		sealed, err := b.opts.cacheSeal(r.Data)
		if err != nil {
			b.log.Warn("livebind: cache: seal failed; not cached", "source", t.String(), "error", err)
			return
		}
		e.Data, e.Sealed = sealed, true
	}
	e.MAC = e.mac(b.cache.key, t.identity())
	if err := writeAtomic(path, e); err != nil {
		b.log.Warn("livebind: cache: write failed", "source", t.String(), "error", err)
	}
}

func writeAtomic(path string, e cacheEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
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
	// rename replaces whatever is at path, a symbolic link included, and
	// never writes through it.
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// maxCacheEntry bounds what loadCache reads: 16 MiB of data, base64 in JSON.
const maxCacheEntry = 24 << 20

// loadCache returns t's cached observation. It reports false when there is
// none; an entry that exists but fails a check is also an error, which
// says why it was refused.
func (b *Binding[T]) loadCache(t *target) (sources.Result, time.Time, bool, error) {
	path, ok := b.cachePath(t)
	if !ok {
		return sources.Result{}, time.Time{}, false, nil
	}
	refuse := func(reason string) (sources.Result, time.Time, bool, error) {
		return sources.Result{}, time.Time{}, false, &cacheError{Path: path, Reason: reason}
	}
	f, err := openNoFollow(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return sources.Result{}, time.Time{}, false, nil
	case isSymlinkErr(err):
		return refuse("entry is a symbolic link")
	case err != nil:
		return refuse(err.Error())
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return refuse(err.Error())
	}
	if !fi.Mode().IsRegular() {
		return refuse("entry is not a regular file")
	}
	if reason := untrusted(fi, 0o022); reason != "" {
		return refuse("entry " + reason)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxCacheEntry+1))
	if err != nil {
		return refuse(err.Error())
	}
	if len(raw) > maxCacheEntry {
		return refuse("entry larger than 24 MiB")
	}
	var e cacheEntry
	if err := json.Unmarshal(raw, &e); err != nil || len(e.Data) == 0 {
		return refuse("entry does not parse")
	}
	if e.V != cacheVersion || e.MAC == "" {
		return refuse("entry is not authenticated (written by an older livebind?)")
	}
	if !hmac.Equal([]byte(e.MAC), []byte(e.mac(b.cache.key, t.identity()))) {
		return refuse("entry fails authentication: changed, or copied from another source's entry")
	}
	if e.Sealed != t.spec.Secret {
		return refuse("entry sealing does not match the source's secrecy")
	}
	if e.Sealed {
		data, err := b.opts.cacheOpen(e.Data)
		if err != nil {
			return refuse("cannot open the sealed entry")
		}
		e.Data = data
	}
	return sources.Result{Data: e.Data, Format: e.Format, Version: e.Version}, e.Saved, true, nil
}

// fromCache replaces a failed Bind-time result of t with its cached value,
// if there is one that passes every check. The entry is checked even when
// the source answered, so that Status reports a tampered cache before it is
// needed. A refused entry is logged, noted for Status and, when the source
// failed, named in the result's error.
func (b *Binding[T]) fromCache(t *target, r sources.Result) (sources.Result, bool) {
	c, saved, ok, err := b.loadCache(t)
	if err != nil {
		b.log.Warn("livebind: cache: entry refused", "source", t.String(), "error", err)
		b.stat.noteCacheError(t, err)
		if r.Err != nil {
			r.Err = fmt.Errorf("%w (and the cached entry was refused: %w)", r.Err, err)
		}
		return r, false
	}
	if r.Err == nil || !ok {
		return r, false
	}
	b.log.Warn("livebind: source failed at Bind; starting from the cached value",
		"source", t.String(), "saved", saved, "error", r.Err)
	return c, true
}

// errCacheNeedsOpen reports WithCacheEncryption given only half.
var errCacheNeedsOpen = errors.New("livebind: WithCacheEncryption needs both seal and open")
