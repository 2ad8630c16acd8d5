package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/livebind/livebind"
)

// view is what the page shows: the configuration without its secret (only
// whether one is set), as HTML at first and then as JSON events.
type view struct {
	Gen       uint64   `json:"gen"`
	Title     string   `json:"title"`
	Greeting  string   `json:"greeting"`
	Theme     string   `json:"theme"`
	Features  []string `json:"features"`
	LogLevel  string   `json:"log_level"`
	APIKeySet bool     `json:"api_key_set"`
	Banner    string   `json:"banner"`
}

// current reads a snapshot and its generation, which Snapshot returns as a
// pair.
func current(b *livebind.Binding[Config]) (view, uint64) {
	c, gen := b.Snapshot()
	return view{
		Gen: gen, Title: c.Site.Title, Greeting: c.Site.Greeting, Theme: c.Site.Theme, Features: c.Site.Features,
		LogLevel: c.LogLevel, APIKeySet: c.APIKey != "", Banner: c.Banner,
	}, gen
}

// pageHandler renders the page with the current view.
func pageHandler(b *livebind.Binding[Config], path string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		data := struct {
			view
			Path   string
			CSS    template.CSS
			Script template.JS
		}{Path: path, CSS: appCSS, Script: appScript}
		data.view, _ = current(b)
		if err := appPage.Execute(&buf, data); err != nil {
			http.Error(w, "rendering failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", appCSP)
		_, _ = w.Write(buf.Bytes())
	})
}

// liveHandler streams the view as server-sent events: the current one at
// once, then a new one after each change. The subscription starts From the
// generation of the first view sent, so no change in between is missed; its
// callback only rings a one-slot bell, so a slow browser never holds up the
// binding, and the view is read from the newest snapshot when it rings.
func liveHandler(b *livebind.Binding[Config]) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		first, last := current(b)
		bell := make(chan struct{}, 1)
		stop, err := b.Subscribe(func(livebind.Update) {
			select {
			case bell <- struct{}{}:
			default: // rung already: the next read sees this change too
			}
		}, livebind.From(last), livebind.Kinds(livebind.Updated, livebind.Added, livebind.Removed))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer stop()
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		send := func(v view) bool {
			data, err := json.Marshal(v)
			if err != nil {
				return false
			}
			_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := fmt.Fprintf(w, "event: view\ndata: %s\n\n", data); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		if !send(first) {
			return
		}
		beat := time.NewTicker(15 * time.Second)
		defer beat.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-bell:
				v, gen := current(b)
				if gen == last {
					continue // several updates of one generation
				}
				last = gen
				if !send(v) {
					return
				}
			case <-beat.C:
				_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil || rc.Flush() != nil {
					return
				}
			}
		}
	})
}

func cspHash[S ~string](s S) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

var appCSP = "default-src 'none'; style-src " + cspHash(appCSS) + "; script-src " + cspHash(appScript) +
	"; connect-src 'self'; base-uri 'none'; form-action 'none'"

const appCSS template.CSS = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; padding: 2em 3em; }
body.theme-light { background: #fafafa; color: #1d1d1f; }
body.theme-dark { background: #1d1f24; color: #e8e8e8; }
body.theme-dark a { color: #8ab4f8; }
header { display: flex; align-items: baseline; gap: 1em; }
h1 { margin: 0; }
#state { font-size: .8em; padding: .1em .6em; border-radius: 1em; background: #ccc; color: #222; }
#state.live { background: #2e7d32; color: #fff; }
#greeting { font-size: 1.6em; margin: .6em 0; }
#banner { padding: .6em 1em; background: #fff3cd; color: #5c4400; border-radius: .3em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: bold; }
footer { margin-top: 2em; font-size: .85em; opacity: .8; }
`

// appScript applies each view event to the page with textContent only.
const appScript template.JS = `
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  function apply(v) {
    document.title = v.title;
    $("title").textContent = v.title;
    $("greeting").textContent = v.greeting;
    document.body.className = "theme-" + v.theme;
    var ul = $("features");
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    (v.features || []).forEach(function (f) {
      var li = document.createElement("li");
      li.textContent = f;
      ul.appendChild(li);
    });
    $("loglevel").textContent = v.log_level;
    $("apikey").textContent = v.api_key_set ? "set" : "not set";
    $("gen").textContent = String(v.gen);
    $("banner").textContent = v.banner;
    $("banner").hidden = !v.banner;
  }
  var es = new EventSource("live");
  es.addEventListener("view", function (e) {
    apply(JSON.parse(e.data));
    $("state").textContent = "live";
    $("state").className = "live";
    document.body.dataset.live = "1";
  });
  es.onerror = function () {
    $("state").textContent = "reconnecting";
    $("state").className = "";
    delete document.body.dataset.live;
  };
})();
`

var appPage = template.Must(template.New("app").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body class="theme-{{.Theme}}">
<header><h1 id="title">{{.Title}}</h1><span id="state">connecting</span></header>
<p id="greeting">{{.Greeting}}</p>
<p id="banner"{{if not .Banner}} hidden{{end}}>{{.Banner}}</p>
<ul id="features">{{range .Features}}<li>{{.}}</li>{{end}}</ul>
<dl>
<dt>log level</dt><dd id="loglevel">{{.LogLevel}}</dd>
<dt>API key</dt><dd id="apikey">{{if .APIKeySet}}set{{else}}not set{{end}}</dd>
<dt>generation</dt><dd id="gen">{{.Gen}}</dd>
</dl>
<footer>Edit <code>{{.Path}}</code> and save: this page follows without reloading.
Operations: <a href="debug/config/">configuration status</a> · <a href="metrics">metrics</a></footer>
<script>{{.Script}}</script>
</body>
</html>
`))
