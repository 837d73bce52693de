package tracer

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const pageSize = 4096

// maxIov bounds the remote iovecs of one process_vm_readv call: 64 pages.
const maxIov = 64

// Memory reads and writes a tracee's memory. Reads use process_vm_readv
// with the remote range split at page boundaries, so that a range running
// into an unmapped page yields the bytes before it instead of nothing; when
// the call is unavailable (ENOSYS, EPERM under some LSMs) it falls back to
// PTRACE_PEEKDATA. It is owned by the tracer thread and reuses its iovecs.
type Memory struct {
	pid     int
	noVM    bool
	vmEPERM bool // process_vm_readv said EPERM: the process may be closed to hermes
	local   [1]unix.Iovec
	remote  [maxIov]unix.RemoteIovec
	wordBuf [8]byte
}

// ErrNoAccess is returned by Memory reads when the kernel refuses hermes
// the process's memory altogether (not an unmapped address, where the
// error is EFAULT or EIO): a decision that needs it must fail closed.
var ErrNoAccess = errors.New("tracee memory closed to hermes")

// NewMemory returns the memory of process (or thread) pid.
func NewMemory(pid int) *Memory { return &Memory{pid: pid} }

// ReadAt reads len(p) bytes at addr. It returns the number of bytes read;
// a short count comes with an error (EFAULT at an unmapped page).
func (m *Memory) ReadAt(p []byte, addr uint64) (int, error) {
	done := 0
	for done < len(p) {
		var n int
		var err error
		if m.noVM {
			n, err = m.peek(p[done:], addr+uint64(done))
		} else {
			n, err = m.readv(p[done:], addr+uint64(done))
			if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
				m.noVM = true
				m.vmEPERM = errors.Is(err, unix.EPERM)
				continue
			}
		}
		done += n
		if err != nil {
			if m.noVM && m.vmEPERM {
				// Both ways in were refused: as for a process that made
				// itself non-dumpable while hermes lacks CAP_SYS_PTRACE.
				return done, fmt.Errorf("%w: %w", ErrNoAccess, err)
			}
			return done, err
		}
		if n == 0 {
			return done, unix.EFAULT
		}
	}
	return done, nil
}

// readv does one process_vm_readv of up to maxIov pages.
func (m *Memory) readv(p []byte, addr uint64) (int, error) {
	k := 0
	total := 0
	for total < len(p) && k < maxIov {
		chunk := pageSize - int(addr+uint64(total))%pageSize
		if chunk > len(p)-total {
			chunk = len(p) - total
		}
		m.remote[k] = unix.RemoteIovec{Base: uintptr(addr) + uintptr(total), Len: chunk}
		k++
		total += chunk
	}
	m.local[0] = unix.Iovec{Base: &p[0]}
	m.local[0].SetLen(total)
	n, err := unix.ProcessVMReadv(m.pid, m.local[:], m.remote[:k], 0)
	if err != nil {
		return 0, err
	}
	if n < total {
		return n, unix.EFAULT
	}
	return n, nil
}

// peek reads with PTRACE_PEEKDATA, a word at a time.
func (m *Memory) peek(p []byte, addr uint64) (int, error) {
	done := 0
	for done < len(p) {
		a := addr + uint64(done)
		aligned := a &^ 7
		if err := ptrace(unix.PTRACE_PEEKDATA, m.pid, uintptr(aligned), uintptr(unsafe.Pointer(&m.wordBuf[0]))); err != nil {
			return done, err
		}
		done += copy(p[done:], m.wordBuf[a-aligned:])
	}
	return done, nil
}

// WriteAt writes p at addr, with process_vm_writev, or PTRACE_POKEDATA for
// what it cannot write (read-only mappings).
func (m *Memory) WriteAt(p []byte, addr uint64) error {
	if len(p) == 0 {
		return nil
	}
	if !m.noVM && m.writeVM(p, addr) == nil {
		return nil
	}
	return m.poke(p, addr)
}

// WriteAsKernel writes p at addr only where the process itself could
// write (process_vm_writev honours page protections, PTRACE_POKEDATA does
// not): what a syscall answered for the kernel may write.
func (m *Memory) WriteAsKernel(p []byte, addr uint64) error {
	if len(p) == 0 {
		return nil
	}
	return m.writeVM(p, addr)
}

func (m *Memory) writeVM(p []byte, addr uint64) error {
	m.local[0] = unix.Iovec{Base: &p[0]}
	m.local[0].SetLen(len(p))
	m.remote[0] = unix.RemoteIovec{Base: uintptr(addr), Len: len(p)}
	n, err := unix.ProcessVMWritev(m.pid, m.local[:], m.remote[:1], 0)
	if err != nil {
		return err
	}
	if n != len(p) {
		return unix.EFAULT
	}
	return nil
}

func (m *Memory) poke(p []byte, addr uint64) error {
	done := 0
	for done < len(p) {
		a := addr + uint64(done)
		aligned := a &^ 7
		off := int(a - aligned)
		var word [8]byte
		if off != 0 || len(p)-done < 8 {
			if err := ptrace(unix.PTRACE_PEEKDATA, m.pid, uintptr(aligned), uintptr(unsafe.Pointer(&word[0]))); err != nil {
				return fmt.Errorf("write tracee memory at %#x: %w", a, err)
			}
		}
		n := copy(word[off:], p[done:])
		if err := ptrace(unix.PTRACE_POKEDATA, m.pid, uintptr(aligned), uintptr(*(*uint64)(unsafe.Pointer(&word[0])))); err != nil {
			return fmt.Errorf("write tracee memory at %#x: %w", a, err)
		}
		done += n
	}
	return nil
}
