package vault

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/livebind/livebind/sources"
)

// kind is how a secret is read and followed.
type kind int

const (
	// kindKV1 is a KV v1 secret: read, then polled and compared.
	kindKV1 kind = iota + 1
	// kindKV2 is a KV v2 secret: its version is polled through metadata.
	kindKV2
	// kindGeneric is a secret of another engine: followed by its lease if
	// it has one (dynamic credentials), else polled like KV v1.
	kindGeneric
	// kindIssue is a certificate issued by a write to a PKI mount's
	// <mount>/issue/<role> (write=): followed by its lease, or by the
	// certificate's expiration when the role gives no lease.
	kindIssue
)

// resolved is a secret with its mount known: how to read it and where.
type resolved struct {
	kind kind
	path string // the path read: <mount>data/<name> for KV v2
	meta string // <mount>metadata/<name> for KV v2
	body string // kindIssue: the JSON body of the write
}

// resolve decides how to read s: from kv= and mount= when given, else from
// the mount Vault reports for the path (cached per mount).
func (d *driver) resolve(ctx context.Context, s spec) (resolved, *Error) {
	if s.kv == 1 || (s.kv == 2 && s.mount != "") {
		return d.resolveWith(s, mountInfo{})
	}
	m, err := d.mountOf(ctx, s)
	if err != nil {
		return resolved{}, err
	}
	return d.resolveWith(s, m)
}

// resolveWith resolves s given its options and the mount that holds it
// (zero when unknown or not needed).
func (d *driver) resolveWith(s spec, m mountInfo) (resolved, *Error) {
	switch {
	case s.write != "":
		return issueResolved(s, m)
	case s.kv == 1:
		return resolved{kind: kindKV1, path: s.path}, nil
	case s.kv == 2 && s.mount != "":
		return kv2Resolved(s, s.mount)
	case s.kv == 2 || m.version == 2:
		return kv2Resolved(s, m.path)
	case m.version == 1:
		return resolved{kind: kindKV1, path: s.path}, nil
	default:
		return resolved{kind: kindGeneric, path: s.path}, nil
	}
}

// issueResolved checks that a write= target writes to <mount>/issue/<role>
// of a PKI mount, and nothing else: a write is sent only where it issues
// a certificate.
func issueResolved(s spec, m mountInfo) (resolved, *Error) {
	role, _ := issueRole(s.path)
	if m.typ != "pki" || s.path != m.path+"issue/"+role {
		typ := m.typ
		if typ == "" {
			typ = "unknown"
		}
		return resolved{}, &Error{Op: "issue", Path: s.path, Err: fmt.Errorf(
			"write= is only for <mount>/issue/<role> of a PKI mount; the mount of this path is %q (type %s)",
			sources.Clip(strings.TrimSuffix(m.path, "/"), sources.MaxServerText), sources.Clip(typ, sources.MaxServerText))}
	}
	return resolved{kind: kindIssue, path: s.path, body: s.write}, nil
}

func kv2Resolved(s spec, mount string) (resolved, *Error) {
	data, meta, err := kvPaths(s.path, mount)
	if err != nil {
		return resolved{}, &Error{Op: "read", Path: s.path, Err: err}
	}
	return resolved{kind: kindKV2, path: data, meta: meta}, nil
}

// resolveKnown resolves s without a request, from kv= and mount= or a
// mount detected before. d.mu is held.
func (d *driver) resolveKnown(s spec) (resolved, bool) {
	if s.kv == 1 || (s.kv == 2 && s.mount != "") {
		r, err := d.resolveWith(s, mountInfo{})
		return r, err == nil
	}
	m, ok := d.cachedMount(s.path)
	if !ok {
		return resolved{}, false
	}
	r, err := d.resolveWith(s, m)
	return r, err == nil
}

// mountOf returns the mount that serves s.path: from the cache, else from
// sys/internal/ui/mounts/<path>. Vault answers 403 both for a path without
// a mount and for a token without any access under the mount; with kv=2
// the driver then takes the path's first segment as the mount. A 404 (a
// Vault too old to have the endpoint) means a plain read.
func (d *driver) mountOf(ctx context.Context, s spec) (mountInfo, *Error) {
	d.mountMu.Lock()
	defer d.mountMu.Unlock()
	d.mu.Lock()
	m, ok := d.cachedMount(s.path)
	d.mu.Unlock()
	if ok {
		return m, nil
	}
	const op = "detect the mount of"
	status, body, err := d.get(ctx, op, "sys/internal/ui/mounts/"+s.path)
	switch {
	case err != nil && s.kv == 2 && err.StatusCode == http.StatusForbidden:
		first, _, _ := strings.Cut(s.path, "/")
		m := mountInfo{path: first + "/", typ: "kv", version: 2}
		d.logger.Debug("vault: mount detection denied; taking the first segment as the KV v2 mount",
			"path", s.path, "mount", m.path)
		return m, nil
	case err != nil:
		err.Path = s.path
		if err.StatusCode == http.StatusForbidden {
			err.Err = fmt.Errorf("%w (no mount at this path, or the token may use nothing under it; "+
				"with kv=2 and mount= the driver skips detection)", err.Err)
		}
		return mountInfo{}, err
	case status == http.StatusNotFound:
		d.logger.Debug("vault: no mount detection endpoint; reading the path as it is", "path", s.path)
		return mountInfo{}, nil
	}
	m, perr := parseMount(body)
	if perr != nil {
		return mountInfo{}, &Error{Op: op, Path: s.path, StatusCode: status, Err: perr}
	}
	if !strings.HasPrefix(s.path+"/", m.path) {
		return mountInfo{}, &Error{
			Op: op, Path: s.path, StatusCode: status,
			Err: fmt.Errorf("%w: Vault names the mount %q, which does not hold the path", ErrMalformed,
				sources.Clip(m.path, sources.MaxServerText)),
		}
	}
	d.logger.Debug("vault: mount detected", "path", s.path, "mount", m.path, "type", sources.Clip(m.typ, sources.MaxServerText), "kv_version", m.version)
	d.mu.Lock()
	d.mounts = append(d.mounts, m)
	d.mu.Unlock()
	return m, nil
}

// cachedMount returns the known mount that holds path. Vault refuses
// mounts nested in one another, so at most one matches. d.mu is held.
func (d *driver) cachedMount(path string) (mountInfo, bool) {
	for _, m := range d.mounts {
		if strings.HasPrefix(path+"/", m.path) {
			return m, true
		}
	}
	return mountInfo{}, false
}
