// Package vaulttest is an in-process HTTP server that speaks the part of
// HashiCorp Vault's HTTP API that livebind's vault source relies on, for tests
// that drive the real github.com/hashicorp/vault/api client. The real-server
// tests run against OpenBao (internal/testenv/baotest); this server stays for
// what a real one cannot produce on demand (malformed or oversized answers, a
// stalled request, canned 5xx) and for fast unit tests. It implements, from
// Vault's API documentation and the KV plugin's read handlers, the same status
// codes and JSON shapes:
//
//   - Every answer is Vault's envelope (request_id, lease_id, renewable,
//     lease_duration, data, wrap_info, warnings, auth, mount_type) or, for
//     errors, {"errors":[...]}; a missing secret is 404 {"errors":[]}.
//   - KV v2 (mounts made with [Server.MountKV] version 2): GET/POST/PUT/DELETE
//     <mount>/data/<path> (?version=N; options.cas on writes), GET/DELETE
//     <mount>/metadata/<path> (current_version, oldest_version and the
//     versions map with created_time, deletion_time and destroyed),
//     POST/PUT <mount>/delete/, /undelete/ and /destroy/<path>. A soft-deleted
//     or destroyed version reads as 404 WITH a body: data.data null and
//     data.metadata set, as Vault does. Any other path in a v2 mount is 404
//     with the plugin's "Invalid path for a versioned K/V secrets engine"
//     warning.
//   - KV v1: GET/POST/PUT/DELETE <mount>/<path>; reads carry Vault's default
//     lease_duration of 2764800 s (or the secret's own "ttl") and no lease_id.
//   - Mount detection: GET sys/internal/ui/mounts/<path> answers data.path,
//     data.type and data.options.version, and 403 ("preflight capability
//     check returned 403 ...") for a path without a mount or without any
//     access under it, as Vault does so that mounts cannot be enumerated.
//   - Tokens: auth/token/lookup-self, auth/token/renew-self (capped by the
//     token's max TTL, with Vault's "TTL ... capped" warning). An expired,
//     revoked or unknown token gets 403 {"errors":["permission denied"]}
//     everywhere. Each token has a policy: a list of path patterns (exact,
//     or a prefix ending in "*") that grant every operation; the default
//     policy's paths (lookup-self, renew-self, sys/leases/renew, ...) are
//     always allowed; the root token may do anything.
//   - Leased dynamic secrets: GET <mount>/creds/<role> on a mount made with
//     [Server.MountDatabase] returns new credentials with a lease_id,
//     lease_duration and renewable each time; PUT sys/leases/renew extends a
//     lease up to its max TTL (400 "lease not found" once it has expired or
//     been revoked, 400 "lease is not renewable" for a non-renewable one);
//     sys/leases/lookup and sys/leases/revoke.
//   - Seal: PUT sys/seal, PUT sys/unseal, GET sys/seal-status and sys/health.
//     While sealed, every other request gets 503 {"errors":["Vault is sealed"]}.
//
// Test hooks: a clock that starts at the real time and can be moved forward
// ([Server.Advance]) so token and lease expiry need no sleeping; request
// counts per path ([Server.Count], [Server.Requests]); requests that hang
// until released or abandoned ([Server.Stall]); canned answers for one path
// ([Server.Respond]) to send malformed payloads.
//
// Limits (not implemented): namespaces (the X-Vault-Namespace header is
// ignored), response wrapping, policies with capabilities, "+" globs or
// deny rules, LIST, PATCH, KV v2 config, metadata writes, custom_metadata,
// max_versions pruning and delete_version_after, auth methods other than
// pre-made tokens (no auth/token/create over HTTP), periodic and batch
// tokens, token num_uses, HA/standby answers (429/472/473), X-Vault-Index
// consistency (412), rate limit quotas, audit devices, and lease revocation
// side effects (credentials are strings; nothing is dropped when a lease
// ends). Lease and token expiry are checked lazily on each request, not by
// a background timer.
package vaulttest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// kvDefaultTTL is the lease_duration Vault reports on KV v1 reads: the
// system default lease TTL of 768h.
const kvDefaultTTL = 2764800

// Server is a protocol-faithful stand-in for a Vault server on 127.0.0.1.
// Its methods are safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	root string

	mu        sync.Mutex
	offset    time.Duration // added to the real clock by Advance
	sealed    bool
	tokens    map[string]*token
	mounts    map[string]*mount // by path with a trailing "/"
	leases    map[string]*lease
	counts    map[string]int // by logical path (no /v1/)
	requests  []string       // "METHOD path", in arrival order
	stalls    []*stall
	overrides map[string]override
	clients   []*http.Transport
}

