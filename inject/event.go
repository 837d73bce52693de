package inject

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// rep says how an argument reaches Lua (see the package documentation).
type rep uint8

const (
	repUnsigned64 rep = iota // number below 2^53, else u64
	repUnsigned32            // truncated to 32 bits: always a number
	repSigned32              // sign-extended from 32 bits: always a number
	repSigned64              // number when |v| < 2^53, else u64 of the bits
	repPointer               // always a u64
)

// callMeta is what the event needs to know about one x86_64 syscall,
// computed once from the abi table.
type callMeta struct {
	name                   lua.LValue
	nargs                  int
	reps                   [6]rep
	path, path2            int8 // index of the first and second KindPath arg, or -1
	fd, flags, count, sock int8 // first fd (or dirfd) arg, flags arg, size arg, sockaddr-in arg
	sockLen                int8 // arg holding the sockaddr length
	out, grow              int8 // the fd arg it writes file data to, and its new-size arg (ftruncate)
	clone                  bool // ioctl: it writes data to out only for the clone commands
	retPtr                 bool
}

// The ioctls that write data into the file behind their descriptor (their
// third argument names the source): FICLONE shares a whole file's blocks,
// FICLONERANGE a range; cp tries them before copy_file_range. A fact about
// ioctl commands, which the syscall table does not describe.
const (
	ficlone      = 0x40049409 // _IOW(0x94, 9, int)
	ficloneRange = 0x4020940d // _IOW(0x94, 13, struct file_clone_range)
)

const maxNr = 1024

// metas is built on first use: hermes runs that load no script skip it.
var metas = sync.OnceValue(func() []callMeta {
	m := make([]callMeta, maxNr)
	for i := range m {
		m[i] = callMeta{nargs: 6, path: -1, path2: -1, fd: -1, flags: -1, count: -1, sock: -1, sockLen: -1, out: -1, grow: -1}
		m[i].name = lua.LString("syscall_" + strconv.Itoa(i))
	}
	for _, s := range abi.All() {
		if s.Nr < 0 || s.Nr >= maxNr {
			continue
		}
		cm := &m[s.Nr]
		cm.name = lua.LString(s.Name)
		cm.nargs = len(s.Args)
		cm.retPtr = s.Ret == abi.RetHex
		dirfd := int8(-1)
		for i, a := range s.Args {
			cm.reps[i] = repOf(&a)
			switch a.Kind {
			case abi.KindPath:
				if cm.path < 0 {
					cm.path = int8(i)
				} else if cm.path2 < 0 {
					cm.path2 = int8(i)
				}
			case abi.KindFD:
				if cm.fd < 0 {
					cm.fd = int8(i)
				}
			case abi.KindDirFD:
				if dirfd < 0 {
					dirfd = int8(i)
				}
			case abi.KindFlags:
				if cm.flags < 0 {
					cm.flags = int8(i)
				}
			case abi.KindSockaddrIn:
				if cm.sock < 0 {
					cm.sock, cm.sockLen = int8(i), a.SizeArg
				}
			case abi.KindBufIn, abi.KindBufOut, abi.KindIovIn, abi.KindIovOut:
				if cm.count < 0 && a.SizeArg >= 0 {
					cm.count = a.SizeArg
				}
			}
		}
		if cm.fd < 0 {
			cm.fd = dirfd
		}
		if fs := s.FS; fs != nil && fs.Data != nil && fs.FD >= 0 {
			cm.out, cm.grow = fs.FD, fs.Data.Grow
			if cm.count < 0 {
				cm.count = fs.Data.Len
			}
		}
	}
	ioctl := &m[unix.SYS_IOCTL]
	ioctl.out, ioctl.clone = 0, true
	return m
})

// isWriteLike reports whether a call can write file data: what the trap
// item @write selects.
func (m *callMeta) isWriteLike() bool { return m.out >= 0 }

// is64 reports whether a C integer type is 64 bits wide on x86_64.
func is64(t string) bool {
	t = strings.TrimPrefix(t, "const ")
	switch t {
	case "loff_t", "off_t", "size_t", "ssize_t", "__u64", "u64", "__s64", "s64", "aio_context_t":
		return true
	}
	return strings.Contains(t, "long") || strings.Contains(t, "*")
}

func isUnsigned(t string) bool {
	t = strings.TrimPrefix(t, "const ")
	return strings.HasPrefix(t, "unsigned") || strings.HasPrefix(t, "u") || strings.HasPrefix(t, "__u") ||
		t == "size_t" || t == "aio_context_t" || t == "rwf_t"
}

