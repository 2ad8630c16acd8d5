package file

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const half = "name = \"thr" // a TOML file caught half-written

func TestWatchCheck(t *testing.T) {
	t.Run("half-written then complete", func(t *testing.T) {
		path := appFile(t, v1)
		tg := target(path)
		tg.Check = checkTOML
		w, _ := startWatch(t, openDriver(t), tg)

		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		require.NoError(t, err)
		_, err = f.WriteString(half)
		require.NoError(t, err)
		require.NoError(t, f.Sync())
		// Past the debounce: the half-written file is read, fails Check
		// and is retried.
		time.Sleep(DefaultDebounce * 3 / 2)
		_, err = f.WriteString(v3[len(half):])
		require.NoError(t, err)
		require.NoError(t, f.Close())

		w.wantData(t, v3)
		w.wantNone(t, path)
	})
	t.Run("stays unparsable", func(t *testing.T) {
		path := appFile(t, v1)
		tg := target(path)
		tg.Check = checkTOML
		w, _ := startWatch(t, openDriver(t), tg)

		writeFile(t, path, half)
		msg := w.wantErr(t, errBadLine)
		require.Contains(t, msg, path)
		require.Contains(t, msg, "thr", "a parse error may quote content that is not secret")
		writeFile(t, path, half+"x") // another error message: reported
		w.wantErr(t, errBadLine)
		writeFile(t, path, v1)
		w.wantData(t, v1)
	})
	t.Run("secret", func(t *testing.T) {
		path := appFile(t, v1)
		tg := target(path)
		tg.Check = checkTOML
		tg.Secret = true
		w, _ := startWatch(t, openDriver(t), tg)

		writeFile(t, path, half)
		r := w.Next(t)
		require.ErrorIs(t, r.Err, errUnparsable)
		require.ErrorIs(t, r.Err, errBadLine, "the Check error stays matchable")
		msg := r.Err.Error()
		require.NotContains(t, msg, "thr")
		require.Contains(t, msg, path)
		writeFile(t, path, v2)
		w.wantData(t, v2)
	})
}
