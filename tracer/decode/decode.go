// Package decode renders system calls the way strace 6.1 prints them:
//
//	openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3
//
// It works from any source of tracee memory: the live process (through
// process_vm_readv or /proc/PID/mem) or memory captured in a trace file and
// replayed later. Both are reached through the small Memory interface.
//
// The renderers append to a caller-supplied []byte and do not allocate on
// the hot path: with a dst of sufficient capacity, AppendCall and AppendRet
// allocate nothing for the common calls (read, write, openat, mmap, stat ...).
// Scratch space for reading tracee memory comes from an internal pool.
//
// What is printed for each argument follows the argument kinds of package
// abi (path, in-buffer, out-buffer, struct, iovec, flags ...), refined per
// syscall where strace has a dedicated decoder that matters in practice
// (execve, open/openat, mmap, clone, ioctl, fcntl, stat, wait4, signals,
// sockets, rlimits, time structures).
//
// Memory that cannot be read is never fatal: the argument is printed as
// strace prints it in that case, as its address in hex.
package decode

import (
	"errors"
	"sync"

	"github.com/hermes-trace/hermes/tracer/abi"
)

// Memory is the tracee memory the decoder reads. ReadAt reads len(p) bytes
// at addr, returning how many it read; a short read comes with an error at
// an unmapped page.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// Options control how much is printed.
type Options struct {
	// StrSize is strace's -s: the most bytes of a string or buffer shown.
	// Zero means strace's default, 32. Paths are shown in full (up to
	// PATH_MAX), as strace does.
	StrSize int
	// MaxVec is the most elements of an argv-like array, an iovec array
	// or another array shown before "...". Zero means what strace does:
	// StrSize elements, or all of them (up to 65536) when Verbose.
	MaxVec int
	// Verbose is strace's -v: environment arrays are printed in full
	// rather than as a "/* N vars */" comment, and utsname in full.
	Verbose bool
	// FDs, when set, names file descriptors as strace -y does: every
	// descriptor argument, descriptor result and pipe/socketpair pair is
	// followed by what FDs appends for it ("<path>").
	FDs FDNamer
}

// FDNamer names file descriptors for strace's -y and -yy.
type FDNamer interface {
	// AppendFDName appends the decoration of fd, e.g. "</etc/hostname>",
	// or nothing when fd names nothing; AT_FDCWD (-100) is the working
	// directory. fresh is set for descriptors the call returned, which
	// must be looked up as they are now; the others may be what they
	// were when the call was made.
	AppendFDName(dst []byte, fd int, fresh bool) []byte
}

// phase says which part of a call's text to render: strace prints the
// arguments known at entry when the call is made and the rest when it
// returns, and shows the two halves on separate lines when another
// thread's line comes between them.
type phase uint8

const (
	phaseAll   phase = iota // the whole call
	phaseEntry              // "read(3, ": the name, "(" and what strace prints at entry
	phaseExit               // `"data", 16)`: what strace prints when the call returns, and ")"
)

// DefaultStrSize is strace's default -s.
const DefaultStrSize = 32

// pathMax is the longest path shown (PATH_MAX).
const pathMax = 4096

// pageSize is the granularity ReadString reads in.
const pageSize = 4096

// maxVecVerbose bounds arrays printed in verbose mode.
const maxVecVerbose = 1 << 16

// Call is one system call to render.
type Call struct {
	Arch   abi.Arch
	Nr     int
	Info   *abi.Syscall // nil for unknown syscalls and for i386/x32 calls: the name comes from abi.Name and the six arguments print in hex
	Args   [6]uint64
	Ret    int64 // valid when Exited
	Exited bool  // the call returned (out-buffers can be read)
}

// succeeded reports whether the call returned without an error, which is
// when what it wrote to out-parameters may be read.
func (c *Call) succeeded() bool {
	return c.Exited && (c.Ret >= 0 || c.Ret < -abi.MaxErrno)
}

var errNoMemory = errors.New("decode: no tracee memory")

// state is the per-call scratch space, pooled.
type state struct {
	mem     Memory
	c       *Call
	strSize int
	maxVec  int
	verbose bool
	fds     FDNamer
	phase   phase
	buf     []byte    // strings and buffers
	raw     [512]byte // structures
	word    [16]byte  // pointers, iovecs
}

var statePool = sync.Pool{New: func() any {
	return &state{buf: make([]byte, 0, pathMax+1)}
}}

func getState(c *Call, mem Memory, o *Options) *state {
	st := statePool.Get().(*state)
	st.c = c
	st.mem = mem
	st.strSize, st.maxVec, st.verbose = DefaultStrSize, 0, false
	if o != nil {
		if o.StrSize > 0 {
			st.strSize = o.StrSize
		}
		st.maxVec = o.MaxVec
		st.verbose = o.Verbose
		st.fds = o.FDs
	} else {
		st.fds = nil
	}
	if st.maxVec <= 0 {
		st.maxVec = st.strSize
		if st.verbose {
			st.maxVec = maxVecVerbose
		}
	}
	return st
}

func putState(st *state) {
	st.c, st.mem, st.fds, st.phase = nil, nil, nil, phaseAll
	if cap(st.buf) > 1<<20 { // do not keep a huge -s buffer forever
		st.buf = make([]byte, 0, pathMax+1)
	}
	statePool.Put(st)
}

