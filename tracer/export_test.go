package tracer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// PeekString reads the NUL-terminated string at addr in sc's memory with
// PTRACE_PEEKDATA only. It exists to test the fallback path against
// process_vm_readv.
func PeekString(sc *Syscall, addr uint64) (string, error) {
	m := &Memory{pid: sc.Thread.Tid, noVM: true}
	var out []byte
	var b [1]byte
	for len(out) < 4096 {
		if _, err := m.ReadAt(b[:], addr+uint64(len(out))); err != nil {
			return string(out), err
		}
		if b[0] == 0 {
			break
		}
		out = append(out, b[0])
	}
	return string(out), nil
}

// HostVDSO returns the address of this process's vDSO image, from
// /proc/self/auxv (0 if it has none).
func HostVDSO() (uint64, error) {
	data, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, err
	}
	for i := 0; i+16 <= len(data); i += 16 {
		if binary.LittleEndian.Uint64(data[i:]) == auxSysinfoEhdr {
			return binary.LittleEndian.Uint64(data[i+8:]), nil
		}
	}
	return 0, nil
}

// BreakVDSOPlan makes the plan for this kernel's vDSO image fail, as for
// an image that cannot be patched, until restore is called. Only for a
// test that no other test runs alongside.
func BreakVDSOPlan() (restore func(), err error) {
	base, err := HostVDSO()
	if err != nil || base == 0 {
		return nil, fmt.Errorf("no vDSO here (%v)", err)
	}
	img, err := wholeVDSO(NewMemory(os.Getpid()), base)
	if err != nil {
		return nil, err
	}
	p := vdsoPlanFor(img)
	vdsoPlans.mu.Lock()
	saved := p.err
	p.err, p.warned = errors.New("broken by a test"), false
	vdsoPlans.mu.Unlock()
	return func() {
		vdsoPlans.mu.Lock()
		p.err, p.warned = saved, false
		vdsoPlans.mu.Unlock()
	}, nil
}

// wholeVDSO reads the whole vDSO image at base.
func wholeVDSO(mem *Memory, base uint64) ([]byte, error) {
	head := make([]byte, pageSize)
	n, _ := mem.ReadAt(head, base)
	return readVDSO(mem, base, head[:n])
}
