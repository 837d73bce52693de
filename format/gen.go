package format

// The Go code for trace.proto is generated and committed, so building and
// testing need neither protoc nor protoc-gen-go. To regenerate it after
// editing trace.proto (protoc 3.21+, protoc-gen-go v1.36.12, the
// google.golang.org/protobuf version in go.mod):
//
//	apt-get install -y protobuf-compiler
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	cd format && go generate
//
// which runs:
//
//	protoc --go_out=tracepb --go_opt=paths=source_relative trace.proto

//go:generate protoc --go_out=tracepb --go_opt=paths=source_relative trace.proto
