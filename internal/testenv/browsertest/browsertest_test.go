package browsertest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"

	"github.com/livebind/livebind/internal/testenv/browsertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestBrowser loads a page from a server on 127.0.0.1 whose script changes
// the DOM, reads the result and takes a screenshot.
func TestBrowser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!DOCTYPE html><title>t</title><p id="p">static</p>
<script>document.getElementById("p").textContent = "scripted " + (1 + 2);</script>`)
	}))
	defer srv.Close()
	br := browsertest.New(t)
	br.Do(20*time.Second, chromedp.Navigate(srv.URL))
	if got := browsertest.Run(br, 10*time.Second, chromedp.Text(chromedp.CSS("#p"))); got != "scripted 3" {
		t.Errorf("text = %q, want %q", got, "scripted 3")
	}
	path := br.Screenshot("browser")
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("screenshot %s: %v", path, err)
	}
}
