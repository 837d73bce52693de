// Package abi is hermes's model of the Linux x86_64 system call ABI: the
// numbers, names and argument kinds of every syscall (generated from the
// kernel's own tracepoint formats and golang.org/x/sys/unix, see gen.go),
// the names of the i386 and x32 tables a seccomp filter can see from an
// x86_64 process, errno and signal names, and decoders for the common flag
// sets.
//
// The Core uses the argument kinds to decide what to read from tracee memory
// at entry (paths, strings, in-buffers, argv) and at exit (out-buffers sized
// by the return value, fixed-size structs), and how to print each value.
package abi

// Arch identifies which syscall table a trapped call belongs to. An x86_64
// process can reach three: its own, i386 through `int 0x80`, and x32 with
// bit 30 of the number set.
type Arch uint8

// The syscall tables hermes names.
const (
	ArchX86_64 Arch = iota
	ArchI386
	ArchX32
)

func (a Arch) String() string {
	switch a {
	case ArchX86_64:
		return "x86_64"
	case ArchI386:
		return "i386"
	case ArchX32:
		return "x32"
	}
	return "unknown"
}

// X32Bit is the bit that marks an x32 syscall number (__X32_SYSCALL_BIT).
const X32Bit = 0x40000000

// ArgKind says what an argument is, which decides how it is read from the
// tracee, recorded and printed.
type ArgKind uint8

// Argument kinds.
const (
	KindInt         ArgKind = iota // signed integer (int, long, pid_t, ...), printed in decimal
	KindUint                       // unsigned integer (size_t, unsigned int, ...), decimal
	KindHex                        // opaque pointer or address, printed 0x..., NULL when 0
	KindFD                         // file descriptor
	KindDirFD                      // directory fd of *at calls: AT_FDCWD (-100) is named
	KindPath                       // const char * path, NUL-terminated, read at entry
	KindString                     // const char * other than a path (names, values), read at entry
	KindBufIn                      // buffer the kernel reads; length in arg SizeArg
	KindBufOut                     // buffer the kernel writes; length min(arg SizeArg, return value)
	KindStructIn                   // fixed-size struct the kernel reads; Size bytes
	KindStructOut                  // fixed-size struct the kernel writes on success; Size bytes
	KindStrVec                     // char *const [] (argv, envp), NULL-terminated
	KindIovIn                      // const struct iovec *, count in arg SizeArg, kernel reads
	KindIovOut                     // const struct iovec *, count in arg SizeArg, kernel writes (total clamped by return)
	KindFlags                      // bit flags or an enum with a decoder (see Arg.Flags)
	KindMode                       // file mode, printed in octal
	KindSignal                     // signal number, printed SIGxxx
	KindIoctlArg                   // ioctl's third argument: an out-buffer of _IOC_SIZE(cmd) bytes when _IOC_READ is set in cmd
	KindSockaddrIn                 // const struct sockaddr *, length in arg SizeArg
	KindSockaddrOut                // struct sockaddr * the kernel fills, socklen_t * length in/out in arg SizeArg
	KindOutUnknown                 // a pointer the kernel writes through whose size the model does not know: reported, never guessed

	// Added by the tracer/abi owner (append-only):

	KindFDSet       // fd_set * of select/pselect6, read at entry and rewritten on success; ceil(arg SizeArg / 64) * 8 bytes
	KindSizedOut    // buffer the kernel fills on success with exactly arg SizeArg bytes, whatever it returns (sigset out-parameters)
	KindArrayIn     // array the kernel reads: arg SizeArg elements of Size bytes (semop sembufs, setgroups)
	KindArrayOut    // array the kernel writes: min(arg SizeArg, return value) elements of Size bytes (epoll_wait events, getgroups)
	KindArrayInOut  // array read at entry and rewritten on success: arg SizeArg elements of Size bytes (poll/ppoll pollfds)
	KindBufOutLen   // buffer the kernel writes whose length is an int read and written through the pointer in arg SizeArg (getsockopt optval)
	KindStructInOut // fixed-size struct the kernel reads at entry and may rewrite; Size bytes (socklen_t *, select timeout, adjtimex)
	KindMsghdrIn    // struct msghdr * the kernel reads (sendmsg): name, iovecs, control
	KindMsghdrOut   // struct msghdr * whose iovecs the kernel fills (recvmsg): total clamped by the return value; name, control and flags rewritten
	KindCmdArg      // meaning depends on a command argument (fcntl, ioctl-like multiplexers: prctl, ptrace, keyctl, bpf, futex's timeout/val2): integer or pointer, direction unknown to the model; printed in hex, captured as memory only where Syscall.CmdMem lists a struct for the command
)

