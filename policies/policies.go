// Package policies holds the Lua fault-injection scripts shipped with
// hermes, embedded in the binary and runnable as --inject builtin:NAME
// (or copied out of this directory and edited).
//
// Every script declares and reads its parameters with hermes.param(name,
// default) (hermes refuses a --param key=value that no script declares);
// each script's header documents its parameters and defaults. Every one
// takes exclude= and a program filter, comm= or exe=
// (hermes.program_filter); those that cover writes trap "@write", every
// call the syscall table says writes file data, and leave the standard
// descriptors the run started with alone unless stdio=true.
//
//	enospc      ENOSPC on the Nth write to files under a path prefix
//	random-eio  EIO on a random fraction of reads/writes (seeded by --seed)
//	deny-path   EACCES for any file call on a path prefix (/etc/passwd)
//	slow-disk   delay reads and writes to files by N ms
//	short-io    short reads and writes: the count argument cut to a fraction
//	net-faults  ECONNREFUSED/ETIMEDOUT on connect to chosen ports, ECONNRESET on sends
package policies

import (
	"embed"
	"sort"
	"strings"
)

//go:embed *.lua
var files embed.FS

// Get returns the source of the policy NAME (without ".lua").
func Get(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, false
	}
	b, err := files.ReadFile(name + ".lua")
	if err != nil {
		return nil, false
	}
	return b, true
}

// List returns the names of the shipped policies, sorted.
func List() []string {
	ents, _ := files.ReadDir(".")
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".lua"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Summary returns the first line of a policy's header comment (after
// "-- NAME: "), for listings.
func Summary(name string) string {
	b, ok := Get(name)
	if !ok {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSpace(strings.TrimPrefix(line, "--"))
	if _, rest, ok := strings.Cut(line, ": "); ok {
		return rest
	}
	return line
}
