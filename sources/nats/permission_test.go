package nats_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livebind/livebind/internal/testenv/fixture"
	"github.com/livebind/livebind/internal/testenv/natstest"
	"github.com/livebind/livebind/sources"
	lbnats "github.com/livebind/livebind/sources/nats"
)

// permPassword is the password of the user of permConf.
const permPassword = "perm-secret-0123456789"

// permConf lets user app subscribe to anything but app.secret.
const permConf = `authorization { users = [
  {user: app, password: "` + permPassword + `", permissions: {subscribe: {deny: ["app.secret"]}}}
] }`

// captureStderr sends what is written to os.Stderr to a buffer until the
// returned function, which gives it back.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stderr
	os.Stderr = w
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { defer close(done); _, _ = io.Copy(&buf, r) }()
	var once sync.Once
	stop := func() string {
		once.Do(func() {
			os.Stderr = old
			_ = w.Close()
			<-done
			_ = r.Close()
		})
		return buf.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}

// TestSubjectPermissionDenied: the user may not subscribe to one subject.
// Its field gets an ErrAuth error naming the subject (it heard nothing
// before, for ever); another subject on the same connection goes on. The
// client's asynchronous errors go to the driver's logger, without the
// password, never to the process's stderr (nats.go's default handler).
func TestSubjectPermissionDenied(t *testing.T) {
	s := natstest.Start(t, natstest.WithConfig(permConf))
	o := options(s)
	o.User, o.Password = "app", permPassword
	nc, err := o.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)

	stderr := captureStderr(t)
	var logs fixture.Buffer
	sch, _ := sources.Lookup("nats")
	cfg := lbnats.Config{Options: o, MaxBackoff: 200 * time.Millisecond}
	d, err := sch.Open(sources.Config{Value: cfg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer d.Close()

	secret, mode := target("subject:app.secret", nil), target("subject:app.mode", nil)
	logS := watch(t, d, secret, d.Read(ctx(t), secret))
	logM := watch(t, d, mode, d.Read(ctx(t), mode))
	r := logS.Expect(t, "an ErrAuth error for the refused subject", isErr(sources.ErrAuth))
	var e *lbnats.Error
	require.True(t, errors.As(r.Err, &e))
	require.Equal(t, "app.secret", e.Subject)
	require.ErrorIs(t, r.Err, sources.ErrAuth)
	publish(t, nc, logM, "app.mode", "one")
	logM.Expect(t, "a message on the subject allowed", fixture.IsData("one"))
	require.NoError(t, nc.Publish("app.secret", []byte("hidden")))
	require.NoError(t, nc.Flush())
	fixture.ClosePrompt(t, d)

	require.Empty(t, stderr(), "nats.go wrote to stderr")
	require.Contains(t, logs.String(), "app.secret", "the refusal is logged")
	require.False(t, strings.Contains(logs.String(), permPassword), "the password in the log: %s", logs.String())
	for _, r := range append(logS.All(), logM.All()...) {
		if r.Err != nil {
			require.NotContains(t, r.Err.Error(), permPassword)
		}
	}
}