type token struct {
	id        string
	accessor  string
	policies  []string
	root      bool
	ttl       time.Duration // creation TTL; 0: never expires
	renewable bool
	issued    time.Time
	expires   time.Time // zero: never
	maxExpire time.Time // zero: no max
	revoked   bool
}

type mount struct {
	path    string // with a trailing "/"
	typ     string // "kv" or "database"
	version int    // KV version, 0 for other types
	kv1     map[string]json.RawMessage
	kv2     map[string]*kv2Secret
	roles   map[string]*Role
}

type kv2Secret struct {
	current int
	oldest  int
	created time.Time
	updated time.Time
	vers    map[int]*kv2Version
}

type kv2Version struct {
	data      json.RawMessage // nil once destroyed
	created   time.Time
	deleted   time.Time // zero: not deleted
	destroyed bool
}

type lease struct {
	info    LeaseInfo
	revoked bool
}

// LeaseInfo describes one lease the server issued.
type LeaseInfo struct {
	// ID is the lease_id.
	ID string
	// Issued is when the credentials were read, on the server's clock.
	Issued time.Time
	// Expires is when the lease ends unless renewed, on the server's clock.
	Expires time.Time
	// MaxExpires is the end of the lease's max TTL.
	MaxExpires time.Time
	// Renewals counts successful renewals.
	Renewals int
	// Renewable reports whether the lease may be renewed.
	Renewable bool
	// Username and Password are the credentials handed out.
	Username, Password string
}

// Role configures the credentials of one role of a database mount.
type Role struct {
	// TTL is the lease_duration of new credentials and the default
	// renewal increment. Vault reports it in whole seconds.
	TTL time.Duration
	// MaxTTL caps every lease of the role, counted from its issue; 0 means
	// Vault's system maximum of 768h.
	MaxTTL time.Duration
	// Renewable reports whether leases may be renewed.
	Renewable bool
}

// TokenOptions configures a token made with [Server.CreateToken].
type TokenOptions struct {
	// Policies lists the paths the token may use: exact logical paths, or
	// prefixes ending in "*" (as "secret/data/app/*"). Every operation is
	// allowed on a listed path.
	Policies []string
	// TTL is the token's lifetime; 0 means it never expires.
	TTL time.Duration
	// MaxTTL caps renewals, counted from creation; 0 means no cap.
	MaxTTL time.Duration
	// Renewable lets auth/token/renew-self extend the token.
	Renewable bool
}

type stall struct {
	prefix string
	ch     chan struct{}
	once   sync.Once
}

type override struct {
	status int
	body   string
}

// New starts a server on 127.0.0.1, unsealed, with a root token, a KV v2
// mount at "secret/", a KV v1 mount at "kv1/" and a database mount at
// "database/". It is shut down when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		root:      "hvs." + randomID(12),
		tokens:    map[string]*token{},
		mounts:    map[string]*mount{},
		leases:    map[string]*lease{},
		counts:    map[string]int{},
		overrides: map[string]override{},
	}
	s.tokens[s.root] = &token{id: s.root, accessor: randomID(12), policies: []string{"root"}, root: true, issued: time.Now()}
	s.MountKV("secret", 2)
	s.MountKV("kv1", 1)
	s.MountDatabase("database")
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.mu.Lock()
	for _, st := range s.stalls {
		st.release()
	}
	s.stalls = nil
	clients := s.clients
	s.mu.Unlock()
	s.srv.Close()
	for _, t := range clients {
		t.CloseIdleConnections()
	}
}

// Addr returns the server's URL, as for VAULT_ADDR.
func (s *Server) Addr() string { return s.srv.URL }

// RootToken returns the token that may do anything and never expires.
func (s *Server) RootToken() string { return s.root }

// Client returns a real vault/api client for the server that sends token.
// It does not retry (MaxRetries 0), so that tests count requests exactly.
func (s *Server) Client(tb testing.TB, token string) *api.Client {
	tb.Helper()
	return s.ClientWith(tb, token, func(c *api.Config) { c.MaxRetries = 0 })
}

// ClientWith is Client with a hook that may change the client's
// configuration (retries, timeouts) before the client is made.
func (s *Server) ClientWith(tb testing.TB, token string, configure func(*api.Config)) *api.Client {
	tb.Helper()
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		tb.Fatalf("vaulttest: default config: %v", cfg.Error)
	}
	cfg.Address = s.srv.URL
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cfg.HttpClient = &http.Client{Transport: tr}
	if configure != nil {
		configure(cfg)
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		tb.Fatalf("vaulttest: client: %v", err)
	}
	c.SetToken(token)
	c.ClearNamespace()
	s.mu.Lock()
	s.clients = append(s.clients, tr)
	s.mu.Unlock()
	tb.Cleanup(tr.CloseIdleConnections)
	return c
}

