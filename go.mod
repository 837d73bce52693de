module github.com/hermes-trace/hermes

go 1.26.8

require (
	github.com/klauspost/compress v1.20.4
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.0.9
	github.com/yuin/gopher-lua v1.1.2
	golang.org/x/sys v0.50.0
	google.golang.org/protobuf v1.36.12
)

require github.com/inconshreveable/mousetrap v1.1.0 // indirect

// A patched copy of gopher-lua v1.1.2 that bounds single operations
// (internal/lua/NOTES.md lists every change).
replace github.com/yuin/gopher-lua => ./internal/lua
