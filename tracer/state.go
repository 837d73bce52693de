package tracer

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hermes-trace/hermes/tracer/symbols"
)

// Process is one traced process (thread group) in the state model.
type Process struct {
	Pid     int    // tgid as the kernel numbers it
	Lineage string // "1", "1.2", ...: stable across runs, independent of pids
	Parent  *Process
	FDs     *FDTable
	Exe     string // path of the last successful execve, if seen

	threads     int // live threads
	children    int // processes forked so far, numbers the next lineage
	threadsMade int // threads created so far, numbers the next thread lineage
	nth         []uint64
	cacheFDs    bool           // the fd-changing calls are trapped: the table can be trusted
	maps        symbols.Maps   // cached /proc/PID/maps, for Syscall.Stack and Symbolize
	syms        *symbols.Cache // the tracer's ELF symbol tables
	scratch     []scratchSlot  // hermes's own mappings, for replacement strings
}

// Thread is one traced thread.
type Thread struct {
	Tid     int
	Lineage string // the process lineage for its first thread, "1.2/t3" for others
	Proc    *Process

	sc        Syscall
	act       Action // entry
	xact      Action // exit
	inSyscall bool   // between an entry and the exit stop we asked for
	wantExit  bool   // resume with PTRACE_SYSCALL to see the exit
	skipRet   *int64
	attached  bool  // attach mode: syscall stops, not seccomp
	parked    bool  // held by a Delay or a Hold
	hold      uint8 // holdApply, holdResume: held by a Hold, what comes on release
	admit     bool  // parked at the entry of a call that runs: Admitted when resumed
	resumeSig int
	deadline  int64
	gone      bool

	ownFilter bool        // the target installed a seccomp filter of its own on this thread
	ownNNP    bool        // the target set NO_NEW_PRIVS on this thread
	guardExit uint8       // what the guard must see at this call's exit
	unseen    bool        // the current call is trapped for the guard only: no handler sees it
	remote    *remoteMmap // the thread is making an mmap for hermes in place of its call
	redo      bool        // its call is to be entered again after remote
	argSaved  uint8       // argument registers a handler changed in the current call
	argOrig   [6]uint64   // what they held, given back at the call's exit
}

// Threads returns how many threads of p are alive.
func (p *Process) Threads() int { return p.threads }

// nextChildLineage returns the lineage for the next process p forks.
func (p *Process) nextChildLineage() string {
	p.children++
	return p.Lineage + "." + strconv.Itoa(p.children)
}

// nextThreadLineage returns the lineage for the next thread p creates.
func (p *Process) nextThreadLineage() string {
	p.threadsMade++
	return p.Lineage + "/t" + strconv.Itoa(p.threadsMade)
}

// count returns how many times p has made syscall nr, counting this one.
func (p *Process) count(nr int) uint64 {
	if nr < 0 || nr >= maxNr {
		return 0
	}
	if p.nth == nil {
		p.nth = make([]uint64, maxNr)
	}
	p.nth[nr]++
	return p.nth[nr]
}

// FDKind says what a file descriptor refers to.
type FDKind uint8

// File descriptor kinds.
const (
	FDUnknown FDKind = iota
	FDFile
	FDSocket
	FDPipe
	FDAnon // eventfd, epoll, timerfd, signalfd, pidfd, memfd...
)

// FD is one entry of a process's descriptor table.
type FD struct {
	Path    string // file path, "socket:[...]", "pipe:[...]", "anon_inode:..."
	Kind    FDKind
	Cloexec bool // valid when known is set
	// known: the model saw the call that set Cloexec. An entry resolved
	// from /proc leaves it unset (reading fdinfo for every descriptor
	// costs more than the path), and exec forgets it: the next lookup
	// resolves it again if it survived.
	known bool
}

// FDTable is a process's file descriptor table. Threads, and processes
// created with CLONE_FILES, share one.
type FDTable struct {
	fds map[int]FD
}

func newFDTable() *FDTable { return &FDTable{fds: make(map[int]FD)} }

// clone copies the table (fork without CLONE_FILES).
func (t *FDTable) clone() *FDTable {
	n := &FDTable{fds: make(map[int]FD, len(t.fds))}
	for fd, e := range t.fds {
		n.fds[fd] = e
	}
	return n
}

// exec drops the close-on-exec descriptors, and those whose flag the
// model does not know.
func (t *FDTable) exec() {
	for fd, e := range t.fds {
		if e.Cloexec || !e.known {
			delete(t.fds, fd)
		}
	}
}

// Set records fd.
func (t *FDTable) Set(fd int, e FD) { t.fds[fd] = e }

// Close forgets fd.
func (t *FDTable) Close(fd int) { delete(t.fds, fd) }

// Dup makes newfd a copy of oldfd; dup'ed descriptors do not inherit
// close-on-exec.
func (t *FDTable) Dup(oldfd, newfd int, cloexec bool) {
	e, ok := t.fds[oldfd]
	if !ok {
		delete(t.fds, newfd) // unknown: resolved from /proc when asked
		return
	}
	e.Cloexec, e.known = cloexec, true
	t.fds[newfd] = e
}

// SetCloexec changes fd's close-on-exec flag.
func (t *FDTable) SetCloexec(fd int, on bool) {
	if e, ok := t.fds[fd]; ok {
		e.Cloexec, e.known = on, true
		t.fds[fd] = e
	}
}

// Lookup returns what the model knows of fd.
func (t *FDTable) Lookup(fd int) (FD, bool) {
	e, ok := t.fds[fd]
	return e, ok
}

// Len returns the number of known descriptors.
func (t *FDTable) Len() int { return len(t.fds) }

// FDPath returns what fd of process p refers to: from the model when it
// can be trusted (Config.TrackFDs), else from /proc (and then remembered
// when the model is kept exact).
func (p *Process) FDPath(fd int) string {
	if !p.cacheFDs {
		target, _ := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/fd/" + strconv.Itoa(fd))
		return target
	}
	if e, ok := p.FDs.Lookup(fd); ok {
		return e.Path
	}
	target, err := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/fd/" + strconv.Itoa(fd))
	if err != nil {
		return ""
	}
	p.FDs.Set(fd, FD{Path: target, Kind: fdKindOf(target)})
	return target
}

func fdKindOf(target string) FDKind {
	switch {
	case strings.HasPrefix(target, "socket:"):
		return FDSocket
	case strings.HasPrefix(target, "pipe:"):
		return FDPipe
	case strings.HasPrefix(target, "anon_inode:"):
		return FDAnon
	case strings.HasPrefix(target, "/"):
		return FDFile
	}
	return FDUnknown
}

// Mapping is one line of /proc/PID/maps.
type Mapping struct {
	Start, End uint64
	Perms      string
	Offset     uint64
	Path       string
}

// Maps reads p's memory maps. The model reads them on demand rather than
// tracking every mmap.
func (p *Process) Maps() ([]Mapping, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(p.Pid) + "/maps")
	if err != nil {
		return nil, fmt.Errorf("maps of %d: %w", p.Pid, err)
	}
	defer f.Close()
	var out []Mapping
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		var m Mapping
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		m.Start, _ = strconv.ParseUint(lo, 16, 64)
		m.End, _ = strconv.ParseUint(hi, 16, 64)
		m.Perms = fields[1]
		m.Offset, _ = strconv.ParseUint(fields[2], 16, 64)
		if len(fields) >= 6 {
			m.Path = strings.Join(fields[5:], " ")
		}
		out = append(out, m)
	}
	return out, s.Err()
}

// Gone reports whether the thread exited or was killed.
func (th *Thread) Gone() bool { return th.gone }
