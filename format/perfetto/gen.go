package perfetto

// The Go code for the vendored Perfetto protos (proto/, a trimmed copy of
// Perfetto's: see proto/README.md) is generated and committed in package
// perfettopb, so building and testing need neither protoc nor
// protoc-gen-go. To regenerate it (protoc 3.21+, protoc-gen-go v1.36.12,
// the google.golang.org/protobuf version in go.mod):
//
//	apt-get install -y protobuf-compiler
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	cd format/perfetto && go generate
//
// which runs:
//
//	protoc -I .. --go_out=../.. --go_opt=module=github.com/hermes-trace/hermes ../perfetto/proto/*.proto
//
// The files are compiled as perfetto/proto/NAME.proto (relative to format/),
// the names they are registered under in the Go protobuf registry, so they
// do not clash with format/trace.proto (registered as trace.proto).

//go:generate sh -c "protoc -I .. --go_out=../.. --go_opt=module=github.com/hermes-trace/hermes ../perfetto/proto/*.proto"
