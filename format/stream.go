package format

import (
	"fmt"
	"sort"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/hermes-trace/hermes/format/tracepb"
	"google.golang.org/protobuf/encoding/protowire"
)

// SetStreaming switches r's decoding for a caller that streams the events
// through, one at a time, and keeps few of them (hermes export): the
// common event, a syscall without an injection, pre-images, call-site
// frames or fields this reader does not know, is decoded with protowire
// straight from the chunk's bytes into memory allocated a block of events
// at a time, instead of by proto.Unmarshal one allocation per message and
// field. Its bytes fields (registers, captured memory) share the chunk's
// decompressed bytes, which the Reader then does not reuse for the next
// chunk: an event kept alive keeps its whole chunk alive. Any other event
// is decoded as without it.
//
// The events, the damage and the errors are those of a Reader without it:
// a chunk passes the same checks (limits, memory estimate, order), and a
// chunk with anything wrong is decoded as without it. It takes effect at
// the next chunk read.
func (r *Reader) SetStreaming(on bool) { r.streaming = on }

// A Batch holds the events of one chunk, decoded by DecodeChunk into
// memory it keeps for the next chunk decoded into it.
type Batch struct {
	// Events are the chunk's, in order. They are overwritten by the next
	// DecodeChunk into the Batch: nothing of them may be kept (strings
	// excepted).
	Events []*tracepb.Event
	mem    streamMem
}

// DecodeChunk decodes the events of chunk c (one of Chunks, of this Reader
// or of another of the same file) into b, streaming (see SetStreaming),
// reusing b's memory. A damaged chunk decodes as no events, and Damage
// says what was lost, as it does for Next. DecodeChunk does not move the
// position of Next and SeekSeq.
//
// Chunks are independent of each other: a tool can decode them in any
// order, or on several goroutines, each with a Reader of its own.
func (r *Reader) DecodeChunk(c ChunkInfo, b *Batch) error {
	i := sort.Search(len(r.chunks), func(i int) bool { return r.chunks[i].Offset >= c.Offset })
	if i == len(r.chunks) || r.chunks[i].Offset != c.Offset {
		return fmt.Errorf("%s: no chunk at offset %d", r.name, c.Offset)
	}
	b.Events = b.Events[:0]
	if r.dropped != nil && r.dropped[i] {
		return nil
	}
	b.mem.reset()
	evs, err := r.decodeChunk(r.chunks[i], r.ends[i], &b.mem, b.Events)
	if err != nil {
		r.drop(i, err)
		return nil
	}
	b.Events = evs
	return nil
}

// Field numbers of the messages the streaming decoder reads (trace.proto).
const (
	fEventSyscall = 1

	fSyscallSeq           = 1
	fSyscallLineage       = 2
	fSyscallPid           = 3
	fSyscallTid           = 4
	fSyscallNr            = 5
	fSyscallArch          = 6
	fSyscallEnterNs       = 7
	fSyscallExitNs        = 8
	fSyscallRegs          = 9
	fSyscallExitRegs      = 10
	fSyscallRet           = 11
	fSyscallExited        = 12
	fSyscallMem           = 13
	fSyscallRegsDelta     = 15
	fSyscallExitRegsDelta = 16
	fSyscallEntryOnly     = 17

	fMemAddr   = 1
	fMemData   = 2
	fMemKind   = 3
	fMemArg    = 4
	fMemSize   = 5
	fMemDigest = 6
)

// x86_64 struct user_regs_struct: the registers the fast path restores
// from deltas (any other size goes through proto.Unmarshal).
const regsSize = 216

// maxNames bounds the lineages a streaming Reader keeps interned.
const maxNames = 4096

// streamBlock is how many events (or Mem entries) the streaming decoder
// allocates at once.
const streamBlock = 256

// streamSyscall is a syscall event in one allocation.
type streamSyscall struct {
	ev tracepb.Event
	w  tracepb.Event_Syscall
	sc tracepb.Syscall
}

// memFields are the fields of one Mem, as parsed.
type memFields struct {
	addr, size   uint64
	data, digest []byte
	kind         int32
	arg          uint32
}

// blocks hands out elements of type T from blocks it allocates, and hands
// the same ones out again after a reset. An element handed out is either
// one never handed out before (zero) or one the fast path filled before:
// it sets every field it ever sets.
type blocks[T any] struct {
	list  [][]T
	i, n  int   // the current block, and how much of it is handed out
	alloc int64 // bytes allocated
}