func repOf(a *abi.Arg) rep {
	wide := is64(a.Type)
	switch a.Kind {
	case abi.KindFD, abi.KindDirFD, abi.KindSignal:
		if wide {
			return repSigned64
		}
		return repSigned32
	case abi.KindInt:
		switch {
		case isUnsigned(a.Type) && wide:
			return repUnsigned64
		case isUnsigned(a.Type):
			return repUnsigned32
		case wide:
			return repSigned64
		}
		return repSigned32
	case abi.KindUint, abi.KindFlags, abi.KindMode, abi.KindCmdArg:
		if wide {
			return repUnsigned64
		}
		return repUnsigned32
	}
	return repPointer
}

// argValue converts raw register bits to the Lua value for rep r.
func argValue(L *lua.LState, r rep, v uint64) lua.LValue {
	switch r {
	case repUnsigned32:
		return lua.LNumber(uint32(v))
	case repSigned32:
		return lua.LNumber(int32(v))
	case repSigned64:
		return signedValue(L, int64(v))
	case repPointer:
		return newU64(L, v)
	}
	return unsignedValue(L, v)
}

var errnoValues = sync.OnceValue(func() []lua.LValue {
	vs := make([]lua.LValue, abi.MaxErrno+1)
	for i := range vs {
		if n := abi.ErrnoName(i); n != "" {
			vs[i] = lua.LString(n)
		} else {
			vs[i] = lua.LString("E" + strconv.Itoa(i))
		}
	}
	return vs
})

var (
	archNames = map[abi.Arch]lua.LValue{
		abi.ArchX86_64: lua.LString("x86_64"), abi.ArchI386: lua.LString("i386"), abi.ArchX32: lua.LString("x32"),
	}
)

// meta returns the metadata of sc's call, nil for foreign arches.
func meta(sc *tracer.Syscall) *callMeta {
	if sc.Arch != abi.ArchX86_64 || sc.Nr < 0 || sc.Nr >= maxNr {
		return nil
	}
	return &metas()[sc.Nr]
}

// eventIndex is the __index of the event userdata: it reads the field from
// the syscall of the running callback, decoding lazily.
func (s *script) eventIndex(L *lua.LState) int {
	key, _ := L.Get(2).(lua.LString)
	c := &s.c
	sc := c.sc
	if sc == nil {
		L.Push(lua.LNil)
		return 1
	}
	m := meta(sc)
	var v lua.LValue = lua.LNil
	switch key {
	case "name":
		if m != nil {
			v = m.name
		} else {
			v = lua.LString(sc.Name())
		}
	case "nr":
		v = lua.LNumber(sc.Nr)
	case "nth":
		v = lua.LNumber(sc.Nth)
	case "seq":
		v = lua.LNumber(sc.Seq)
	case "pid":
		v = lua.LNumber(sc.Pid())
	case "tid":
		v = lua.LNumber(sc.Tid())
	case "lineage":
		v = lua.LString(sc.Thread.Lineage)
	case "plineage":
		v = lua.LString(sc.Thread.Proc.Lineage)
	case "arch":
		v = archNames[sc.Arch]
	case "args":
		v = s.argsUD
	case "exit":
		v = lua.LBool(c.phase == phaseExit)
	case "skipped":
		v = lua.LBool(sc.Skipped)
	case "comm":
		v = s.e.comm(sc.Pid())
	case "path":
		if m != nil && m.path >= 0 {
			v = c.pathAt(&c.path, sc, m.path)
		}
	case "path2":
		if m != nil && m.path2 >= 0 {
			v = c.pathAt(&c.path2, sc, m.path2)
		}
	case "fd":
		if m != nil && m.fd >= 0 {
			v = lua.LNumber(fdOf(sc, m, m.fd))
		}
	case "outfd", "outpath":
		if fd, ok := c.outFD(sc, m); ok {
			if key == "outfd" {
				v = lua.LNumber(fd)
			} else {
				v = c.fdPath(&c.outpath, sc, fd)
			}
		}
	case "iofd", "iopath":
		if fd, ok := c.ioFD(sc, m); ok {
			if key == "iofd" {
				v = lua.LNumber(fd)
			} else {
				v = c.fdPath(&c.iopath, sc, fd)
			}
		}
	case "stdio":
		v = lua.LFalse
		if fd, ok := c.ioFD(sc, m); ok && s.e.stdio.has(sc, fd) {
			v = lua.LTrue
		}
	case "exe":
		if exe := sc.Thread.Proc.Exe; exe != "" {
			v = lua.LString(exe)
		}
	case "fdpath":
		if m != nil && m.fd >= 0 {
			v = c.fdPath(&c.fdpath, sc, fdOf(sc, m, m.fd))
		}
	case "flags":
		if m != nil && m.flags >= 0 {
			v = argValue(L, m.reps[m.flags], sc.Args[m.flags])
		}
	case "count":
		if m != nil && m.count >= 0 {
			v = argValue(L, m.reps[m.count], sc.Args[m.count])
		}
	case "count_arg":
		if m != nil && m.count >= 0 {
			v = lua.LNumber(m.count + 1)
		}
	case "family", "port", "ip":
		if m != nil && m.sock >= 0 {
			v = c.sockField(L, sc, m, string(key))
		}
	case "ret":
		if sc.Exited {
			if m != nil && m.retPtr && (sc.Ret >= 0 || sc.Ret < -abi.MaxErrno) {
				v = newU64(L, uint64(sc.Ret))
			} else {
				v = signedValue(L, sc.Ret)
			}
		}
	case "errno":
		if sc.Exited && sc.Ret < 0 && sc.Ret >= -abi.MaxErrno {
			v = errnoValues()[-sc.Ret]
		}
	case "string":
		v = s.evString
	case "read":
		v = s.evRead
	}
	L.Push(v)
	return 1
}