// NoArg marks an Arg.SizeArg that does not apply.
const NoArg = -1

// Arg describes one syscall argument.
type Arg struct {
	Name    string  // from the tracepoint format, e.g. "filename"
	Type    string  // C type from the tracepoint format, e.g. "const char *"
	Kind    ArgKind //
	SizeArg int8    // for buffers and iovecs: index (0-based) of the argument holding the length/count; NoArg otherwise
	Size    uint16  // for KindStructIn/KindStructOut: size in bytes on x86_64
	Flags   FlagSet // for KindFlags: which decoder names the bits
}

// RetKind says how a return value is printed.
type RetKind uint8

// Return kinds.
const (
	RetInt  RetKind = iota // decimal; negative values in -4095..-1 are errors
	RetFD                  // a new file descriptor
	RetHex                 // an address (mmap, brk, mremap, shmat)
	RetNone                // the call does not return (exit, exit_group); printed "= ?"
)

// Class is a bitmask of strace's syscall classes (-e trace=%file and so on).
type Class uint16

// The classes strace defines for -e trace=%NAME.
const (
	ClassFile    Class = 1 << iota // takes a file name: %file
	ClassProcess                   // process lifecycle: %process
	ClassNetwork                   // %network
	ClassSignal                    // %signal
	ClassIPC                       // SysV IPC: %ipc
	ClassDesc                      // uses or makes a file descriptor: %desc
	ClassMemory                    // memory mapping: %memory
	ClassCreds                     // %creds
	ClassClock                     // %clock
	ClassStat                      // %stat
	ClassLstat                     // %lstat
	ClassFstat                     // %fstat
	ClassStatfs                    // %statfs
	ClassFstatfs                   // %fstatfs
	ClassPure                      // %pure: no arguments, always succeed

	// Added by the tracer/abi owner (append-only):

	ClassStatfsLike // %%statfs: statfs, fstatfs and ustat (%%stat is ClassStat|ClassLstat|ClassFstat on x86_64)
)

// Syscall describes one entry of a syscall table.
type Syscall struct {
	Nr    int
	Name  string
	Args  []Arg
	Ret   RetKind
	Class Class
	FS    *FSEffect // the files it changes; nil for calls that change none
	// Replay says how replay has its outcome again (see ReplayFacts).
	Replay ReplayFacts
	// IDs lists where the call carries a pid or an id the kernel hands
	// out (internal/mkabi/spec_ids.go, and every pid_t argument).
	IDs []IDRef
	// CmdMem lists the structs a KindCmdArg argument points to for some
	// values of a command argument (internal/mkabi/spec_cmdmem.go):
	// fcntl's struct flock for F_SETLK and F_GETLK.
	CmdMem []CmdMem
}

// CmdMem is a struct a command-dependent argument (KindCmdArg) points to
// when the command argument If equals IfVal (the bits of it IfMask
// selects, when not 0: futex's op without its flags): what record captures, replay
// may write and the decoder prints, as for KindStructIn (In),
// KindStructOut (Out) or KindStructInOut (both).
type CmdMem struct {
	Arg    int8   // the pointer argument
	Size   uint16 // bytes on x86_64
	If     int8   // the command argument
	IfVal  uint64
	IfMask uint64 // 0: all of the command's bits
	In     bool   // the kernel reads it at entry
	Out    bool   // the kernel writes it when the call succeeds
}

