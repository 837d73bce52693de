package replay

import (
	"encoding/binary"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
	"github.com/hermes-trace/hermes/tracer/abi"
)

// Ids the kernel hands out (SysV IPC ids, key serials, POSIX timer ids)
// and pids are not the same in two runs. The syscall table says where each
// call carries one (abi.Syscall.IDs: an argument, a field of a structure an
// argument points to, the return value): the program sees the recorded
// ids, the kernel is given the live ones. A pid inside a structure the
// program passes goes to the kernel in a copy hermes writes in its scratch
// mapping, never over the program's own buffer; one the kernel writes is
// turned into the recorded one where the program reads it.

// idMap maps the ids of one kind between the recording and this run.
type idMap struct {
	toLive map[int64]int64
	toRec  map[int64]int64
}

func (m *idMap) learn(rec, live int64) {
	if m.toLive == nil {
		m.toLive, m.toRec = make(map[int64]int64), make(map[int64]int64)
	}
	if old, ok := m.toLive[rec]; ok {
		delete(m.toRec, old)
	}
	if old, ok := m.toRec[live]; ok {
		delete(m.toLive, old)
	}
	m.toLive[rec] = live
	m.toRec[live] = rec
}

// movedStruct is a structure replay passed the kernel in scratch memory in
// place of the program's, for the exit to give back what the kernel wrote
// there.
type movedStruct struct {
	arg  int
	addr uint64 // the program's
	size int
	off  int
	val  []byte // the field as the program had it
}

// kids returns the map of kind k.
func (rp *Replayer) kids(k abi.IDKind) *idMap {
	if rp.idMaps == nil {
		rp.idMaps = make(map[abi.IDKind]*idMap)
	}
	m := rp.idMaps[k]
	if m == nil {
		m = &idMap{}
		rp.idMaps[k] = m
	}
	return m
}

// liveID returns the live id of a recorded one of kind k.
func (rp *Replayer) liveID(k abi.IDKind, v int32) (int32, bool) {
	if k == abi.IDPid {
		neg := v < -1
		if neg {
			v = -v
		}
		if v <= 0 {
			return 0, false
		}
		real, ok := rp.pids.toReal(v)
		if !ok || real == int(v) {
			return 0, false
		}
		if neg {
			real = -real
		}
		return int32(real), true
	}
	l, ok := rp.kids(k).toLive[int64(v)]
	if !ok || l == int64(v) {
		return 0, false
	}
	return int32(l), true
}

// recordedID returns the recorded id of a live one of kind k.
func (rp *Replayer) recordedID(k abi.IDKind, v int32) (int32, bool) {
	if k == abi.IDPid {
		neg := v < -1
		if neg {
			v = -v
		}
		if v <= 0 {
			return 0, false
		}
		rec, ok := rp.pids.toRecorded(int(v))
		if !ok || rec == v {
			return 0, false
		}
		if neg {
			rec = -rec
		}
		return rec, true
	}
	r, ok := rp.kids(k).toRec[int64(v)]
	if !ok || r == int64(v) {
		return 0, false
	}
	return int32(r), true
}

// translatePidArgs gives the kernel the live ids where the program passes
// recorded ones: in arguments, and in the structures arguments point to
// (copied to scratch memory).
func (rp *Replayer) translatePidArgs(sc *tracer.Syscall, act *tracer.Action) {
	if rp.opts.Emulate&Pid == 0 || sc.Arch != abi.ArchX86_64 || sc.Info == nil || len(sc.Info.IDs) == 0 {
		return
	}
	for i := range sc.Info.IDs {
		r := &sc.Info.IDs[i]
		if r.Out || r.Arg >= abi.ArgRet || !r.Applies(&sc.Args) || act.SetArgs&(1<<r.Arg) != 0 || hasString(act, int(r.Arg)) {
			continue
		}
		if r.Off < 0 {
			if live, ok := rp.liveID(r.Kind, int32(sc.Args[r.Arg])); ok {
				act.SetArgs |= 1 << r.Arg
				act.Args[r.Arg] = uint64(uint32(live))
			}
			continue
		}
		rp.translateField(sc, act, r)
	}
}

func hasString(act *tracer.Action, arg int) bool {
	for _, s := range act.Strings {
		if s.Index == arg {
			return true
		}
	}
	return false
}