// fdOf returns fd argument i, sign-extended as the kernel reads an int.
func fdOf(sc *tracer.Syscall, m *callMeta, i int8) int {
	if m.reps[i] == repSigned64 {
		return int(int64(sc.Args[i]))
	}
	return int(int32(sc.Args[i]))
}

// fdPath returns what fd refers to, looked up once per event into slot.
func (c *callCtx) fdPath(slot *lua.LValue, sc *tracer.Syscall, fd int) lua.LValue {
	if *slot == nil {
		*slot = lua.LNil
		if fd >= 0 {
			if p := sc.Thread.Proc.FDPath(fd); p != "" {
				*slot = lua.LString(p)
			}
		}
	}
	return *slot
}

// outFD returns the descriptor the call writes file data to, if this call
// writes any: a write-like call's (the syscall table's FSEffect.Data), an
// ioctl's for FICLONE and FICLONERANGE, and ftruncate's only when it grows
// the file. Worked out once per event.
func (c *callCtx) outFD(sc *tracer.Syscall, m *callMeta) (int, bool) {
	if m == nil || m.out < 0 {
		return 0, false
	}
	if !c.outDone {
		c.outDone = true
		c.outFd, c.outOK = fdOf(sc, m, m.out), true
		if m.clone {
			cmd := uint32(sc.Args[1])
			c.outOK = cmd == ficlone || cmd == ficloneRange
		}
		if m.grow >= 0 {
			c.outOK = grows(sc.Pid(), c.outFd, int64(sc.Args[m.grow]))
		}
	}
	return c.outFd, c.outOK
}

// ioFD returns the descriptor a call moves data through: for a call that
// can write file data, the one it writes to (none when this one writes
// nothing: another ioctl, an ftruncate that shrinks); for any other, its
// first descriptor (ev.fd: read's, fsync's, openat's directory).
func (c *callCtx) ioFD(sc *tracer.Syscall, m *callMeta) (int, bool) {
	switch {
	case m == nil:
		return 0, false
	case m.isWriteLike():
		return c.outFD(sc, m)
	case m.fd >= 0:
		return fdOf(sc, m, m.fd), true
	}
	return 0, false
}

// grows reports whether size is past the end of the file behind fd of
// process pid.
func grows(pid, fd int, size int64) bool {
	if fd < 0 {
		return false
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/fd/"+strconv.Itoa(fd), &st); err != nil {
		return false
	}
	return size > st.Size
}

// pathAt returns the string argument i, read from tracee memory once per
// event.
func (c *callCtx) pathAt(slot *lua.LValue, sc *tracer.Syscall, i int8) lua.LValue {
	if *slot == nil {
		*slot = c.readString(sc, sc.Args[i])
	}
	return *slot
}

const maxString = 4096

func (c *callCtx) readString(sc *tracer.Syscall, addr uint64) lua.LValue {
	if addr == 0 {
		return lua.LNil
	}
	b, _, err := decode.ReadString(sc.Mem(), addr, maxString, c.buf)
	c.buf = b[:0]
	c.denied(err)
	if err != nil && len(b) == 0 {
		return lua.LNil
	}
	return lua.LString(b)
}

// denied notes a read of tracee memory that the kernel refused hermes.
func (c *callCtx) denied(err error) {
	if err != nil && errors.Is(err, tracer.ErrNoAccess) && c.noAccess == nil {
		c.noAccess = err
	}
}

