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
//	protoc -I proto --go_out=perfettopb --go_opt=paths=source_relative proto/*.proto

//go:generate sh -c "protoc -I proto --go_out=perfettopb --go_opt=paths=source_relative proto/*.proto"
