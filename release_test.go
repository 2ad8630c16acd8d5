package livebind

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/childtest"
)

// resource stands for a connection pool: opened by an update= method,
// closed by Release.
type resource struct {
	name   string
	closed bool
}

// resources records every resource opened, to check that exactly the
// published one is left open.
type resources struct {
	mu   sync.Mutex
	all  []*resource
	fail string // a name SetName refuses, as a pool whose credentials do not work
}

func (rs *resources) open(name string) *resource {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := &resource{name: name}
	rs.all = append(rs.all, r)
	return r
}

// open returns the names of the resources still open.
func (rs *resources) openNames() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []string
	for _, r := range rs.all {
		if !r.closed {
			out = append(out, r.name)
		}
	}
	return out
}

// eventually waits until exactly the resources named are open: Release
// runs on the applier just after the update is handed to subscribers.
func (rs *resources) eventually(t *testing.T, names ...string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, names, rs.openNames())
	}, wait, 5*time.Millisecond)
}

type pooledConfig struct {
	Name  string     `live:"env=REL_NAME; poll=10ms; update=SetName"`
	Mode  string     `live:"env=REL_MODE; poll=10ms; when=Name != \"\""`
	Res   *resource  `live:"-"`
	Rs    *resources `live:"-"`
	Panic bool       `live:"-"`
}

// SetName opens a resource for the name, or fails for rs.fail (phase one).
func (c *pooledConfig) SetName(next string) error {
	if next == c.Rs.fail {
		return assert.AnError
	}
	c.Name, c.Res = next, c.Rs.open(next)
	return nil
}

func (c *pooledConfig) Validate() error {
	if c.Name == "invalid" {
		return assert.AnError
	}
	return nil
}

// Release closes the dropped snapshot's resource unless c keeps it (phase
// two).
func (c *pooledConfig) Release(dropped *pooledConfig) {
	if c.Panic {
		panic("release")
	}
	if dropped.Res != nil && dropped.Res != c.Res {
		c.Rs.mu.Lock()
		dropped.Res.closed = true
		c.Rs.mu.Unlock()
	}
}

// TestReleaseClosesWhatIsNotPublished: whatever an update= method built is
// released once it is no longer published (the previous generation) or was
// never published (a candidate rejected by the update= method, by Validate,
// or built at Bind to evaluate conditions): only the current one stays open.
func TestReleaseClosesWhatIsNotPublished(t *testing.T) {
	t.Parallel()
	env := newEnv("REL_NAME", "a", "REL_MODE", "m")
	rs := &resources{fail: "broken"}
	cfg := pooledConfig{Rs: rs}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	rec := record(t, b)
	require.Equal(t, []string{"a"}, rs.openNames(), "Bind's condition candidates are released")
	assert.Len(t, rs.all, 2, "SetName runs once per condition round at Bind: before Mode's target loads and after")
	first := b.Get().Res

	env.set("REL_NAME", "b")
	rec.until(t, wait, func(u Update) bool { return u.Kind == Updated && u.Field == "Name" })
	rs.eventually(t, "b")
	rs.mu.Lock()
	assert.True(t, first.closed, "the previous generation's resource is released")
	rs.mu.Unlock()

	env.set("REL_NAME", "invalid") // built, then rejected by Validate
	rec.until(t, wait, func(u Update) bool { return u.Kind == Error })
	rs.eventually(t, "b") // the rejected candidate's resource is released, the current one stays
	assert.Equal(t, "b", b.Get().Res.name)

	env.set("REL_NAME", "broken") // the update= method fails: nothing built
	rec.until(t, wait, func(u Update) bool { return u.Kind == Error })
	rs.eventually(t, "b")

	env.set("REL_NAME", "c")
	rec.until(t, wait, func(u Update) bool { return u.Kind == Updated && u.Field == "Name" })
	rs.eventually(t, "c")
	require.NoError(t, b.Reload(t.Context()), "a Reload that changes nothing")
	rs.eventually(t, "c") // the candidate that changed nothing is released
}

// TestReleasePanicIsContained: a panicking Release is logged; the binding
// goes on publishing. In a child process: Release runs in Bind and on the
// applier, so an unrecovered panic kills the test binary.
func TestReleasePanicIsContained(t *testing.T) {
	t.Parallel()
	childtest.Require(t, childtest.Limits{Timeout: 60 * time.Second}, func(t *testing.T) { //nolint:thelper // a child-process test body, not a helper
		env := newEnv("REL_NAME", "a", "REL_MODE", "m")
		cfg := pooledConfig{Rs: &resources{}, Panic: true}
		b, err := Bind(t.Context(), &cfg, WithLookupEnv(env.lookup))
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() })
		rec := record(t, b)
		env.set("REL_NAME", "b")
		rec.until(t, wait, func(u Update) bool { return u.Kind == Updated && u.Field == "Name" })
		env.set("REL_NAME", "c")
		rec.until(t, wait, func(u Update) bool { return u.Kind == Updated && u.Field == "Name" })
		assert.Equal(t, "c", b.Get().Name)
	})
}

// singlePool has an update= field and no when= condition.
type singlePool struct {
	Name string     `live:"env=REL_NAME; update=SetName"`
	Res  *resource  `live:"-"`
	Rs   *resources `live:"-"`
}

func (c *singlePool) SetName(next string) error {
	c.Name, c.Res = next, c.Rs.open(next)
	return nil
}

// TestUpdateRunsOnceAtBind: without conditions Bind builds one candidate, so
// an update= method that opens a pool opens exactly one.
func TestUpdateRunsOnceAtBind(t *testing.T) {
	t.Parallel()
	rs := &resources{}
	cfg := singlePool{Rs: rs}
	b, err := Bind(t.Context(), &cfg, WithLookupEnv(newEnv("REL_NAME", "a").lookup))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	assert.Equal(t, []string{"a"}, rs.openNames())
	assert.Len(t, rs.all, 1, "one pool opened at Bind")
	assert.Equal(t, "a", b.Get().Res.name)
}
