package livebindhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/livebind/livebind"
)

// writeTimeout bounds one write to an event stream: a client that stops
// reading for longer loses its stream (and reconnects on its own).
const writeTimeout = 10 * time.Second

// reconnectMillis is the reconnection delay the stream asks browsers for.
const reconnectMillis = 2000

// events streams updates as server-sent events:
//
//	retry: 2000
//
//	event: hello
//	data: {"generation":7}
//
//	event: update
//	data: {"kind":"updated","field":"Port",...}
//
//	: heartbeat
//
//	event: closed
//	data: {"generation":9}
//
// hello comes first, once the subscription is in place, so a client that
// rendered an older generation knows to fetch config.json again. An update
// with an empty field is a drop notice (the stream fell behind and updates
// were merged or dropped): the client should fetch config.json. closed means
// the Binding was closed; the stream then ends.
func (h *handler[T]) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	ch, stop, err := livebind.Stream(h.b, func(u livebind.Update) (livebind.Update, bool) { return u, true },
		livebind.Coalesce())
	if err != nil { // only for unknown field paths, which we never pass
		http.Error(w, "subscribe: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer stop()

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	var buf bytes.Buffer
	send := func() bool {
		// Deadlines are best effort: a ResponseWriter that does not
		// support them just blocks like any other write.
		if err := rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		_, err := w.Write(buf.Bytes())
		buf.Reset()
		return err == nil && rc.Flush() == nil
	}
	fmt.Fprintf(&buf, "retry: %d\n\n", reconnectMillis)
	writeEvent(&buf, "hello", genJSON{Generation: h.b.Generation()})
	if !send() {
		return
	}

	beat := time.NewTicker(h.cfg.heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case u, ok := <-ch:
			if !ok {
				writeEvent(&buf, "closed", genJSON{Generation: h.b.Generation()})
				send()
				return
			}
			writeEvent(&buf, "update", newUpdateJSON(u))
		case <-beat.C:
			buf.WriteString(": heartbeat\n\n")
		}
		if !send() {
			return
		}
	}
}

type genJSON struct {
	Generation uint64 `json:"generation"`
}

// writeEvent appends one event. Compact JSON holds no raw newline, so the
// data is one line.
func writeEvent(buf *bytes.Buffer, name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data = mustString("cannot encode event: " + err.Error())
	}
	fmt.Fprintf(buf, "event: %s\ndata: %s\n\n", name, data)
}