func (b *blocks[T]) reset() { b.i, b.n = 0, 0 }

// take returns k consecutive elements, from a new block of at least want
// elements if the ones there are lack room.
func (b *blocks[T]) take(k, want int) []T {
	for b.i < len(b.list) {
		if blk := b.list[b.i]; len(blk)-b.n >= k {
			b.n += k
			return blk[b.n-k : b.n : b.n]
		}
		if b.i+1 == len(b.list) {
			break
		}
		b.i, b.n = b.i+1, 0
	}
	var zero T
	blk := make([]T, max(k, want))
	b.alloc += allocCost(len(blk) * int(unsafe.Sizeof(zero)))
	b.list = append(b.list, blk)
	b.i, b.n = len(b.list)-1, k
	return blk[:k:k]
}

// streamMem is the memory the streaming decoder decodes a chunk into.
type streamMem struct {
	raw    []byte // the decompressed chunk
	events blocks[streamSyscall]
	mems   blocks[tracepb.Mem]
	ptrs   blocks[*tracepb.Mem]
	regs   blocks[[regsSize]byte]
	// Scratch: the Mem fields of the event being parsed, its registers,
	// and counts for schemaCost.estimate.
	parsed      []memFields
	entry, exit [regsSize]byte
	counts      []int
	alloc       int64 // what growing parsed and counts allocated
}

func (m *streamMem) reset() {
	m.events.reset()
	m.mems.reset()
	m.ptrs.reset()
	m.regs.reset()
}

// allocated is what m's blocks and scratch have allocated.
func (m *streamMem) allocated() int64 {
	return m.events.alloc + m.mems.alloc + m.ptrs.alloc + m.regs.alloc + m.alloc
}

// streamDecoder decodes the events of one chunk for a streaming Reader.
type streamDecoder struct {
	d     *eventDecoder
	names map[string]string
	left  int // events of the chunk not yet decoded
	cost  *streamCost
	m     *streamMem
	fast  int // events the fast path decoded
}

// streamCost is what estimateEvents counts for the messages of the
// events the fast path takes.
type streamCost struct {
	ec               *schemaCost
	event, call, mem int64 // Event, Syscall (with its oneof wrapper), Mem
	memSlot          int   // the size of an entry of Syscall.mem
}

var streamCosts = sync.OnceValue(func() *streamCost {
	ec := eventCost()
	call := ec.event.fields[fEventSyscall]
	mem := call.msg.fields[fSyscallMem]
	return &streamCost{ec: ec, event: ec.event.size, call: call.msg.size + 16, mem: mem.msg.size, memSlot: ec.slot[mem.list0]}
})

// streamStats say what streamEvents did: used is decodeEvents's memory
// estimate; scratch what it allocated besides (blocks of memory and
// scratch space, and what it spent on a chunk it gave up on); fast how
// many events its fast path decoded.
type streamStats struct {
	used, scratch int64
	fast          int
}

// streamEvents is decodeEvents for a streaming Reader, with the same
// result: the same events, memory estimate and errors. It appends the
// events to dst, and decodes them into m, whose raw holds raw: m must not
// be reset or reused while the events are in use.
//
// It walks the chunk once instead of twice: it estimates each event as it
// decodes it, instead of all of them first. A chunk it finds anything
// wrong with (an error, a limit or the memory bound exceeded) is handed
// whole to decodeEvents, which says what, as it would have.
func streamEvents(raw []byte, h chunkHeader, names map[string]string, m *streamMem, dst []*tracepb.Event) ([]*tracepb.Event, streamStats, error) {
	c := streamCosts()
	a0 := m.allocated()
	if len(m.counts) != c.ec.lists {
		m.counts = make([]int, c.ec.lists)
		m.alloc += allocCost(len(m.counts) * 8)
	}
	s := &streamDecoder{d: newEventDecoder(h, int64(h.count)*8), names: names, left: int(h.count), cost: c, m: m}
	evs, ok := s.decode(raw, dst)
	st := streamStats{used: s.d.used, scratch: m.allocated() - a0, fast: s.fast}
	if !ok {
		evs, used, err := decodeEvents(raw, h)
		return evs, streamStats{used: used, scratch: st.used + st.scratch}, err
	}
	return evs, st, nil
}

