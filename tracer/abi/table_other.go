//go:build !amd64

package abi

// The generated tables are compiled on amd64 only (zsyscalls_amd64.go);
// elsewhere the package builds with empty tables, so lookups find nothing.
var (
	sysX86_64 [0]Syscall
	idxX86_64 [0]int16
	namesI386 [0]string
	namesX32  [0]string
)