// Now returns the server's clock: the real time plus every Advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) now() time.Time { return time.Now().Add(s.offset) }

// Advance moves the server's clock forward by d: tokens and leases expire
// as if d had passed.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// MountKV adds (or replaces) a KV mount of the given version (1 or 2) at
// path.
func (s *Server) MountKV(path string, version int) {
	m := &mount{path: mountPath(path), typ: "kv", version: version}
	m.kv1 = map[string]json.RawMessage{}
	m.kv2 = map[string]*kv2Secret{}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts[m.path] = m
}

// MountDatabase adds a database secrets engine at path with no roles.
func (s *Server) MountDatabase(path string) {
	m := &mount{path: mountPath(path), typ: "database", roles: map[string]*Role{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts[m.path] = m
}

// SetRole adds or changes a role of the database mount at path.
func (s *Server) SetRole(path, name string, r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mounts[mountPath(path)]
	if m == nil || m.typ != "database" {
		panic("vaulttest: no database mount at " + path)
	}
	m.roles[name] = &r
}

func mountPath(p string) string { return strings.Trim(p, "/") + "/" }

// CreateToken makes a token with the given policy and lifetime and returns
// it.
func (s *Server) CreateToken(o TokenOptions) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t := &token{
		id: "hvs." + randomID(12), accessor: randomID(12), policies: slices.Clone(o.Policies),
		ttl: o.TTL, renewable: o.Renewable, issued: now,
	}
	if o.TTL > 0 {
		t.expires = now.Add(o.TTL)
	}
	if o.MaxTTL > 0 {
		t.maxExpire = now.Add(o.MaxTTL)
	}
	s.tokens[t.id] = t
	return t.id
}

// RevokeToken revokes a token: every later request with it gets 403.
func (s *Server) RevokeToken(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[id]; t != nil {
		t.revoked = true
	}
}

// TokenExpiry returns when a token expires on the server's clock (zero if
// never) and whether the token exists.
func (s *Server) TokenExpiry(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[id]
	if t == nil {
		return time.Time{}, false
	}
	return t.expires, true
}

// Seal seals the server: every request but seal-status, unseal and health
// gets 503 until Unseal.
func (s *Server) Seal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = true
}

// Unseal unseals the server.
func (s *Server) Unseal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = false
}

// Lease returns what the server knows of a lease.
func (s *Server) Lease(id string) (LeaseInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.leases[id]
	if l == nil {
		return LeaseInfo{}, false
	}
	return l.info, true
}

// Leases returns every lease issued so far, oldest first.
func (s *Server) Leases() []LeaseInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LeaseInfo, 0, len(s.leases))
	for _, l := range s.leases {
		out = append(out, l.info)
	}
	slices.SortFunc(out, func(a, b LeaseInfo) int { return a.Issued.Compare(b.Issued) })
	return out
}

// Count returns how many requests reached the logical path (without /v1/,
// as "secret/metadata/db"), whatever their method and answer.
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

// Total returns how many requests reached the server.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns every request so far as "METHOD path", in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetCounts forgets the requests counted so far.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counts)
	s.requests = nil
}

// Stall makes every request whose logical path starts with prefix hang
// until release is called, the client gives up, or the server closes.
// Requests are counted before they hang.
func (s *Server) Stall(prefix string) (release func()) {
	st := &stall{prefix: prefix, ch: make(chan struct{})}
	s.mu.Lock()
	s.stalls = append(s.stalls, st)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.stalls = slices.DeleteFunc(s.stalls, func(x *stall) bool { return x == st })
		s.mu.Unlock()
		st.release()
	}
}

func (st *stall) release() { st.once.Do(func() { close(st.ch) }) }

// Respond makes the server answer every request for the logical path with
// status and body (sent as application/json) until remove is called. Use it
// for malformed payloads.
func (s *Server) Respond(path string, status int, body string) (remove func()) {
	s.mu.Lock()
	s.overrides[path] = override{status: status, body: body}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.overrides, path)
		s.mu.Unlock()
	}
}

// PutKV2 writes a new version of a KV v2 secret directly (without HTTP)
// and returns its version number.
func (s *Server) PutKV2(mountAt, path string, data map[string]any) int {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mounts[mountPath(mountAt)]
	if m == nil || m.version != 2 {
		panic("vaulttest: no KV v2 mount at " + mountAt)
	}
	return m.kv2Write(path, raw, s.now())
}

