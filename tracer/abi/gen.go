package abi

// The syscall tables in zsyscalls_amd64.go (and the x/sys cross-check in
// zsysnum_amd64_test.go) are generated from golang.org/x/sys/unix's number
// tables, the kernel's syscall tracepoint formats and the hand-written
// knowledge in internal/mkabi/spec.go. Regenerating needs tracefs (root
// mounts it on demand); building does not.
//
//go:generate go run ./internal/mkabi -o zsyscalls_amd64.go -test zsysnum_amd64_test.go