// CmdMemFor returns the struct argument arg points to for a call made
// with args, or nil when it points to none the table knows (or is no
// pointer for that command).
func (s *Syscall) CmdMemFor(args *[6]uint64, arg int) *CmdMem {
	for i := range s.CmdMem {
		m := &s.CmdMem[i]
		cmd := args[m.If]
		if m.IfMask != 0 {
			cmd &= m.IfMask
		}
		if int(m.Arg) == arg && cmd == m.IfVal {
			return m
		}
	}
	return nil
}

// IDKind says what namespace an id belongs to: replay keeps one map from
// recorded to live ids for each.
type IDKind uint8

// The kinds of ids that differ between two runs.
const (
	IDPid   IDKind = iota + 1 // a pid or tid; negated, a process group
	IDMsq                     // a SysV message queue id (msgget)
	IDSem                     // a SysV semaphore set id (semget)
	IDShm                     // a SysV shared memory id (shmget)
	IDKey                     // a key serial (add_key, request_key)
	IDTimer                   // a POSIX timer id (timer_create)
)

func (k IDKind) String() string {
	switch k {
	case IDPid:
		return "pid"
	case IDMsq:
		return "msq"
	case IDSem:
		return "sem"
	case IDShm:
		return "shm"
	case IDKey:
		return "key"
	case IDTimer:
		return "timer"
	}
	return "id?"
}

// ArgRet is IDRef.Arg for the return value.
const ArgRet = 6

// IDRef is one place a syscall carries an id: an argument's value, a
// 32-bit field of the struct an argument points to, or the return value.
type IDRef struct {
	Kind IDKind
	Arg  int8  // the argument, or ArgRet
	Off  int16 // -1: the value itself; else the byte offset of the field
	Out  bool  // the kernel writes it (a field of an out-struct, the return value)
	// If is NoArg, or the argument (a command) that must equal IfVal for
	// the call to carry the id there.
	If    int8
	IfVal uint64
}

// Applies reports whether a call made with args carries the id.
func (r *IDRef) Applies(args *[6]uint64) bool {
	return r.If == NoArg || args[r.If] == r.IfVal
}

// ReplayFacts are what replay needs to know of a syscall beside its
// arguments, as rr's syscalls.py keeps them next to each call: which
// emulation class it belongs to, whether it reads or writes data through
// its descriptor, carries pids, depends on timing, or has an effect the
// program's user can see.
type ReplayFacts uint32

// The replay facts (internal/mkabi/spec_replay.go assigns them).
const (
	ReplayTime      ReplayFacts = 1 << iota // a clock, a sleep, CPU accounting
	ReplayRandom                            // random bytes
	ReplayPidRet                            // returns a pid of the caller's family
	ReplayUname                             // the system's name
	ReplayPoll                              // readiness of descriptors
	ReplayRead                              // reads data from its descriptor (argument 0) into memory
	ReplayWrite                             // writes data to its descriptor (argument 0)
	ReplaySock                              // another socket call whose outcome the peer decides
	ReplayAccept                            // accepts a connection
	ReplayPidResult                         // returns a pid
	ReplayWait                              // reaps a child
	ReplayPidArgs                           // has pid arguments
	ReplaySocket                            // makes a socket
	ReplayNoise                             // how often it is made depends on timing
	ReplayFDInfo                            // asks what its descriptor (argument 0) is
	ReplayMeta                              // stat, statfs or a listing of a file
	ReplayVisible                           // its effect reaches outside the process
	ReplayTimeLeft                          // interrupted by a signal, it writes the time left into its out-structs
	ReplayTimeSet                           // arms a timer: runs, and gives the program the recorded time left of the one it replaces
	ReplayUnchanged                         // never fails with an error: it changes nothing and returns the current state (asked for with argument 0 = 0)
	ReplayStatCmd                           // its commands that write a struct (CmdMem, out) report an object's pids, times and counters
)

