// Package dbcreds configures OpenBao's (or Vault's) database secrets engine
// for a PostgreSQL server, as ../shared/testservers/postgres-openbao.md
// verified: the engine mounted, one connection with its allowed roles, and
// roles whose revocation ends the sessions of the user it drops (revoking
// a lease alone does not end open sessions). It talks plain HTTP to the
// /v1 API, so it needs no client library; tests and the db_rotation
// example share it. It is test and example support, not part of
// livebind's API.
package dbcreds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Creation, revocation and renewal statements of the dynamic roles.
// Revocation ends the user's sessions first (pitfall 2 of the recipe),
// then drops what it owns and the role (pitfall 3: a bare DROP ROLE fails
// on a role with grants).
var (
	CreationStatements = []string{
		`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
		`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`,
	}
	RevocationStatements = []string{
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';`,
		`DROP OWNED BY "{{name}}";`,
		`DROP ROLE IF EXISTS "{{name}}";`,
	}
)

// Prefix is how every user of a dynamic role begins
// (v-<token display name>-<role>-<random>-<unix time>).
const Prefix = "v-"

// Engine is a database secrets engine on a Vault-API server.
type Engine struct {
	// Addr is the server's base URL (http://127.0.0.1:P), Token a token
	// that may configure the engine (the dev server's root token).
	Addr, Token string
	// Mount is where the engine is mounted; "database" if empty.
	Mount string
	// Conn is the connection's name; "pg" if empty.
	Conn string
}

func (e Engine) mount() string { return cmpOr(e.Mount, "database") }
func (e Engine) conn() string  { return cmpOr(e.Conn, "pg") }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Configure mounts the engine and writes its connection to PostgreSQL at
// 127.0.0.1:port as the superuser postgres with adminPassword. Only the
// roles listed in allowed may issue credentials ("*" for any); the server
// answers 500 for the others. The server checks the connection.
func (e Engine) Configure(ctx context.Context, port int, adminPassword string, allowed ...string) error {
	if err := e.Do(ctx, http.MethodPost, "sys/mounts/"+e.mount(), map[string]any{"type": "database"}, nil); err != nil {
		return err
	}
	return e.Connection(ctx, port, adminPassword, allowed...)
}

// Connection writes (or rewrites) the connection alone, as Configure does.
func (e Engine) Connection(ctx context.Context, port int, adminPassword string, allowed ...string) error {
	return e.Do(ctx, http.MethodPost, e.mount()+"/config/"+e.conn(), map[string]any{
		"plugin_name":    "postgresql-database-plugin",
		"connection_url": fmt.Sprintf("postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", port),
		"username":       "postgres",
		"password":       adminPassword,
		"allowed_roles":  strings.Join(allowed, ","),
	}, nil)
}

// Role writes a dynamic role with the statements above and the given
// default and maximum TTLs (whole seconds).
func (e Engine) Role(ctx context.Context, name string, ttl, maxTTL time.Duration) error {
	return e.Do(ctx, http.MethodPost, e.mount()+"/roles/"+name, map[string]any{
		"db_name":               e.conn(),
		"creation_statements":   CreationStatements,
		"revocation_statements": RevocationStatements,
		"default_ttl":           int(ttl.Seconds()),
		"max_ttl":               int(maxTTL.Seconds()),
	}, nil)
}

// StaticRole writes a static role for the existing PostgreSQL user, whose
// password the engine rotates every period (at least 5 s). Writing it
// rotates the password at once.
func (e Engine) StaticRole(ctx context.Context, name, user string, period time.Duration) error {
	return e.Do(ctx, http.MethodPost, e.mount()+"/static-roles/"+name, map[string]any{
		"db_name": e.conn(), "username": user, "rotation_period": int(period.Seconds()),
	}, nil)
}

// Do sends one request to /v1/<path> with e.Token and decodes a JSON
// answer into out (if not nil). A status other than 2xx is an error that
// quotes the server's error list (which holds no secret).
func (e Engine) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(e.Addr, "/")+"/v1/"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-Vault-Token", e.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("dbcreds: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("dbcreds: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Errors []string }
		_ = json.Unmarshal(data, &e)
		return fmt.Errorf("dbcreds: %s %s: %d %q", method, path, resp.StatusCode, e.Errors)
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}