// request is one decoded request.
type request struct {
	method string
	path   string // logical path, no /v1/ and no trailing slash trimmed
	query  map[string][]string
	body   map[string]json.RawMessage
	tok    *token
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		writeErrors(w, http.StatusNotFound)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	s.mu.Lock()
	s.counts[path]++
	s.requests = append(s.requests, r.Method+" "+path)
	var st *stall
	for _, x := range s.stalls {
		if strings.HasPrefix(path, x.prefix) {
			st = x
			break
		}
	}
	ov, overridden := s.overrides[path]
	s.mu.Unlock()
	if st != nil {
		select {
		case <-st.ch:
		case <-r.Context().Done():
			return
		}
	}
	if overridden {
		w.WriteHeader(ov.status)
		_, _ = io.WriteString(w, ov.body)
		return
	}
	req := &request{method: r.Method, path: path, query: r.URL.Query()}
	if r.Body != nil && (r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			writeErrors(w, http.StatusBadRequest, "failed to read request body")
			return
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			if err := json.Unmarshal(b, &req.body); err != nil {
				writeErrors(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
				return
			}
		}
	}
	if r.Method == "LIST" || req.query["list"] != nil {
		writeErrors(w, http.StatusMethodNotAllowed, "vaulttest: LIST is not implemented")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch path {
	case "sys/seal-status":
		writeJSON(w, http.StatusOK, s.sealStatus())
		return
	case "sys/health":
		status := http.StatusOK
		if s.sealed {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, map[string]any{
			"initialized": true, "sealed": s.sealed, "standby": false,
			"server_time_utc": s.now().Unix(), "version": "1.14.0-vaulttest", "cluster_name": "vaulttest",
		})
		return
	case "sys/unseal":
		if r.Method != http.MethodPut && r.Method != http.MethodPost {
			writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
			return
		}
		var reset bool
		_ = json.Unmarshal(req.body["reset"], &reset)
		var key string
		_ = json.Unmarshal(req.body["key"], &key)
		if !reset && key == "" {
			writeErrors(w, http.StatusBadRequest, "'key' must be specified in request body as JSON, or 'reset' set to true")
			return
		}
		if !reset {
			s.sealed = false
		}
		writeJSON(w, http.StatusOK, s.sealStatus())
		return
	}
	if s.sealed {
		writeErrors(w, http.StatusServiceUnavailable, "Vault is sealed")
		return
	}
	now := s.now()
	tok := s.tokens[r.Header.Get("X-Vault-Token")]
	if tok == nil || tok.revoked || (!tok.expires.IsZero() && !now.Before(tok.expires)) {
		writeErrors(w, http.StatusForbidden, "permission denied")
		return
	}
	req.tok = tok
	s.route(w, req, now)
}

func (s *Server) sealStatus() api.SealStatusResponse {
	return api.SealStatusResponse{
		Type: "shamir", Initialized: true, Sealed: s.sealed, T: 1, N: 1,
		Version: "1.14.0-vaulttest", ClusterName: "vaulttest", StorageType: "inmem",
	}
}

// defaultPolicy lists the paths Vault's default policy lets every token use.
var defaultPolicy = []string{
	"auth/token/lookup-self", "auth/token/renew-self", "auth/token/revoke-self",
	"sys/leases/renew", "sys/leases/lookup", "sys/renew", "sys/capabilities-self",
}

// allowed reports whether t's policy grants path.
func (t *token) allowed(path string) bool {
	if t.root || slices.Contains(defaultPolicy, path) {
		return true
	}
	for _, p := range t.policies {
		if pre, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(path, pre) {
				return true
			}
		} else if p == path {
			return true
		}
	}
	return false
}

// hasMountAccess reports whether t may use any path under the mount, the
// check Vault makes before answering sys/internal/ui/mounts.
func (t *token) hasMountAccess(mountAt string) bool {
	if t.root {
		return true
	}
	for _, p := range t.policies {
		pre := strings.TrimSuffix(p, "*")
		if strings.HasPrefix(pre, mountAt) || strings.HasPrefix(mountAt, pre) {
			return true
		}
	}
	return false
}

