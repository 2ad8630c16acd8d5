module github.com/livebind/livebind/sources/ws

go 1.25.0

require (
	github.com/coder/websocket v1.8.15
	github.com/livebind/livebind v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

replace github.com/livebind/livebind => ../..
