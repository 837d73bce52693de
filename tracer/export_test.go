package tracer

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