// StatCmd reports whether a call made with args is one of the commands of
// a ReplayStatCmd call that fill a struct with an object's state.
func (s *Syscall) StatCmd(args *[6]uint64) bool {
	if s.Replay&ReplayStatCmd == 0 {
		return false
	}
	for i := range s.CmdMem {
		if m := &s.CmdMem[i]; m.Out && s.CmdMemFor(args, int(m.Arg)) == m {
			return true
		}
	}
	return false
}

// FSWhen says when a call with an FSEffect changes the file system.
type FSWhen uint8

// When an FSEffect applies.
const (
	FSAlways         FSWhen = iota // whenever the call is made
	FSOpenFlags                    // when the open flags in argument WhenArg create, truncate or write
	FSOpenHow                      // the same, for the flags of the struct open_how in argument WhenArg
	FSSharedWritable               // for a shared mapping with write access (mmap's prot and flags)
)

// PathRef names a path argument: Path is the argument holding it, Dir the
// directory fd argument it is relative to (NoArg: the working directory).
// A Path of NoArg means there is none.
type PathRef struct {
	Dir, Path int8
}

// FSEffect says which files a syscall changes: the paths (at most two:
// rename's old and new names) and the file behind a descriptor. Record
// keeps a pre-image of each before the call runs; replay restores them.
type FSEffect struct {
	Paths   [2]PathRef
	FD      int8 // argument holding a descriptor whose file changes; NoArg if none
	When    FSWhen
	WhenArg int8 // the argument When looks at
	// NoFollow: the call acts on the last component itself, not on what a
	// symbolic link there points to (unlink, rename, lchown).
	NoFollow bool
	// Tree: a directory the call moves is kept with everything below it.
	Tree bool
	// Data is set for the calls that write the contents of the file behind
	// FD (or grow it): what a full or failing disk refuses. nil for calls
	// that change only names or metadata (chmod, rename), or that change a
	// file without a call per write (mmap).
	Data *DataWrite
}

// DataWrite says how a call writes the contents of the file behind its
// FSEffect.FD.
type DataWrite struct {
	// Len is the argument holding how many bytes it writes; NoArg for the
	// vectored calls and for fallocate, whose length is space, not data.
	Len int8
	// Grow is the argument holding the file's new size when the call
	// writes only by growing the file (ftruncate); NoArg otherwise.
	Grow int8
}

// Changes reports whether a call with these arguments changes the file
// system, by the rule in When (the arguments of an FSOpenHow call are not
// enough: the caller reads the struct and passes its flags as how).
func (e *FSEffect) Changes(args *[6]uint64, how uint64) bool {
	switch e.When {
	case FSOpenFlags:
		return openChanges(args[e.WhenArg])
	case FSOpenHow:
		return openChanges(how)
	case FSSharedWritable:
		const protWrite, mapShared, mapSharedValidate = 0x2, 0x1, 0x3
		t := args[3] & 0x3
		return args[2]&protWrite != 0 && (t == mapShared || t == mapSharedValidate)
	}
	return true
}

// openChanges reports whether open flags create, truncate or write.
func openChanges(flags uint64) bool {
	const accMode, wrOnly, rdWr, creat, trunc, tmpfile = 0x3, 0x1, 0x2, 0x40, 0x200, 0x410000
	return flags&accMode == wrOnly || flags&accMode == rdWr || flags&(creat|trunc) != 0 || flags&tmpfile == tmpfile
}

// Interrupted reports whether a call of sc that returned ret was cut short
// by a signal after writing the time it had left (ReplayTimeLeft): EINTR,
// or a restart code the tracer sees before the signal's handler runs.
func Interrupted(sc *Syscall, ret int64) bool {
	const eintr, erestartsys, erestartRestartblock = 4, 512, 516
	return sc.Replay&ReplayTimeLeft != 0 && (ret == -eintr || (ret <= -erestartsys && ret >= -erestartRestartblock))
}