// sockField decodes the sockaddr argument: family ("inet", "inet6",
// "unix", or the number), port and ip.
func (c *callCtx) sockField(L *lua.LState, sc *tracer.Syscall, m *callMeta, key string) lua.LValue {
	if !c.sockDone {
		c.sockDone = true
		c.family, c.port, c.ip = lua.LNil, lua.LNil, lua.LNil
		addr := sc.Args[m.sock]
		n := 128
		if m.sockLen >= 0 {
			n = int(int32(sc.Args[m.sockLen]))
		}
		if addr != 0 && n >= 2 {
			n = min(n, 128)
			var b [128]byte
			got, err := sc.Mem().ReadAt(b[:n], addr)
			c.denied(err)
			c.decodeSockaddr(b[:max(got, 0)])
		}
	}
	switch key {
	case "family":
		return c.family
	case "port":
		return c.port
	}
	return c.ip
}

func (c *callCtx) decodeSockaddr(b []byte) {
	if len(b) < 2 {
		return
	}
	fam := binary.LittleEndian.Uint16(b)
	switch fam {
	case 2: // AF_INET
		c.family = lua.LString("inet")
		if len(b) >= 8 {
			c.port = lua.LNumber(binary.BigEndian.Uint16(b[2:]))
			c.ip = lua.LString(netip.AddrFrom4([4]byte(b[4:8])).String())
		}
	case 10: // AF_INET6
		c.family = lua.LString("inet6")
		if len(b) >= 24 {
			c.port = lua.LNumber(binary.BigEndian.Uint16(b[2:]))
			c.ip = lua.LString(netip.AddrFrom16([16]byte(b[8:24])).String())
		}
	case 1: // AF_UNIX
		c.family = lua.LString("unix")
		p := b[2:]
		if i := strings.IndexByte(string(p), 0); i >= 0 && (i > 0 || len(p) == 0) {
			p = p[:i]
		}
		c.ip = lua.LString(p) // the socket path ("\x00..." for abstract ones)
	default:
		c.family = lua.LNumber(fam)
	}
}

// argsIndex is __index of ev.args.
func (s *script) argsIndex(L *lua.LState) int {
	c := &s.c
	sc := c.sc
	n, ok := L.Get(2).(lua.LNumber)
	i := int(n)
	if sc == nil || !ok || float64(i) != float64(n) || i < 1 || i > 6 {
		L.Push(lua.LNil)
		return 1
	}
	r := repUnsigned64
	if m := meta(sc); m != nil {
		if i > m.nargs {
			L.Push(lua.LNil)
			return 1
		}
		r = m.reps[i-1]
	}
	L.Push(argValue(L, r, sc.Args[i-1]))
	return 1
}

func (s *script) argsLen(L *lua.LState) int {
	sc := s.c.sc
	n := 0
	if sc != nil {
		n = 6
		if m := meta(sc); m != nil {
			n = m.nargs
		}
	}
	L.Push(lua.LNumber(n))
	return 1
}

// evStringFn is ev:string(i): the NUL-terminated string argument i points
// to (at most 4096 bytes), or nil.
func (s *script) evStringFn(L *lua.LState) int {
	i := L.CheckInt(2)
	sc := s.c.sc
	if sc == nil || i < 1 || i > 6 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(s.c.readString(sc, sc.Args[i-1]))
	return 1
}

// evReadFn is ev:read(i, n): n bytes (at most 65536) at the address in
// argument i, or nil if they cannot be read.
func (s *script) evReadFn(L *lua.LState) int {
	i := L.CheckInt(2)
	n := L.CheckInt(3)
	sc := s.c.sc
	if sc == nil || i < 1 || i > 6 || n < 0 {
		L.Push(lua.LNil)
		return 1
	}
	n = min(n, 65536)
	b := make([]byte, n)
	got, err := sc.Mem().ReadAt(b, sc.Args[i-1])
	s.c.denied(err)
	if got <= 0 && n > 0 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(b[:got]))
	return 1
}

// comm returns /proc/PID/comm, cached until the process execs or exits.
func (e *Engine) comm(pid int) lua.LValue {
	if v, ok := e.comms[pid]; ok {
		return v
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	var v lua.LValue = lua.LNil
	if err == nil {
		v = lua.LString(strings.TrimSuffix(string(b), "\n"))
	}
	if e.comms == nil {
		e.comms = make(map[int]lua.LValue)
	}
	e.comms[pid] = v
	return v
}
