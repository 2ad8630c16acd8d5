package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livebind/livebind/internal/testenv/browsertest"
)

// maxLatency is how soon after a save the open page must show the change.
const maxLatency = time.Second

// TestBrowserFollowsEdits opens the app in headless Chromium, edits
// app.toml and checks that the page shows the new value within maxLatency
// without reloading; then the same on livebind's debug page. It never
// finds the secret in either page and saves screenshots as artifacts (go
// test -artifacts keeps them; the paths are logged).
func TestBrowserFollowsEdits(t *testing.T) {
	t.Setenv("WEBAPP_API_KEY", secret)
	r := startApp(t)
	br := browsertest.New(t)
	const step = 15 * time.Second

	// The page is served with its values and goes live on the first event.
	browsertest.Run(br, step, chromedp.Navigate(r.url))
	browsertest.Run(br, step, chromedp.Poll[bool](`document.body.dataset.live === "1"`, chromedp.WithPollingTimeout(10*time.Second)))
	if got := browsertest.Run(br, step, chromedp.Text(chromedp.CSS("#greeting"))); got != "Hello from livebind" {
		t.Fatalf("greeting = %q before the edit", got)
	}
	br.Screenshot("app-before")
	browsertest.Run(br, step, chromedp.Evaluate[chromedp.Void](`window.__marker = 42`))

	start := time.Now()
	r.edit(t, editedConfig)
	browsertest.Run(br, step, chromedp.Poll[bool](
		`document.getElementById("greeting").textContent === "Edited while you watched"`,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(5*time.Second)))
	latency := time.Since(start)
	t.Logf("edit to page: %v (file debounce 50ms included)", latency)
	if latency > maxLatency {
		t.Errorf("the page showed the edit after %v, want within %v", latency, maxLatency)
	}
	if m := browsertest.Run(br, step, chromedp.Evaluate[int](`window.__marker || 0`)); m != 42 {
		t.Errorf("window.__marker = %d: the page was reloaded", m)
	}
	if theme := browsertest.Run(br, step, chromedp.Evaluate[string](`document.body.className`)); theme != "theme-dark" {
		t.Errorf("body class = %q after switching to the dark theme", theme)
	}
	if n := browsertest.Run(br, step, chromedp.Evaluate[int](`document.querySelectorAll("#features li").length`)); n != 4 {
		t.Errorf("%d features shown, want 4", n)
	}
	if html := browsertest.Run(br, step, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, secret) {
		t.Error("the app page holds the secret")
	}
	br.Screenshot("app-after")

	// livebind's own page: its script must pass the CSP and go live too.
	browsertest.Run(br, step, chromedp.Navigate(r.url+"debug/config/"))
	browsertest.Run(br, step, chromedp.Poll[bool](`document.body.dataset.live === "1"`, chromedp.WithPollingTimeout(10*time.Second)))
	start = time.Now()
	r.edit(t, strings.Replace(editedConfig, "Edited while you watched", "Edited again", 1))
	browsertest.Run(br, step, chromedp.Poll[bool](
		`document.querySelector('tr[data-field="Site"] .value').textContent.indexOf("Edited again") >= 0 &&
		 document.getElementById("updates").children.length > 0`,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(5*time.Second)))
	t.Logf("edit to debug page: %v", time.Since(start))
	// The figures and the history follow within about a second.
	browsertest.Run(br, step, chromedp.Poll[bool](
		`document.querySelector("#history a").textContent === document.getElementById("gen").textContent &&
		 document.querySelector('tr[data-field="Site"] .updates').textContent === "2"`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second)))
	html := browsertest.Run(br, step, chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(html, secret) {
		t.Error("the debug page holds the secret")
	}
	if !strings.Contains(html, "[redacted]") {
		t.Error("the debug page does not show the API key as [redacted]")
	}
	br.Screenshot("debug-page")
}