// translateField passes the kernel a copy of the structure argument r.Arg
// points to, with the live id in its field at r.Off.
func (rp *Replayer) translateField(sc *tracer.Syscall, act *tracer.Action, r *abi.IDRef) {
	addr := sc.Args[r.Arg]
	if addr == 0 {
		return
	}
	size := int(r.Off) + 4
	if a := sc.Info.Args[r.Arg]; (a.Kind == abi.KindStructIn || a.Kind == abi.KindStructInOut) && int(a.Size) > size {
		size = int(a.Size)
	}
	buf := make([]byte, size)
	if n, _ := sc.Mem().ReadAt(buf, addr); n != size {
		return
	}
	field := buf[r.Off : r.Off+4]
	live, ok := rp.liveID(r.Kind, int32(binary.LittleEndian.Uint32(field)))
	if !ok {
		return
	}
	orig := append([]byte(nil), field...)
	binary.LittleEndian.PutUint32(field, uint32(live))
	act.Strings = append(act.Strings, tracer.StringArg{Index: int(r.Arg), Data: buf})
	if sc.Info.Args[r.Arg].Kind == abi.KindStructInOut {
		if rp.moved == nil {
			rp.moved = make(map[*tracer.Thread]movedStruct)
		}
		rp.moved[sc.Thread] = movedStruct{arg: int(r.Arg), addr: addr, size: size, off: int(r.Off), val: orig}
	}
}

// translateIDResults gives the program, at the exit of a call that ran,
// the recorded ids where the kernel returned or wrote live ones; a new id
// (msgget's, add_key's) is learned from what the recording had there.
func (rp *Replayer) translateIDResults(sc *tracer.Syscall, e *entry, act *tracer.Action) {
	if sc.Info == nil || len(sc.Info.IDs) == 0 {
		return
	}
	args := &sc.Args
	if a, ok := rp.entryArgs[sc.Thread]; ok {
		args = a
	}
	for i := range sc.Info.IDs {
		r := &sc.Info.IDs[i]
		if !r.Out || !r.Applies(args) {
			continue
		}
		if r.Arg == abi.ArgRet {
			ret := sc.Ret
			if act.Skip {
				ret = act.Value
			}
			if r.Kind != abi.IDPid && e != nil && e.s.Ret >= 0 {
				rp.kids(r.Kind).learn(e.s.Ret, ret)
			}
			if rec, ok := rp.recordedID(r.Kind, int32(ret)); ok {
				act.Skip, act.Value, act.By = true, int64(rec), "replay"
			}
			continue
		}
		addr := args[r.Arg] + uint64(r.Off)
		var b [4]byte
		if args[r.Arg] == 0 {
			continue
		}
		if n, _ := sc.Mem().ReadAt(b[:], addr); n != 4 {
			continue
		}
		live := int32(binary.LittleEndian.Uint32(b[:]))
		if r.Kind != abi.IDPid && e != nil {
			if rec, ok := recordedField(e, r); ok {
				rp.kids(r.Kind).learn(int64(rec), int64(live))
			}
		}
		if rec, ok := rp.recordedID(r.Kind, live); ok {
			binary.LittleEndian.PutUint32(b[:], uint32(rec))
			exitWrite(sc, act, addr, append([]byte(nil), b[:]...))
		}
	}
}

// recordedField reads the id the recording's out-memory had at r.
func recordedField(e *entry, r *abi.IDRef) (int32, bool) {
	for _, m := range e.s.Mem {
		if m.Kind != tracepb.MemKind_MEM_KIND_OUT || m.Arg != uint32(r.Arg) || len(m.Data) < int(r.Off)+4 {
			continue
		}
		return int32(binary.LittleEndian.Uint32(m.Data[r.Off:])), true
	}
	return 0, false
}

// restoreMoved gives the program's structure what the kernel wrote in the
// copy replay passed it (capget's header: the version it wants), with the
// program's own id in the field replay changed.
func (rp *Replayer) restoreMoved(sc *tracer.Syscall, act *tracer.Action) {
	mv, ok := rp.moved[sc.Thread]
	if !ok {
		return
	}
	delete(rp.moved, sc.Thread)
	buf := make([]byte, mv.size)
	if n, _ := sc.Mem().ReadAt(buf, sc.Args[mv.arg]); n != mv.size {
		return
	}
	copy(buf[mv.off:], mv.val)
	exitWrite(sc, act, mv.addr, buf)
}

// exitWrite writes memory at a call's exit (the tracer writes there only
// for a result it is given: the call's own).
func exitWrite(sc *tracer.Syscall, act *tracer.Action, addr uint64, data []byte) {
	if !act.Skip {
		act.Skip, act.Value, act.By = true, sc.Ret, "replay"
	}
	act.Writes = append(act.Writes, tracer.MemWrite{Addr: addr, Data: data})
}

// idRegions adds the fields of out-structures where the table says the
// kernel writes an id: replay rewrites them.
func idRegions(sc *tracer.Syscall, args *[6]uint64, add func(addr, n uint64)) {
	for i := range sc.Info.IDs {
		r := &sc.Info.IDs[i]
		if r.Out && r.Off >= 0 && r.Arg < abi.ArgRet && r.Applies(args) {
			add(args[r.Arg]+uint64(r.Off), 4)
		}
	}
}
