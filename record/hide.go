package record

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/recorded"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"golang.org/x/sys/unix"
)

// hidden is the set of files hermes itself makes beside the program (the
// trace, FILE.partial then FILE), which the program must not see: a
// recording into the working directory then changes nothing the program
// can tell, and its replay sees the same directory. Lookups of these paths
// fail with ENOENT, and listings of their directories leave them out.
type hidden struct {
	paths map[string]bool
	dirs  map[string]bool
	names map[string]bool
	buf   []byte
}

func newHidden(paths []string) *hidden {
	h := &hidden{paths: make(map[string]bool), dirs: make(map[string]bool), names: make(map[string]bool)}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			continue
		}
		p = filepath.Clean(p)
		h.paths[p] = true
		h.dirs[filepath.Dir(p)] = true
		h.names[filepath.Base(p)] = true
	}
	return h
}

func (h *hidden) has(path string) bool { return h != nil && h.paths[path] }

// lookup reports whether a call at entry names a hidden path in one of its
// path arguments (as captured in cp).
func (h *hidden) lookup(sc *tracer.Syscall, cp *capturer) bool {
	if h == nil || len(h.paths) == 0 || sc.Info == nil || sc.Arch != abi.ArchX86_64 {
		return false
	}
	for i, a := range sc.Info.Args {
		if a.Kind != abi.KindPath || sc.Args[i] == 0 {
			continue
		}
		m := cp.find(tracepb.MemKind_MEM_KIND_IN, i, sc.Args[i])
		if m == nil {
			continue
		}
		name := bytes.TrimSuffix(m.Data, []byte{0})
		if i := bytes.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		if !h.names[string(name)] {
			continue // the common case: a map lookup, no allocation
		}
		ref := abi.PathRef{Dir: abi.NoArg, Path: int8(i)}
		if i > 0 && sc.Info.Args[i-1].Kind == abi.KindDirFD {
			ref.Dir = int8(i - 1)
		}
		path := resolvePath(sc, cp, ref)
		if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
			path = filepath.Join(dir, filepath.Base(path))
		}
		if h.paths[path] {
			return true
		}
	}
	return false
}

// dirents removes hidden names from what a getdents64 of one of their
// directories returned, in tracee memory, and returns the new length
// (ok false when nothing was removed).
func (h *hidden) dirents(sc *tracer.Syscall) (n int64, ok bool) {
	if h == nil || len(h.dirs) == 0 || sc.Arch != abi.ArchX86_64 || sc.Nr != unix.SYS_GETDENTS64 || sc.Ret <= 0 {
		return 0, false
	}
	dir := sc.Thread.Proc.FDPath(int(int32(sc.Args[0])))
	if !h.dirs[dir] {
		return 0, false
	}
	size := int(min(sc.Ret, 1<<20))
	if cap(h.buf) < size {
		h.buf = make([]byte, size)
	}
	b := h.buf[:size]
	if k, _ := sc.Mem().ReadAt(b, sc.Args[1]); k != size {
		return 0, false
	}
	out := removeDirents(b, func(name []byte) bool { return h.paths[filepath.Join(dir, string(name))] })
	if len(out) == size {
		return 0, false
	}
	if sc.Mem().WriteAt(out, sc.Args[1]) != nil {
		return 0, false
	}
	return int64(len(out)), true
}

// removeDirents drops the linux_dirent64 records of b whose names drop
// says to, in place, and returns what is left.
func removeDirents(b []byte, drop func(name []byte) bool) []byte {
	w := 0
	for r := 0; r+19 <= len(b); {
		reclen := int(binary.LittleEndian.Uint16(b[r+16:]))
		if reclen < 19 || r+reclen > len(b) {
			break
		}
		name := b[r+19 : r+reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if !drop(name) {
			copy(b[w:], b[r:r+reclen])
			w += reclen
		}
		r += reclen
	}
	return b[:w]
}

// redactExec masks, in the argv and envp strings an execve or execveat
// captured, the values of the environment variables redact names (see
// Options.Redact), and returns secrets with the values such variables
// have in this envp added. In envp, "NAME=value" keeps its name and each
// byte of the value becomes '*'; in argv, what RedactString finds (a
// "NAME=value" argument, such an assignment inside one, and the secrets
// anywhere) is masked the same way. The strings keep their length, so
// that they stay where they were in the captured memory, with the other
// strings after them.
func redactExec(sc *tracepb.Syscall, redact func(name string) bool, secrets []string) []string {
	var argv, envp uint32
	switch recorded.Name(sc) {
	case "execve":
		argv, envp = 1, 2
	case "execveat":
		argv, envp = 2, 3
	default:
		return secrets
	}
	args := format.Args(sc)
	str := func(m *tracepb.Mem) []byte {
		if m.Kind != tracepb.MemKind_MEM_KIND_IN || m.Addr == args[m.Arg] {
			return nil // not a string the array points to, but the array
		}
		s := m.Data
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		return s
	}
	stars := func(v string) string { return strings.Repeat("*", len(v)) }
	// The environment first: its values are secrets in the arguments too.
	for _, m := range sc.Mem {
		if m.Arg != envp {
			continue
		}
		s := str(m)
		eq := bytes.IndexByte(s, '=')
		if eq < 0 || !redact(string(s[:eq])) {
			continue
		}
		if v := string(s[eq+1:]); len(v) >= MinSecret && strings.Trim(v, "*") != "" && !slices.Contains(secrets, v) {
			secrets = append(secrets, v)
		}
		for i := eq + 1; i < len(s); i++ {
			s[i] = '*'
		}
	}
	prev := "" // the argument before, in the order captured
	for _, m := range sc.Mem {
		if m.Arg != argv {
			continue
		}
		s := str(m)
		if s == nil {
			continue
		}
		arg := string(s)
		if red := RedactString(arg, prev == "-c", redact, secrets, stars); red != arg && len(red) == len(s) {
			copy(s, red)
		}
		prev = arg
	}
	return secrets
}

// IsEnvName reports whether s is a portable environment variable name: a
// letter or underscore, then letters, digits and underscores.
func IsEnvName(s string) bool {
	for i, c := range []byte(s) {
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}
