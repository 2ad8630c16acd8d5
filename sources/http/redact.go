package http

import "github.com/livebind/livebind/sources"

// redactURL rewrites a location for display by the conservative rule of
// [sources.RedactURL]: scheme, host, port and path are shown; user
// information, every query value and the fragment are hidden. livebind
// shows the values of parameters a field declares safe= (safequery=) and
// hides the whole location of a field tagged secretlocation.
func redactURL(loc string) string { return sources.RedactURL(loc) }