// decode appends the events of raw to evs, or returns ok false if
// anything is wrong with them.
func (s *streamDecoder) decode(raw []byte, evs []*tracepb.Event) (_ []*tracepb.Event, ok bool) {
	count := s.d.h.count
	if cap(evs)-len(evs) < int(count) {
		evs = append(make([]*tracepb.Event, 0, len(evs)+int(count)), evs...)
		s.m.alloc += allocCost(cap(evs) * 8)
	}
	for k := uint32(0); k < count; k++ {
		b, rest, err := nextEvent(raw, k)
		if err != nil || len(b) > MaxEventSize {
			return nil, false
		}
		raw = rest
		ev, ok := s.syscall(b)
		if ok {
			s.fast++
			if s.d.order(k, ev.GetSyscall().Seq, ev.GetSyscall().EnterNs) != nil {
				return nil, false
			}
		} else {
			cost, err := s.cost.ec.estimate(b, s.m.counts)
			if err != nil {
				return nil, false
			}
			s.d.used += cost
			if ev, err = s.d.unmarshal(b, k); err != nil {
				return nil, false
			}
		}
		// decodeEvents checks the bound after each event's estimate, and
		// after each register restore, with the estimate of all the
		// events: only the total here is bound to be over it then.
		if s.d.used > MaxChunkMemory {
			return nil, false
		}
		evs = append(evs, ev)
		s.left--
	}
	return evs, len(raw) == 0
}

// syscall decodes an event (its bytes b) if it is one the fast path takes
// (ok), adding its estimate and restored registers to the memory used as
// decodeEvents would; it returns ok false, having changed nothing, for
// any other, which the caller then unmarshals. The caller checks the
// order of the event.
func (s *streamDecoder) syscall(b []byte) (_ *tracepb.Event, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != fEventSyscall || typ != protowire.BytesType {
		return nil, false
	}
	body, k := protowire.ConsumeBytes(b[n:])
	if k < 0 || n+k != len(b) {
		return nil, false
	}
	c := s.cost
	cost := c.event + c.call
	var (
		seq                                 uint64
		pid, tid, nr, arch                  int32
		enter, exit, ret                    int64
		exited, entryOnly                   bool
		lineage, regs, exitRegs, rd, exitRD []byte
	)
	m := s.m
	m.parsed = m.parsed[:0]
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return nil, false
		}
		body = body[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(body)
			if n < 0 {
				return nil, false
			}
			body = body[n:]
			switch num {
			case fSyscallSeq:
				seq = v
			case fSyscallPid:
				pid = int32(v)
			case fSyscallTid:
				tid = int32(v)
			case fSyscallNr:
				nr = int32(v)
			case fSyscallArch:
				arch = int32(v)
			case fSyscallEnterNs:
				enter = protowire.DecodeZigZag(v)
			case fSyscallExitNs:
				exit = protowire.DecodeZigZag(v)
			case fSyscallRet:
				ret = protowire.DecodeZigZag(v)
			case fSyscallExited:
				exited = protowire.DecodeBool(v)
			case fSyscallEntryOnly:
				entryOnly = protowire.DecodeBool(v)
			default:
				return nil, false
			}
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(body)
			if n < 0 {
				return nil, false
			}
			body = body[n:]
			switch num {
			case fSyscallLineage:
				if !utf8.Valid(v) {
					return nil, false
				}
				lineage = v
			case fSyscallRegs:
				regs = v
			case fSyscallExitRegs:
				exitRegs = v
			case fSyscallRegsDelta:
				rd = v
			case fSyscallExitRegsDelta:
				exitRD = v
			case fSyscallMem:
				mf, ok := parseMem(v)
				if !ok || len(m.parsed) == MaxEventMems {
					return nil, false
				}
				s.addParsed(mf)
				cost += c.mem + allocCost(len(mf.data)) + allocCost(len(mf.digest))
				continue
			default:
				return nil, false
			}
			cost += allocCost(len(v))
		default:
			return nil, false
		}
	}
	if len(m.parsed) > 0 {
		cost += sliceCost(len(m.parsed), c.memSlot)
	}

	// The registers, as restoreRegs restores them: anything it would
	// refuse goes to it.
	// (into scratch first: nothing is allocated for an event the fast
	// path does not take).
	d := s.d
	if len(rd) > 0 {
		base := d.bases.get(tid)
		if len(regs) > 0 || len(base) != regsSize || applyRegsDeltaTo(m.entry[:], rd, base) != nil {
			return nil, false
		}
		regs = m.entry[:]
		cost += allocCost(regsSize)
	}
	if len(exitRD) > 0 {
		if len(exitRegs) > 0 || len(regs) != regsSize || applyRegsDeltaTo(m.exit[:], exitRD, regs) != nil {
			return nil, false
		}
		exitRegs = m.exit[:]
		cost += allocCost(regsSize)
	}
	if len(rd) > 0 {
		slot := &m.regs.take(1, block(s.left))[0]
		copy(slot[:], regs)
		regs = slot[:]
	}
	if len(exitRD) > 0 {
		slot := &m.regs.take(1, block(s.left))[0]
		copy(slot[:], exitRegs)
		exitRegs = slot[:]
	}
	d.used += cost
	if len(regs) > 0 {
		d.bases.set(tid, regs)
	}

	x := &m.events.take(1, block(s.left))[0]
	x.ev.Kind = &x.w
	x.w.Syscall = &x.sc
	sc := &x.sc
	sc.Seq = seq + d.expect
	sc.Lineage = s.intern(lineage)
	sc.Pid, sc.Tid, sc.Nr, sc.Arch = pid, tid, nr, tracepb.Arch(arch)
	sc.EnterNs = enter + d.prevTime
	sc.ExitNs = decodeExit(exit, sc.EnterNs)
	sc.Regs, sc.ExitRegs = nilIfEmpty(regs), nilIfEmpty(exitRegs)
	sc.Ret, sc.Exited, sc.EntryOnly = ret, exited, entryOnly
	if n := len(m.parsed); n > 0 {
		ptrs := m.ptrs.take(n, 4*streamBlock)
		for i := range m.parsed {
			mf := &m.parsed[i]
			mem := &m.mems.take(1, streamBlock)[0]
			mem.Addr = mf.addr ^ argValue(sc.Regs, sc.Arch, mf.arg)
			mem.Data, mem.Digest = nilIfEmpty(mf.data), nilIfEmpty(mf.digest)
			mem.Kind, mem.Arg, mem.Size = tracepb.MemKind(mf.kind), mf.arg, mf.size
			ptrs[i] = mem
		}
		sc.Mem = ptrs
	} else {
		sc.Mem = nil
	}
	return &x.ev, true
}

