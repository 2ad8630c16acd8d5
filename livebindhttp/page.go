package livebindhttp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// pageView is what the page template renders.
type pageView struct {
	Title      string
	Generation uint64
	Closed     bool
	Rejected   uint64
	Reloads    uint64
	Now        string
	Sources    []sourceView
	Fields     []fieldView
	History    []historyView
	HasHistory bool
	CSS        template.CSS
	Script     template.JS
}

type sourceView struct {
	Source, Fields, State, Staleness, LastError, LastSuccess, Version, Lease string
	Healthy                                                                  bool
	Observations, Errors                                                     uint64
}

type fieldView struct {
	Field, Source, Value, LastUpdate string
	Secret, Required                 bool
	Updates, Errors                  uint64
}

type historyView struct {
	Gen        uint64
	Time       string
	Changed    string
	RollbackOf uint64
}

func (h *handler[T]) page(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	st := h.b.Status()
	v, gen := h.current()
	values := snapshotFields(h.fields, v, nil, false)
	byPath := make(map[string]string, len(values))
	for _, fv := range values {
		byPath[fv.path] = string(fv.json)
	}
	view := pageView{
		Title: h.cfg.title, Generation: gen, Closed: st.Closed, Rejected: st.Rejected, Reloads: st.Reloads,
		Now: stamp(now), CSS: pageCSS, Script: pageScript,
	}
	for _, s := range st.Sources {
		sv := sourceView{
			Source: s.Source, Fields: joinComma(s.Fields), Healthy: s.Healthy,
			LastError: s.LastError, LastSuccess: stamp(s.LastSuccess), Version: s.Version,
			Observations: s.Observations, Errors: s.Errors,
			Lease: leaseText(s.LeaseExpires, s.LeaseRenewal),
		}
		switch {
		case !s.Active:
			sv.State = "inactive"
		case !s.Healthy:
			sv.State = "failing"
		case !s.Present:
			sv.State = "missing"
		default:
			sv.State = "ok"
		}
		if d := staleness(s, now); d > 0 {
			sv.Staleness = d.Round(time.Second).String()
		}
		view.Sources = append(view.Sources, sv)
	}
	for _, f := range st.Fields {
		view.Fields = append(view.Fields, fieldView{
			Field: f.Field, Source: f.Source, Value: byPath[f.Field], LastUpdate: stamp(f.LastUpdate),
			Secret: f.Secret, Required: f.Required, Updates: f.Updates, Errors: f.Errors,
		})
	}
	hist := h.b.History()
	view.HasHistory = hist != nil
	for i := len(hist) - 1; i >= 0; i-- { // newest first
		e := hist[i]
		view.History = append(view.History, historyView{Gen: e.Gen, Time: stamp(e.Time), Changed: joinComma(e.Changed), RollbackOf: e.RollbackOf})
	}

	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, view); err != nil {
		http.Error(w, "rendering failed", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		h.writeBody(w, r, buf.Bytes())
	}
}

// stamp formats a time as the page's script does: UTC, milliseconds.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

// leaseText describes a source's lease for the page: when it expires and
// when it is renewed ("no renewal": new credentials are read before it
// expires, at the next poll). Empty without a lease. The script's leaseText
// writes the same.
func leaseText(expires, renewal time.Time) string {
	if expires.IsZero() {
		return ""
	}
	s := "expires " + stamp(expires)
	if renewal.IsZero() {
		return s + "; no renewal"
	}
	return s + "; renewal " + stamp(renewal)
}

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// pageCSP allows exactly the page's own inline style and script, and
// connections back to the server (fetch and EventSource); nothing else.
var pageCSP = "default-src 'none'; style-src '" + cspHash(pageCSS) + "'; script-src '" + cspHash(pageScript) +
	"'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func cspHash[S ~string](s S) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

