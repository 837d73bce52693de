package explore

import (
	"path/filepath"
	"strings"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"golang.org/x/sys/unix"
)

// Call is one call of the clean run where a fault could land.
type Call struct {
	Lineage string   // the thread that made it ("1", "1.2", "1.2/t3")
	Nr      int      // x86_64 syscall number
	Name    string   // syscall name
	Nth     int      // it was the Nth call of Nr in its thread, from 1 (as -e inject=...:when=N counts)
	Path    string   // the file it acts on, "" for none
	Frames  []string // call-site frames, innermost first (empty where no walk was possible)
	Ret     int64    // what it returned when recorded
	Count   uint64   // its byte count argument, for calls that have one
}

// maxWhen is the largest N strace's when= takes.
const maxWhen = 65535

// maxCalls bounds the candidate calls one clean run gives explore.
const maxCalls = 1 << 20

// collector is the tracer.Handler that lists the candidate calls of the
// clean run while it is recorded.
type collector struct {
	space   *Space
	dir     string // the run's working directory, for relative paths
	frames  func(sc *tracer.Syscall) []string
	counts  map[string][]uint32 // per lineage, per syscall number
	pending map[*tracer.Thread]int
	calls   []Call
	buf     []byte
}

func newCollector(space *Space, dir string, frames func(sc *tracer.Syscall) []string) *collector {
	return &collector{space: space, dir: dir, frames: frames, counts: map[string][]uint32{}, pending: map[*tracer.Thread]int{}}
}

// Enter implements tracer.Handler.
func (c *collector) Enter(sc *tracer.Syscall, act *tracer.Action) {
	if sc.Arch != abi.ArchX86_64 || sc.Nr < 0 || sc.Nr >= maxNr {
		return
	}
	fs := c.space.Faults(sc.Nr)
	if len(fs) == 0 {
		return
	}
	cnt := c.counts[sc.Thread.Lineage]
	if cnt == nil {
		cnt = make([]uint32, maxNr)
		c.counts[sc.Thread.Lineage] = cnt
	}
	cnt[sc.Nr]++
	n := int(cnt[sc.Nr])
	if n > maxWhen || len(c.calls) >= maxCalls {
		return
	}
	path, ok := c.path(sc)
	if !ok {
		return
	}
	call := Call{Lineage: sc.Thread.Lineage, Nr: sc.Nr, Name: sc.Name(), Nth: n, Path: path}
	if shortable(sc.Nr) {
		call.Count = sc.Args[2]
	}
	if c.frames != nil {
		call.Frames = c.frames(sc)
	}
	if c.space.own && inLoader(call.Frames) {
		return
	}
	c.pending[sc.Thread] = len(c.calls)
	c.calls = append(c.calls, call)
	act.WantExit = true
}

// Exit implements tracer.Handler.
func (c *collector) Exit(sc *tracer.Syscall, act *tracer.Action) {
	i, ok := c.pending[sc.Thread]
	if !ok {
		return
	}
	delete(c.pending, sc.Thread)
	c.calls[i].Ret = sc.Ret
	if act.Skip {
		c.calls[i].Ret = act.Value
	}
}

// maxNr bounds the x86_64 syscall numbers explore looks at.
const maxNr = 512

// path returns the file a call acts on, and whether the call is one the
// space covers: with the default space, calls on files must be on the
// program's own files.
func (c *collector) path(sc *tracer.Syscall) (string, bool) {
	info := sc.Info
	if info == nil {
		return "", false
	}
	switch sc.Nr {
	case unix.SYS_MMAP:
		const mapAnonymous = 0x20
		if sc.Args[3]&mapAnonymous != 0 {
			return "", true
		}
		p := sc.Thread.Proc.FDPath(int(int32(sc.Args[4])))
		return p, !c.space.own || ownFile(p)
	case unix.SYS_BRK, unix.SYS_CLONE, unix.SYS_CLONE3, unix.SYS_FORK, unix.SYS_VFORK:
		return "", true
	}
	network := info.Class&abi.ClassNetwork != 0
	for i, a := range info.Args {
		switch a.Kind {
		case abi.KindPath:
			p := c.argPath(sc, info, i)
			return p, !c.space.own || ownFile(p)
		case abi.KindFD:
			if i != 0 {
				continue
			}
			p := sc.Thread.Proc.FDPath(int(int32(sc.Args[0])))
			if network || strings.HasPrefix(p, "socket:") {
				return p, network
			}
			return p, !c.space.own || ownFile(p)
		}
	}
	return "", network || !c.space.own
}

// argPath reads path argument i, made absolute against its directory
// descriptor or the working directory.
func (c *collector) argPath(sc *tracer.Syscall, info *abi.Syscall, i int) string {
	s, _, err := decode.ReadString(sc.Mem(), sc.Args[i], 4096, c.buf[:0])
	c.buf = s[:0]
	if err != nil || len(s) == 0 {
		return ""
	}
	p := string(s)
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	dir := c.dir
	if i > 0 && info.Args[i-1].Kind == abi.KindDirFD && int32(sc.Args[i-1]) != unix.AT_FDCWD {
		dir = sc.Thread.Proc.FDPath(int(int32(sc.Args[i-1])))
	}
	if !filepath.IsAbs(dir) {
		return p
	}
	return filepath.Join(dir, p)
}

// notOwn are the prefixes of paths that are not the program's own files:
// the dynamic loader's, and the kernel's.
var notOwn = []string{"/proc/", "/sys/", "/dev/", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/libexec/", "/etc/ld.so."}

// ownFile reports whether p is one of the program's own files.
func ownFile(p string) bool {
	if !filepath.IsAbs(p) {
		return false
	}
	for _, pre := range notOwn {
		if strings.HasPrefix(p, pre) || p+"/" == pre {
			return false
		}
	}
	return true
}

// inLoader reports whether a call was made by the dynamic loader.
func inLoader(frames []string) bool {
	return len(frames) > 0 && strings.HasPrefix(frames[0], "ld-linux")
}