// route answers an authenticated request. s.mu is held.
func (s *Server) route(w http.ResponseWriter, r *request, now time.Time) {
	switch {
	case r.path == "auth/token/lookup-self":
		s.lookupSelf(w, r, now)
		return
	case r.path == "auth/token/renew-self":
		s.renewSelf(w, r, now)
		return
	case strings.HasPrefix(r.path, "sys/internal/ui/mounts/"):
		s.uiMount(w, r)
		return
	case r.path == "sys/seal":
		if !r.tok.allowed(r.path) {
			writeErrors(w, http.StatusForbidden, "permission denied")
			return
		}
		s.sealed = true
		w.WriteHeader(http.StatusNoContent)
		return
	case r.path == "sys/leases/renew" || r.path == "sys/renew":
		s.renewLease(w, r, now)
		return
	case r.path == "sys/leases/lookup":
		s.lookupLease(w, r, now)
		return
	case r.path == "sys/leases/revoke":
		if !r.tok.allowed(r.path) {
			writeErrors(w, http.StatusForbidden, "permission denied")
			return
		}
		var id string
		_ = json.Unmarshal(r.body["lease_id"], &id)
		if l := s.leases[id]; l != nil {
			l.revoked = true
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !r.tok.allowed(r.path) {
		writeErrors(w, http.StatusForbidden, "permission denied")
		return
	}
	m := s.mountFor(r.path)
	if m == nil {
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", r.path))
		return
	}
	rel := strings.TrimPrefix(r.path, m.path)
	switch {
	case m.typ == "database":
		s.database(w, r, m, rel, now)
	case m.version == 2:
		s.kv2(w, r, m, rel, now)
	default:
		s.kv1(w, r, m, rel)
	}
}

// mountFor returns the mount that serves path (longest prefix), or nil.
func (s *Server) mountFor(path string) *mount {
	var best *mount
	for p, m := range s.mounts {
		if (strings.HasPrefix(path, p) || path+"/" == p) && (best == nil || len(p) > len(best.path)) {
			best = m
		}
	}
	return best
}

func (s *Server) uiMount(w http.ResponseWriter, r *request) {
	p := strings.TrimPrefix(r.path, "sys/internal/ui/mounts/")
	if p == "" {
		writeErrors(w, http.StatusBadRequest, "path not set")
		return
	}
	denied := fmt.Sprintf("preflight capability check returned 403, please ensure client's policies grant access to path %q", mountPath(p))
	m := s.mountFor(p)
	if m == nil || !r.tok.hasMountAccess(m.path) {
		writeErrors(w, http.StatusForbidden, denied)
		return
	}
	var options map[string]string
	if m.typ == "kv" {
		options = map[string]string{"version": strconv.Itoa(m.version)}
	}
	s.reply(w, http.StatusOK, envelope{Data: map[string]any{
		"accessor":                m.typ + "_" + randomID(4),
		"config":                  map[string]any{"default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0},
		"description":             "",
		"external_entropy_access": false,
		"local":                   false,
		"options":                 options,
		"path":                    m.path,
		"plugin_version":          "",
		"running_plugin_version":  "v1.14.0+builtin",
		"running_sha256":          "",
		"seal_wrap":               false,
		"type":                    m.typ,
		"uuid":                    randomUUID(),
	}})
}

func (s *Server) lookupSelf(w http.ResponseWriter, r *request, now time.Time) {
	t := r.tok
	var expire any
	ttl := int64(0)
	if !t.expires.IsZero() {
		expire = t.expires.UTC().Format(time.RFC3339Nano)
		ttl = int64(t.expires.Sub(now) / time.Second)
	}
	explicitMax := int64(0)
	if !t.maxExpire.IsZero() {
		explicitMax = int64(t.maxExpire.Sub(t.issued) / time.Second)
	}
	path := "auth/token/create"
	if t.root {
		path = "auth/token/root"
	}
	s.reply(w, http.StatusOK, envelope{Data: map[string]any{
		"accessor":         t.accessor,
		"creation_time":    t.issued.Unix(),
		"creation_ttl":     int64(t.ttl / time.Second),
		"display_name":     "token",
		"entity_id":        "",
		"expire_time":      expire,
		"explicit_max_ttl": explicitMax,
		"id":               t.id,
		"issue_time":       t.issued.UTC().Format(time.RFC3339Nano),
		"meta":             nil,
		"num_uses":         0,
		"orphan":           false,
		"path":             path,
		"policies":         t.policies,
		"renewable":        t.renewable,
		"ttl":              ttl,
		"type":             "service",
	}})
}

func (s *Server) renewSelf(w http.ResponseWriter, r *request, now time.Time) {
	if !writeMethod(w, r) {
		return
	}
	t := r.tok
	if !t.renewable || t.expires.IsZero() {
		writeErrors(w, http.StatusBadRequest, "lease is not renewable")
		return
	}
	inc, ok := bodyIncrement(w, r)
	if !ok {
		return
	}
	if inc <= 0 {
		inc = t.ttl
	}
	ttl, warn := capTTL(inc, now, t.maxExpire)
	t.expires = now.Add(ttl)
	env := envelope{Auth: map[string]any{
		"client_token": t.id, "accessor": t.accessor, "policies": t.policies, "token_policies": t.policies,
		"metadata": nil, "lease_duration": int64(ttl / time.Second), "renewable": t.renewable,
		"entity_id": "", "token_type": "service", "orphan": false, "mfa_requirement": nil, "num_uses": 0,
	}}
	if warn != "" {
		env.Warnings = []string{warn}
	}
	s.reply(w, http.StatusOK, env)
}

// capTTL cuts a requested TTL so that it ends no later than maxExpire (when
// set), with Vault's warning when it does.
func capTTL(want time.Duration, now, maxExpire time.Time) (time.Duration, string) {
	if maxExpire.IsZero() || !now.Add(want).After(maxExpire) {
		return want, ""
	}
	got := max(maxExpire.Sub(now), 0)
	return got, fmt.Sprintf("TTL of %q exceeded the effective max_ttl of %q; TTL value is capped accordingly",
		want.String(), got.Truncate(time.Second).String())
}

// writeMethod answers 405, as Vault, unless r is a PUT or a POST, the
// methods of a write; it reports whether r is one.
func writeMethod(w http.ResponseWriter, r *request) bool {
	if r.method != http.MethodPut && r.method != http.MethodPost {
		writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
		return false
	}
	return true
}

// bodyIncrement returns the increment of a renewal request, or answers 400
// and reports false when it is not valid.
func bodyIncrement(w http.ResponseWriter, r *request) (time.Duration, bool) {
	inc, err := increment(r.body["increment"])
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return 0, false
	}
	return inc, true
}

// increment parses a renewal increment: seconds as a number or a string
// ("60"), or a Go duration string ("1m").
func increment(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		secs, err := n.Int64()
		if err != nil {
			return 0, errors.New("invalid increment")
		}
		return time.Duration(secs) * time.Second, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return 0, errors.New("invalid increment")
	}
	if secs, err := strconv.ParseInt(str, 10, 64); err == nil {
		return time.Duration(secs) * time.Second, nil
	}
	d, err := time.ParseDuration(str)
	if err != nil {
		return 0, errors.New("invalid increment")
	}
	return d, nil
}

// liveLease returns the lease with the given id unless it is unknown,
// revoked or expired.
func (s *Server) liveLease(id string, now time.Time) *lease {
	l := s.leases[id]
	if l == nil || l.revoked || !now.Before(l.info.Expires) {
		return nil
	}
	return l
}

func (s *Server) renewLease(w http.ResponseWriter, r *request, now time.Time) {
	if !writeMethod(w, r) {
		return
	}
	var id string
	_ = json.Unmarshal(r.body["lease_id"], &id)
	if id == "" {
		writeErrors(w, http.StatusBadRequest, "lease_id must be specified")
		return
	}
	inc, ok := bodyIncrement(w, r)
	if !ok {
		return
	}
	l := s.liveLease(id, now)
	if l == nil {
		writeErrors(w, http.StatusBadRequest, "lease not found")
		return
	}
	if !l.info.Renewable {
		writeErrors(w, http.StatusBadRequest, "lease is not renewable")
		return
	}
	if inc <= 0 {
		inc = l.info.Expires.Sub(l.info.Issued) // the role's TTL at issue
		if m := s.mountFor(id); m != nil && m.roles != nil {
			if role := m.roles[roleOf(id, m)]; role != nil {
				inc = role.TTL
			}
		}
	}
	ttl, warn := capTTL(inc, now, l.info.MaxExpires)
	l.info.Expires = now.Add(ttl)
	l.info.Renewals++
	env := envelope{LeaseID: id, Renewable: true, LeaseDuration: int64(ttl / time.Second), MountType: "database"}
	if warn != "" {
		env.Warnings = []string{warn}
	}
	s.reply(w, http.StatusOK, env)
}

// roleOf extracts the role name from a lease id <mount>creds/<role>/<uuid>.
func roleOf(id string, m *mount) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(id, m.path), "creds/")
	role, _, _ := strings.Cut(rest, "/")
	return role
}

