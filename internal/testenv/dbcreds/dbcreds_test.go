package dbcreds_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/baotest"
	"github.com/livebind/livebind/internal/testenv/dbcreds"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEngine: a configured engine issues working credentials for an
// allowed role, answers 500 for a role missing from allowed_roles, and
// revoking a lease ends the user's open session and drops the user.
func TestEngine(t *testing.T) {
	pg, _, e := baotest.StartDatabase(t, "", "app")
	for _, role := range []string{"app", "other"} {
		if err := e.Role(t.Context(), role, 5*time.Second, 15*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	var creds struct {
		LeaseID string `json:"lease_id"`
		Data    struct{ Username, Password string }
	}
	if err := e.Do(t.Context(), http.MethodGet, "database/creds/app", nil, &creds); err != nil {
		t.Fatal(err)
	}
	if got := pg.SQL("select count(*) from pg_roles where rolname = '" + creds.Data.Username + "'"); got != "1" {
		t.Fatalf("user %s: %s roles", creds.Data.Username, got)
	}
	err := e.Do(t.Context(), http.MethodGet, "database/creds/other", nil, nil)
	if err == nil || !contains(err.Error(), "500", "not an allowed role") {
		t.Fatalf("a role missing from allowed_roles: %v, want a 500", err)
	}
	if err := e.Do(t.Context(), http.MethodPut, "sys/leases/revoke", map[string]string{"lease_id": creds.LeaseID}, nil); err != nil {
		t.Fatal(err)
	}
	if got := pg.SQL("select count(*) from pg_roles where rolname like '" + dbcreds.Prefix + "%'"); got != "0" {
		t.Fatalf("%s users left after revocation", got)
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