// parseMem parses a Mem the fast path takes (only known fields, of their
// types).
func parseMem(b []byte) (mf memFields, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return mf, false
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return mf, false
			}
			b = b[n:]
			switch num {
			case fMemAddr:
				mf.addr = v
			case fMemKind:
				mf.kind = int32(v)
			case fMemArg:
				mf.arg = uint32(v)
			case fMemSize:
				mf.size = v
			default:
				return mf, false
			}
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return mf, false
			}
			b = b[n:]
			switch num {
			case fMemData:
				mf.data = v
			case fMemDigest:
				mf.digest = v
			default:
				return mf, false
			}
		default:
			return mf, false
		}
	}
	return mf, true
}

// nilIfEmpty is b, or nil when b is empty, as proto.Unmarshal leaves an
// empty bytes field.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b[:len(b):len(b)]
}

// addParsed appends to the parsed Mem fields.
func (s *streamDecoder) addParsed(mf memFields) {
	m := s.m
	if len(m.parsed) == cap(m.parsed) {
		n := max(16, 2*cap(m.parsed))
		m.alloc += allocCost(n * int(unsafe.Sizeof(mf)))
		m.parsed = append(make([]memFields, 0, n), m.parsed...)
	}
	m.parsed = append(m.parsed, mf)
}

// block is how many elements to allocate at once, for at most need.
func block(need int) int { return min(max(need, 1), streamBlock) }

// intern returns b as a string, the same string for the same bytes.
func (s *streamDecoder) intern(b []byte) string {
	if v, ok := s.names[string(b)]; ok {
		return v
	}
	if len(s.names) >= maxNames {
		clear(s.names)
	}
	v := string(b)
	s.names[v] = v
	return v
}