func (s *Server) lookupLease(w http.ResponseWriter, r *request, now time.Time) {
	var id string
	_ = json.Unmarshal(r.body["lease_id"], &id)
	l := s.liveLease(id, now)
	if l == nil {
		writeErrors(w, http.StatusBadRequest, "invalid lease")
		return
	}
	s.reply(w, http.StatusOK, envelope{Data: map[string]any{
		"id":           id,
		"issue_time":   l.info.Issued.UTC().Format(time.RFC3339Nano),
		"expire_time":  l.info.Expires.UTC().Format(time.RFC3339Nano),
		"last_renewal": nil,
		"renewable":    l.info.Renewable,
		"ttl":          int64(l.info.Expires.Sub(now) / time.Second),
	}})
}

func (s *Server) database(w http.ResponseWriter, r *request, m *mount, rel string, now time.Time) {
	role, ok := strings.CutPrefix(rel, "creds/")
	if !ok || role == "" || strings.Contains(role, "/") {
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", r.path))
		return
	}
	if r.method != http.MethodGet {
		writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	cfg := m.roles[role]
	if cfg == nil {
		writeErrors(w, http.StatusBadRequest, fmt.Sprintf("%q: role not found", role))
		return
	}
	id := m.path + "creds/" + role + "/" + randomID(12)
	maxTTL := cfg.MaxTTL
	if maxTTL <= 0 {
		maxTTL = kvDefaultTTL * time.Second // the system max_lease_ttl
	}
	ttl := min(cfg.TTL, maxTTL)
	info := LeaseInfo{
		ID: id, Issued: now, Expires: now.Add(ttl), MaxExpires: now.Add(maxTTL), Renewable: cfg.Renewable,
		Username: "v-token-" + role + "-" + randomID(5), Password: "A1a-" + randomID(10),
	}
	s.leases[id] = &lease{info: info}
	s.reply(w, http.StatusOK, envelope{
		LeaseID: id, Renewable: cfg.Renewable, LeaseDuration: int64(ttl / time.Second), MountType: "database",
		Data: map[string]any{"username": info.Username, "password": info.Password},
	})
}

func (s *Server) kv1(w http.ResponseWriter, r *request, m *mount, rel string) {
	if rel == "" {
		writeErrors(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", r.path))
		return
	}
	switch r.method {
	case http.MethodGet:
		raw, ok := m.kv1[rel]
		if !ok {
			writeErrors(w, http.StatusNotFound)
			return
		}
		ttl := int64(kvDefaultTTL)
		var probe map[string]any
		if json.Unmarshal(raw, &probe) == nil {
			if v, ok := probe["ttl"]; ok {
				if d, err := increment(mustJSON(v)); err == nil && d > 0 {
					ttl = int64(d / time.Second)
				}
			}
		}
		s.reply(w, http.StatusOK, envelope{LeaseDuration: ttl, Data: raw, MountType: "kv"})
	case http.MethodPut, http.MethodPost:
		if len(r.body) == 0 {
			writeErrors(w, http.StatusBadRequest, "missing data fields")
			return
		}
		m.kv1[rel] = mustJSON(r.body)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		delete(m.kv1, rel)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

// kv2Write adds a version and returns its number.
func (m *mount) kv2Write(path string, data json.RawMessage, now time.Time) int {
	sec := m.kv2[path]
	if sec == nil {
		sec = &kv2Secret{created: now, oldest: 1, vers: map[int]*kv2Version{}}
		m.kv2[path] = sec
	}
	sec.current++
	sec.updated = now
	sec.vers[sec.current] = &kv2Version{data: data, created: now}
	return sec.current
}

func versionMeta(v *kv2Version) map[string]any {
	return map[string]any{
		"created_time":  v.created.UTC().Format(time.RFC3339Nano),
		"deletion_time": timeString(v.deleted),
		"destroyed":     v.destroyed,
	}
}

// dataMeta is the metadata of version n, v, in the answer of a read or a
// write of a secret's data.
func dataMeta(v *kv2Version, n int) map[string]any {
	meta := versionMeta(v)
	meta["version"] = n
	meta["custom_metadata"] = nil
	return meta
}

// found returns the secret at path, or answers 404 (no message, as Vault
// does for a path with no secret) and returns nil.
func (m *mount) found(w http.ResponseWriter, path string) *kv2Secret {
	sec := m.kv2[path]
	if sec == nil {
		writeErrors(w, http.StatusNotFound)
	}
	return sec
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (s *Server) kv2(w http.ResponseWriter, r *request, m *mount, rel string, now time.Time) {
	op, path, _ := strings.Cut(rel, "/")
	if path == "" {
		switch op {
		case "data", "metadata", "delete", "undelete", "destroy":
			s.reply(w, http.StatusNotFound, envelope{Warnings: []string{"Non-listing operations on the root of a K/V v2 mount are not supported."}})
			return
		}
	}
	switch {
	case op == "data" && path != "":
		s.kv2Data(w, r, m, path, now)
	case op == "metadata" && path != "":
		s.kv2Metadata(w, r, m, path)
	case (op == "delete" || op == "undelete" || op == "destroy") && path != "":
		if !writeMethod(w, r) {
			return
		}
		var versions []int
		if err := json.Unmarshal(r.body["versions"], &versions); err != nil || len(versions) == 0 {
			writeErrors(w, http.StatusBadRequest, "no version number provided")
			return
		}
		if sec := m.kv2[path]; sec != nil {
			for _, n := range versions {
				v := sec.vers[n]
				if v == nil {
					continue
				}
				switch op {
				case "delete":
					if v.deleted.IsZero() && !v.destroyed {
						v.deleted = now
					}
				case "undelete":
					if !v.destroyed {
						v.deleted = time.Time{}
					}
				case "destroy":
					v.destroyed, v.data = true, nil
				}
			}
			sec.updated = now
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		sub := map[string]string{
			http.MethodGet: "get", http.MethodPut: "put", http.MethodPost: "put", http.MethodDelete: "delete", http.MethodPatch: "patch",
		}[r.method]
		s.reply(w, http.StatusNotFound, envelope{Warnings: []string{fmt.Sprintf(
			"Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv %s' for this operation.", sub)}})
	}
}

func (s *Server) kv2Data(w http.ResponseWriter, r *request, m *mount, path string, now time.Time) {
	switch r.method {
	case http.MethodGet:
		sec := m.found(w, path)
		if sec == nil {
			return
		}
		n := sec.current
		if vs := r.query["version"]; len(vs) > 0 {
			if x, err := strconv.Atoi(vs[0]); err == nil && x > 0 {
				n = x
			}
		}
		v := sec.vers[n]
		if v == nil {
			writeErrors(w, http.StatusNotFound)
			return
		}
		data := map[string]any{"data": nil, "metadata": dataMeta(v, n)}
		status := http.StatusOK
		if (!v.deleted.IsZero() && v.deleted.Before(now)) || v.destroyed {
			status = http.StatusNotFound
		} else {
			data["data"] = v.data
		}
		s.reply(w, status, envelope{Data: data, MountType: "kv"})
	case http.MethodPut, http.MethodPost:
		raw, ok := r.body["data"]
		var obj map[string]json.RawMessage
		if !ok || json.Unmarshal(raw, &obj) != nil || obj == nil {
			writeErrors(w, http.StatusBadRequest, "no data provided")
			return
		}
		sec := m.kv2[path]
		if opts, ok := r.body["options"]; ok {
			var o map[string]json.RawMessage
			_ = json.Unmarshal(opts, &o)
			if casRaw, ok := o["cas"]; ok {
				var cas int
				if err := json.Unmarshal(casRaw, &cas); err != nil {
					writeErrors(w, http.StatusBadRequest, "error parsing check-and-set parameter")
					return
				}
				cur := 0
				if sec != nil {
					cur = sec.current
				}
				if cas != cur {
					writeErrors(w, http.StatusBadRequest, "check-and-set parameter did not match the current version")
					return
				}
			}
		}
		n := m.kv2Write(path, mustJSON(obj), now)
		s.reply(w, http.StatusOK, envelope{Data: dataMeta(m.kv2[path].vers[n], n), MountType: "kv"})
	case http.MethodDelete:
		if sec := m.kv2[path]; sec != nil {
			if v := sec.vers[sec.current]; v != nil && v.deleted.IsZero() && !v.destroyed {
				v.deleted = now
				sec.updated = now
			}
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

func (s *Server) kv2Metadata(w http.ResponseWriter, r *request, m *mount, path string) {
	switch r.method {
	case http.MethodGet:
		sec := m.found(w, path)
		if sec == nil {
			return
		}
		versions := map[string]any{}
		for _, n := range slices.Sorted(maps.Keys(sec.vers)) {
			versions[strconv.Itoa(n)] = versionMeta(sec.vers[n])
		}
		s.reply(w, http.StatusOK, envelope{Data: map[string]any{
			"cas_required":         false,
			"created_time":         sec.created.UTC().Format(time.RFC3339Nano),
			"current_version":      sec.current,
			"custom_metadata":      nil,
			"delete_version_after": "0s",
			"max_versions":         0,
			"oldest_version":       sec.oldest,
			"updated_time":         sec.updated.UTC().Format(time.RFC3339Nano),
			"versions":             versions,
		}, MountType: "kv"})
	case http.MethodDelete:
		delete(m.kv2, path)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

// envelope is Vault's response body for every successful (and some 404)
// answers.
type envelope struct {
	RequestID     string   `json:"request_id"`
	LeaseID       string   `json:"lease_id"`
	Renewable     bool     `json:"renewable"`
	LeaseDuration int64    `json:"lease_duration"`
	Data          any      `json:"data"`
	WrapInfo      any      `json:"wrap_info"`
	Warnings      []string `json:"warnings"`
	Auth          any      `json:"auth"`
	MountType     string   `json:"mount_type"`
}

func (s *Server) reply(w http.ResponseWriter, status int, e envelope) {
	e.RequestID = randomUUID()
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeErrors answers Vault's error shape; no messages gives {"errors":[]}.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	b, _ := json.Marshal(map[string][]string{"errors": msgs})
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUUID() string {
	h := randomID(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