const pageCSS template.CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .25em .6em; border-bottom: 1px solid #ddd; }
th { background: #f4f4f4; }
td.value, #updates { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
.ok { color: #176117; } .failing { color: #a30000; font-weight: bold; } .missing, .inactive { color: #8a6100; }
.meta { color: #555; } #live { font-weight: bold; }
#updates li.error { color: #a30000; }
`

// pageScript keeps the page live: it listens to the event stream and patches
// field values and the update list with textContent only (never innerHTML),
// and refreshes the source and field figures from status.json at most once
// a second while updates arrive.
const pageScript template.JS = `
(function () {
  "use strict";
  var genEl = document.getElementById("gen");
  var liveEl = document.getElementById("live");
  var list = document.getElementById("updates");
  var rows = {}, srcRows = {};
  document.querySelectorAll("tr[data-field]").forEach(function (tr) { rows[tr.dataset.field] = tr; });
  document.querySelectorAll("tr[data-source]").forEach(function (tr) { srcRows[tr.dataset.source] = tr; });
  function cell(tr, cls) { return tr ? tr.querySelector("." + cls) : null; }
  function setText(el, text) { if (el && el.textContent !== text) { el.textContent = text; } }
  function show(v) { return v === undefined ? "" : JSON.stringify(v); }
  function setGen(g) { if (g > Number(genEl.textContent)) { genEl.textContent = String(g); } }
  function resync() {
    fetch("config.json", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (c) {
      Object.keys(c.fields).forEach(function (k) { setText(cell(rows[k], "value"), show(c.fields[k])); });
      genEl.textContent = String(c.generation);
    }).catch(function () {});
  }
  var statusTimer = null;
  function refreshStatus() {
    if (statusTimer) { return; }
    statusTimer = setTimeout(function () {
      statusTimer = null;
      fetch("status.json", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
        s.sources.forEach(function (x) {
          var tr = srcRows[x.source];
          if (!tr) { return; }
          var state = !x.active ? "inactive" : !x.healthy ? "failing" : !x.present ? "missing" : "ok";
          var st = cell(tr, "state");
          setText(st, state);
          if (st) { st.className = "state " + state; }
          setText(cell(tr, "version"), x.version || "");
          setText(cell(tr, "staleness"), x.staleness_seconds > 0 ? Math.round(x.staleness_seconds) + "s" : "");
          setText(cell(tr, "lasterror"), x.last_error || "");
          setText(cell(tr, "observations"), String(x.observations));
          setText(cell(tr, "errors"), String(x.errors));
          setText(cell(tr, "lease"), leaseText(x));
        });
        s.fields.forEach(function (f) {
          var tr = rows[f.field];
          setText(cell(tr, "updates"), String(f.updates));
          setText(cell(tr, "errors"), String(f.errors));
          setText(cell(tr, "lastupdate"), stamp(f.last_update));
        });
        document.getElementById("rejected").textContent = String(s.rejected);
        document.getElementById("reloads").textContent = String(s.reloads);
      }).catch(function () {});
      if (hist) { refreshHistory(); }
    }, 1000);
  }
  function leaseText(x) {
    if (!x.lease_expires) { return ""; }
    return "expires " + stamp(x.lease_expires) + (x.lease_renewal ? "; renewal " + stamp(x.lease_renewal) : "; no renewal");
  }
  function stamp(iso) { return iso ? new Date(iso).toISOString().replace("T", " ").replace("Z", " UTC") : ""; }
  var hist = document.getElementById("history");
  function refreshHistory() {
    fetch("history.json", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (h) {
      while (hist.rows.length > 1) { hist.deleteRow(1); }
      h.entries.slice().reverse().forEach(function (e) {
        var tr = hist.insertRow(-1);
        var a = document.createElement("a");
        a.href = "config.json?gen=" + e.gen;
        a.textContent = String(e.gen);
        tr.insertCell(-1).appendChild(a);
        tr.insertCell(-1).textContent = stamp(e.time);
        tr.insertCell(-1).textContent = e.changed.join(", ");
        tr.insertCell(-1).textContent = e.rollback_of ? String(e.rollback_of) : "";
      });
    }).catch(function () {});
  }
  function describe(u) {
    var s = "gen " + u.gen + " " + u.kind + (u.field ? " " + u.field : "") + (u.source ? " (" + u.source + ")" : "");
    if (u.kind === "error") { return s + ": " + (u.error || ""); }
    if (u.kind === "updated") { return s + ": " + show(u.old) + " -> " + show(u.new); }
    if (u.kind === "removed") { return s + ": keeps " + show(u.new); }
    return s + ": " + show(u.new);
  }
  if (!window.EventSource) { liveEl.textContent = "static (no EventSource)"; return; }
  // The stream reconnects by itself after a network error; after a bye
  // (the server dropped a client that fell behind) or a refusal (503: too
  // many streams) the page opens a new one, backing off, and reads the
  // state again on the next hello.
  var es = null, hellos = 0, retryMs = 2000, retryTimer = null;
  function reconnect(why) {
    if (es) { es.close(); es = null; }
    delete document.body.dataset.live;
    liveEl.textContent = "reconnecting" + (why ? " (" + why + ")" : "");
    if (retryTimer) { return; }
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, retryMs);
    retryMs = Math.min(retryMs * 2, 30000);
  }
  function connect() {
    es = new EventSource("events");
    es.addEventListener("hello", function (e) {
      liveEl.textContent = "live";
      document.body.dataset.live = "1";
      retryMs = 2000;
      hellos++;
      if (hellos > 1 || String(JSON.parse(e.data).generation) !== genEl.textContent) { resync(); }
      refreshStatus();
    });
    es.addEventListener("update", function (e) {
      var u = JSON.parse(e.data);
      if (!u.field) {
        resync();
      } else if (u.kind !== "error") {
        setText(cell(rows[u.field], "value"), show(u.new));
      }
      setGen(u.gen);
      var li = document.createElement("li");
      li.textContent = describe(u);
      if (u.kind === "error") { li.className = "error"; }
      list.insertBefore(li, list.firstChild);
      while (list.children.length > 200) { list.removeChild(list.lastChild); }
      refreshStatus();
    });
    es.addEventListener("bye", function (e) {
      var why = "";
      try { why = JSON.parse(e.data).reason; } catch (err) { why = ""; }
      reconnect(why);
    });
    es.addEventListener("closed", function () {
      liveEl.textContent = "binding closed";
      delete document.body.dataset.live;
      es.close();
    });
    es.onerror = function () {
      if (!es) { return; }
      if (es.readyState === 2) { reconnect("refused"); return; }
      liveEl.textContent = "reconnecting";
      delete document.body.dataset.live;
    };
  }
  connect();
})();
`

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">generation <span id="gen">{{.Generation}}</span>
 · rejected <span id="rejected">{{.Rejected}}</span>
 · reloads <span id="reloads">{{.Reloads}}</span>
 · <span id="live">{{if .Closed}}binding closed{{else}}static{{end}}</span>
 · rendered {{.Now}}
 · <a href="status.json">status.json</a> <a href="config.json">config.json</a> <a href="history.json">history.json</a> <a href="events">events</a></p>

<h2>Sources</h2>
<table id="sources">
<tr><th>source</th><th>fields</th><th>state</th><th>stale for</th><th>last error</th><th>last success</th><th>version</th><th>observations</th><th>errors</th><th>lease</th></tr>
{{range .Sources}}<tr data-source="{{.Source}}"><td>{{.Source}}</td><td>{{.Fields}}</td><td class="state {{.State}}">{{.State}}</td><td class="staleness">{{.Staleness}}</td><td class="lasterror">{{.LastError}}</td><td>{{.LastSuccess}}</td><td class="version">{{.Version}}</td><td class="observations">{{.Observations}}</td><td class="errors">{{.Errors}}</td><td class="lease">{{.Lease}}</td></tr>
{{end}}</table>

<h2>Fields</h2>
<table id="fields">
<tr><th>field</th><th>value</th><th>source</th><th>updates</th><th>errors</th><th>last update</th></tr>
{{range .Fields}}<tr data-field="{{.Field}}"><td>{{.Field}}{{if .Secret}} (secret){{end}}{{if .Required}} (required){{end}}</td><td class="value">{{.Value}}</td><td>{{.Source}}</td><td class="updates">{{.Updates}}</td><td class="errors">{{.Errors}}</td><td class="lastupdate">{{.LastUpdate}}</td></tr>
{{end}}</table>

<h2>Updates since this page was opened</h2>
<ul id="updates"></ul>

<h2>History</h2>
{{if .HasHistory}}<table id="history">
<tr><th>gen</th><th>time</th><th>changed</th><th>rollback of</th></tr>
{{range .History}}<tr><td><a href="config.json?gen={{.Gen}}">{{.Gen}}</a></td><td>{{.Time}}</td><td>{{.Changed}}</td><td>{{if .RollbackOf}}{{.RollbackOf}}{{end}}</td></tr>
{{end}}</table>{{else}}<p class="meta">Not kept: bind with livebind.WithHistory(n) to keep the last n generations.</p>{{end}}
<script>{{.Script}}</script>
</body>
</html>
`))
