package livebind

import (
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type validatedRemote struct {
	Remote struct {
		Name string `json:"name"`
	} `live:"http=http://${ADDR}/conf.json; poll=10ms"`
}

func (c *validatedRemote) Validate() error {
	if c.Remote.Name == "bad" {
		return errors.New("name bad not allowed")
	}
	return nil
}

func TestRegressionCacheStoresRejectedValue(t *testing.T) {
	cdir := t.TempDir()
	var body atomic.Value
	body.Store(`{"name":"good"}`)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body.Load().(string)))
	})}
	go func() { _ = srv.Serve(ln) }()
	env := newEnv("ADDR", ln.Addr().String())
	var c1 validatedRemote
	b, err := Bind(t.Context(), &c1, WithLookupEnv(env.lookup), WithCache(cdir))
	require.NoError(t, err)
	rec := record(t, b)
	body.Store(`{"name":"bad"}`)
	u, _ := rec.until(t, wait, func(u Update) bool { return u.Kind == Error })
	t.Log(u)
	require.Equal(t, "good", b.Get().Remote.Name)
	require.NoError(t, b.Close())
	_ = srv.Close() // remote down; restart

	var c2 validatedRemote
	b2, err := Bind(t.Context(), &c2, WithLookupEnv(env.lookup), WithCache(cdir))
	require.NoError(t, err, "the last known good value was \"good\"")
	defer b2.Close()
	assert.Equal(t, "good", c2.Remote.Name)
}