// AppendCall appends the strace rendering of c without its result, e.g.
// `openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC)`, reading strings,
// buffers and structs from mem. When c has not Exited, out-parameters are
// printed as addresses. mem may be nil, in which case every pointer prints
// as an address; o may be nil for the defaults.
func AppendCall(dst []byte, c *Call, mem Memory, o *Options) []byte {
	return appendCall(dst, c, mem, o, phaseAll)
}

// AppendCallEntry appends the part of c's rendering strace prints when the
// call is made: the name, "(" and the arguments known at entry, with the
// separator after them when more follow (`read(3, `). strace ends such a
// line with " <unfinished ...>" when another line interrupts it.
// AppendCallEntry followed by AppendCallExit is AppendCall.
func AppendCallEntry(dst []byte, c *Call, mem Memory, o *Options) []byte {
	return appendCall(dst, c, mem, o, phaseEntry)
}

// AppendCallExit appends the rest of c's rendering, what strace prints
// after "<... read resumed>": the arguments printed when the call returns
// and ")" (`"data", 16)`).
func AppendCallExit(dst []byte, c *Call, mem Memory, o *Options) []byte {
	return appendCall(dst, c, mem, o, phaseExit)
}

func appendCall(dst []byte, c *Call, mem Memory, o *Options, ph phase) []byte {
	st := getState(c, mem, o)
	st.phase = ph
	if ph != phaseExit {
		dst = appendName(dst, c)
		dst = append(dst, '(')
	}
	if c.Info == nil {
		if ph != phaseExit {
			for i := 0; i < abi.MaxArgs; i++ {
				if i > 0 {
					dst = append(dst, ", "...)
				}
				dst = appendHexZero(dst, c.Args[i])
			}
		}
	} else {
		dst = st.appendArgs(dst)
	}
	if ph != phaseEntry {
		dst = append(dst, ')')
	}
	putState(st)
	return dst
}

// wants reports whether text strace prints at entry (entry set) or at exit
// belongs to the phase being rendered.
func (st *state) wants(entry bool) bool {
	return st.phase == phaseAll || (st.phase == phaseEntry) == entry
}

// appendName appends the syscall's name.
func appendName(dst []byte, c *Call) []byte {
	if c.Info != nil && c.Info.Name != "" {
		return append(dst, c.Info.Name...)
	}
	return append(dst, abi.Name(c.Arch, c.Nr)...)
}

// AppendRet appends the result as strace prints it after the call:
// " = 3", " = -1 ENOENT (No such file or directory)", " = 0x7f1234500000"
// for address-returning calls, " = ? ERESTARTSYS (To be restarted if
// SA_RESTART is set)" for the restart codes, and " = ?" for calls that do
// not return or have not returned.
func AppendRet(dst []byte, c *Call) []byte { return AppendResult(dst, c, nil) }

// AppendResult is AppendRet with o's FDs naming a descriptor the call
// returned (strace -y: " = 3</etc/hostname>").
func AppendResult(dst []byte, c *Call, o *Options) []byte {
	if !c.Exited {
		return append(dst, " = ?"...)
	}
	kind := abi.RetInt
	if c.Info != nil {
		kind = c.Info.Ret
	}
	r := c.Ret
	if r < 0 && r >= -abi.MaxErrno {
		e := int(-r)
		switch e {
		case 512, 513, 514, 516: // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK
			dst = append(dst, " = ? "...)
		default:
			dst = append(dst, " = -1 "...)
		}
		return abi.AppendErrno(dst, e)
	}
	switch kind {
	case abi.RetNone:
		return append(dst, " = ?"...)
	case abi.RetHex:
		dst = append(dst, " = "...)
		return appendHexZero(dst, uint64(r))
	}
	dst = append(dst, " = "...)
	if o != nil && o.FDs != nil && r >= 0 && returnsFD(c) {
		dst = appendInt(dst, r)
		return o.FDs.AppendFDName(dst, int(r), true)
	}
	if c.Info != nil && c.Info.Name == "fcntl" && r > 0 {
		// strace names the flags F_GETFD and F_GETFL return.
		switch c.Args[1] {
		case 1: // F_GETFD
			dst = appendHexZero(dst, uint64(r))
			dst = append(dst, " (flags "...)
			dst = appendFDFlags(dst, uint64(r))
			return append(dst, ')')
		case 3: // F_GETFL
			dst = appendHexZero(dst, uint64(r))
			dst = append(dst, " (flags "...)
			dst = abi.FlagOpen.Append(dst, uint64(r))
			return append(dst, ')')
		}
	}
	return appendInt(dst, r)
}

// returnsFD reports calls whose result is a new descriptor.
func returnsFD(c *Call) bool {
	if c.Info == nil {
		return false
	}
	if c.Info.Ret == abi.RetFD {
		return true
	}
	return c.Info.Name == "fcntl" && (c.Args[1] == 0 || c.Args[1] == 1030) // F_DUPFD, F_DUPFD_CLOEXEC
}

// FDArgs calls fn with every descriptor c passes in an argument (not those
// it returns or writes), AT_FDCWD as -100: what strace -y names as the call
// is made.
func FDArgs(c *Call, fn func(fd int)) {
	if c.Info == nil {
		return
	}
	for i := range c.Info.Args {
		if i >= abi.MaxArgs {
			break
		}
		switch c.Info.Args[i].Kind {
		case abi.KindFD, abi.KindDirFD:
			fn(int(int32(c.Args[i])))
		}
	}
}
