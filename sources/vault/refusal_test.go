package vault_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind"
	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/vaulttest"
	"github.com/livebind/livebind/sources/vault"
)

// userLog numbers usernames in the order they are first seen.
type userLog struct {
	sync.Mutex
	users []string
}

// see returns the number of user: 0 for the first one seen.
func (l *userLog) see(user string) int {
	l.Lock()
	defer l.Unlock()
	if i := slices.Index(l.users, user); i >= 0 {
		return i
	}
	l.users = append(l.users, user)
	return len(l.users) - 1
}

var errCannotLogIn = errors.New("cannot log in")

// picky refuses the second credentials it is given, as a pool that cannot
// log in with them. Only TestBindRefusedCredentialsAreReplaced binds it.
type picky struct {
	Creds DBCreds `live:"vault=database/creds/app; secret; update=SetCreds"`
}

var pickyUsers userLog

func (c *picky) SetCreds(next DBCreds) error {
	if pickyUsers.see(next.Username) == 1 {
		return errCannotLogIn
	}
	c.Creds = next
	return nil
}

// bindRefusing binds T to a database role whose first lease lasts ttl and
// whose later ones last an hour, and waits until T's update= method
// refuses the credentials of the rotation. It returns the binding, its
// updates, the server, the position of the refusal among the updates and
// when it came.
func bindRefusing[T any](t *testing.T, ttl, maxBackoff time.Duration) (*livebind.Binding[T], *fixture.Log[livebind.Update], *vaulttest.Server, int, time.Time) {
	t.Helper()
	s := vaulttest.New(t)
	s.SetRole("database", "app", vaulttest.Role{TTL: ttl, MaxTTL: ttl})
	b, rec, _ := bind[T](t, vault.Config{Client: s.Client(t, s.RootToken()), MaxBackoff: maxBackoff})
	s.SetRole("database", "app", vaulttest.Role{TTL: time.Hour, MaxTTL: time.Hour, Renewable: true})
	i, u, at := rec.Wait(t, 0, "the rotation refused", func(u livebind.Update) bool {
		return u.Kind == livebind.Error && errors.Is(u.Err, livebind.ErrUpdate)
	})
	require.Equal(t, "Creds", u.Field)
	return b, rec, s, i, at
}

// TestBindRefusedCredentialsAreReplaced: when the update= method refuses
// new credentials, the source hears of it (sources.Rejecter) and reads new
// ones after a short backoff; they are published. Without that it would
// keep the refused credentials, whose lease is an hour long here, until
// their rotation point.
func TestBindRefusedCredentialsAreReplaced(t *testing.T) {
	t.Parallel()
	b, rec, s, i, refusedAt := bindRefusing[picky](t, 2*time.Second, 2*time.Second)
	require.Equal(t, s.Leases()[0].Username, b.Get().Creds.Username, "the refused credentials are not published")
	_, _, at := rec.Wait(t, i+1, "new credentials", func(u livebind.Update) bool {
		return u.Kind == livebind.Updated && u.Field == "Creds"
	})
	t.Logf("new credentials published %s after the refusal", at.Sub(refusedAt).Round(time.Millisecond))
	require.Less(t, at.Sub(refusedAt), 5*time.Second, "read again after a short backoff, not at the rotation point")
	leases := s.Leases()
	require.Len(t, leases, 3, "the first, the refused and the new credentials")
	require.Equal(t, leases[2].Username, b.Get().Creds.Username)
	require.Equal(t, uint64(1), b.Status().Rejected)
}

// stubborn accepts only the first credentials it is given. Only
// TestBindRefusalsBackOff binds it.
type stubborn struct {
	Creds DBCreds `live:"vault=database/creds/app; secret; update=SetCreds"`
}

var stubbornUsers userLog

func (c *stubborn) SetCreds(next DBCreds) error {
	if stubbornUsers.see(next.Username) > 0 {
		return errCannotLogIn
	}
	c.Creds = next
	return nil
}

// TestBindRefusalsBackOff: credentials refused again and again are read
// anew after waits that double (125-250 ms, then 250-500 ms ... capped by
// MaxBackoff), never in a loop: each read makes a database user.
func TestBindRefusalsBackOff(t *testing.T) {
	t.Parallel()
	b, _, s, _, start := bindRefusing[stubborn](t, time.Second, time.Second)
	before := len(s.Leases())
	time.Sleep(3 * time.Second)
	reads := len(s.Leases()) - before
	t.Logf("%d reads of refused credentials in the %s after the first refusal", reads, time.Since(start).Round(time.Millisecond))
	// Waits from 125 ms doubling to the 1 s cap: about 5 reads in 3 s; a
	// loop without backoff would make hundreds.
	require.GreaterOrEqual(t, reads, 2, "refused credentials are replaced again and again")
	require.LessOrEqual(t, reads, 8, "and the reads back off")
	require.Equal(t, s.Leases()[0].Username, b.Get().Creds.Username, "the accepted credentials stay published")
}
