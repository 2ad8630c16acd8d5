// Package livebindhttp serves a [livebind.Binding]'s status, its current
// configuration and its history over HTTP, as JSON and as a small HTML page
// that updates itself live from a server-sent-events stream.
//
// Mount it under a prefix of your own, with [http.StripPrefix]; every link the
// page uses is relative, so any prefix works:
//
//	mux.Handle("/debug/config/", http.StripPrefix("/debug/config", livebindhttp.Handler(b)))
//
// Relative to the mount point it serves (GET and HEAD only):
//
//	/              the HTML page: sources, fields with their values, history,
//	               and the updates since the page was opened
//	/status.json   b.Status() as JSON
//	/config.json   the current snapshot, field by field (?gen=N: a generation
//	               kept by livebind.WithHistory)
//	/history.json  the generations kept by livebind.WithHistory
//	/events        every livebind.Update as a server-sent event
//
// Secret fields (the secret tag option, or secrecy that spread within a
// document) never appear: their values are replaced by "[redacted]" in every
// output, using the binding's own record of which fields are secret, and
// error texts are already redacted by livebind. The handler only reads
// copies: [livebind.Binding.Status], [livebind.Binding.Snapshot] and
// [livebind.Binding.History] never wait for the applier, and every event
// stream is served from one shared subscription whose updates are encoded
// once, with a per-client queue bounded in bytes ([WithStreamQueueBytes]):
// a slow or stalled browser never delays the binding, and one that falls
// too far behind is disconnected with a reason and reconnects. At most
// [WithMaxStreams] streams run at once; more get 503. Every response, not
// only a stream, is written under a write deadline per 64 KiB (the server's
// WriteTimeout, if it has one, for all but the stream): a client that stops
// reading loses it.
//
// The handler has no authentication of its own: the configuration it shows,
// less secrets, is still internal information. Mount it on an internal
// listener or behind your own access control.
package livebindhttp
