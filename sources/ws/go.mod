module github.com/livebind/livebind/sources/ws

go 1.25.0

require github.com/livebind/livebind v0.0.0-00010101000000-000000000000

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)

replace github.com/livebind/livebind => ../..
