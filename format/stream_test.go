package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/hermes-trace/hermes/format/tracepb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// compareDecoders decodes raw with decodeEvents and streamEvents and
// checks they agree on everything: events, memory estimate, error. It
// returns how many events the fast path decoded.
func compareDecoders(t *testing.T, what string, raw []byte, h chunkHeader) int {
	t.Helper()
	want, wantUsed, wantErr := decodeEvents(raw, h)
	got, st, err := streamEvents(bytes.Clone(raw), h, map[string]string{}, &streamMem{}, nil)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, want %v", what, err, wantErr)
	}
	if st.used != wantUsed {
		t.Errorf("%s: used %d, want %d", what, st.used, wantUsed)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("%s: event %d:\n%v\nwant\n%v", what, i, got[i], want[i])
		}
	}
	return st.fast
}

// The streaming decoder decodes what decodeEvents does, taking the plain
// syscalls itself: traces the writer wrote.
func TestStreamEventsWritten(t *testing.T) {
	loop := newTypical(7, true)
	var loopEvs []*tracepb.Event
	for i := 0; i < 3000; i++ {
		loopEvs = append(loopEvs, proto.Clone(loop.next(i)).(*tracepb.Event))
	}
	for _, tc := range []struct {
		name string
		evs  []*tracepb.Event
		opts WriterOptions
	}{
		{"every kind", genEvents(3000, 3), WriterOptions{ChunkSize: 16 << 10}},
		{"full registers", genEvents(1000, 4), WriterOptions{ChunkSize: 16 << 10, FullRegs: true}},
		{"one big chunk", genEvents(3000, 5), WriterOptions{}},
		{"a loop", loopEvs, WriterOptions{ChunkSize: 32 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tracePath(t)
			writeTrace(t, path, tc.evs, tc.opts)
			raws, hs := chunkPayloads(t, mustRead(t, path))
			fast, plain := 0, 0
			for i := range hs {
				fast += compareDecoders(t, fmt.Sprintf("chunk %d", i), raws[i], hs[i])
			}
			for _, ev := range tc.evs {
				if sc := ev.GetSyscall(); sc != nil && sc.Injected == nil {
					plain++
				}
			}
			if fast != plain {
				t.Errorf("the fast path decoded %d events, want all %d plain syscalls", fast, plain)
			}

			// And a streaming Reader reads the events written.
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.SetStreaming(true)
			got := readAll(t, r)
			if len(got) != len(tc.evs) {
				t.Fatalf("read %d events, wrote %d", len(got), len(tc.evs))
			}
			checkPrefix(t, got, tc.evs)
		})
	}
}

// Payloads the writer never writes: the streaming decoder leaves what it
// does not take to proto.Unmarshal, and a chunk with anything wrong to
// decodeEvents, so that the result is the same.
func TestStreamEventsUnusual(t *testing.T) {
	event := func(sc []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), sc)
	}
	marshal := func(sc *tracepb.Syscall) []byte {
		b, err := proto.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	regs := make([]byte, 216)
	regs[14*8] = 7 // rdi: argument 0
	base := marshal(&tracepb.Syscall{Tid: 5, EnterNs: 10, Lineage: "1", Regs: regs,
		Mem: []*tracepb.Mem{{Addr: 0, Data: []byte("x"), Arg: 0}}})
	delta := func(dt int64, d []byte) []byte {
		return marshal(&tracepb.Syscall{Tid: 5, EnterNs: dt, Lineage: "1", RegsDelta: d})
	}
	unknown := func(sc []byte, num protowire.Number, typ protowire.Type) []byte {
		b := protowire.AppendTag(bytes.Clone(sc), num, typ)
		switch typ {
		case protowire.VarintType:
			return protowire.AppendVarint(b, 1)
		case protowire.Fixed32Type:
			return protowire.AppendFixed32(b, 1)
		case protowire.Fixed64Type:
			return protowire.AppendFixed64(b, 1)
		}
		return protowire.AppendBytes(b, []byte("ab"))
	}
	injected := marshal(&tracepb.Syscall{Tid: 5, EnterNs: 1, Lineage: "1", Injected: &tracepb.Injected{By: "r", Action: tracepb.Action_ACTION_DENY}})
	process, _ := proto.Marshal(&tracepb.Event{Kind: &tracepb.Event_Process{Process: &tracepb.Process{Lineage: "1", TimeNs: 1}}})
	oneMem := func(m []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(marshal(&tracepb.Syscall{EnterNs: 1}), 13, protowire.BytesType), m)
	}
	for _, tc := range []struct {
		name string
		evs  [][]byte // on-disk events, the first at time 10
		fast int      // events the fast path takes
		tail []byte   // bytes after the events
	}{
		{"plain", [][]byte{event(base), event(delta(1, []byte{0}))}, 2, nil},
		{"register delta", [][]byte{event(base), event(delta(1, []byte{1 << 2, 9}))}, 2, nil},
		{"delta without a base", [][]byte{event(delta(10, []byte{0}))}, 0, nil},
		{"bad delta", [][]byte{event(base), event(delta(1, []byte{1, 1, 1}))}, 0, nil},
		{"delta past the registers", [][]byte{event(base), event(delta(1, []byte{0x80, 0x80, 0x80, 0x80, 0x40, 1}))}, 0, nil},
		{"regs and a delta", [][]byte{event(base), event(marshal(&tracepb.Syscall{Tid: 5, EnterNs: 1, Regs: regs, RegsDelta: []byte{0}}))}, 0, nil},
		{"exit registers delta", [][]byte{event(marshal(&tracepb.Syscall{Tid: 5, EnterNs: 10, Regs: regs, ExitRegsDelta: append(binary.AppendUvarint(nil, 1<<10), 3)}))}, 1, nil},
		{"short registers", [][]byte{event(marshal(&tracepb.Syscall{Tid: 5, EnterNs: 10, Regs: regs[:64]})), event(delta(1, []byte{1, 3}))}, 1, nil},
		{"unknown field", [][]byte{event(unknown(base, 999, protowire.VarintType))}, 0, nil},
		{"wrong wire type", [][]byte{event(unknown(base, 3, protowire.Fixed32Type))}, 0, nil},
		{"bytes as varint", [][]byte{event(unknown(base, 9, protowire.VarintType))}, 0, nil},
		{"a field twice", [][]byte{event(unknown(base, 3, protowire.VarintType))}, 1, nil},
		{"bad UTF-8 lineage", [][]byte{event(protowire.AppendBytes(protowire.AppendTag(marshal(&tracepb.Syscall{EnterNs: 10}), 2, protowire.BytesType), []byte("\xff")))}, 0, nil},
		{"injected", [][]byte{event(base), event(injected)}, 1, nil},
		{"process", [][]byte{event(base), process}, 1, nil},
		{"empty event", [][]byte{event(base), nil}, 1, nil},
		{"syscall twice", [][]byte{append(event(base), event(delta(0, []byte{0}))...)}, 0, nil},
		{"unknown Mem field", [][]byte{event(oneMem(unknown(nil, 9, protowire.VarintType)))}, 0, nil},
		{"Mem kind as bytes", [][]byte{event(oneMem(unknown(nil, 3, protowire.BytesType)))}, 0, nil},
		{"bad Mem", [][]byte{event(oneMem([]byte{0x80}))}, 0, nil},
		{"seq overflow", [][]byte{event(marshal(&tracepb.Syscall{EnterNs: 10, Seq: 1 << 63})), event(marshal(&tracepb.Syscall{Seq: 1 << 63}))}, 0, nil},
		{"time outside the chunk", [][]byte{event(base), event(marshal(&tracepb.Syscall{EnterNs: 1 << 40}))}, 0, nil},
		{"bytes after", [][]byte{event(base)}, 0, []byte{1, 2}},
		{"over the Mem limit", [][]byte{memBombEvent(MaxEventMems + 1)}, 0, nil},
		{"at the Mem limit", [][]byte{memBombEvent(MaxEventMems)}, 1, nil},
		{"over the memory bound", func() (evs [][]byte) {
			for range 20 {
				evs = append(evs, memBombEvent(MaxEventMems))
			}
			return evs
		}(), 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw []byte
			for _, ev := range tc.evs {
				raw = delimited(raw, ev)
			}
			raw = append(raw, tc.tail...)
			h := chunkHeader{typ: ChunkEvents, firstSeq: 1, count: uint32(len(tc.evs)), minTime: 0, maxTime: 1000}
			if fast := compareDecoders(t, tc.name, raw, h); fast != tc.fast {
				t.Errorf("the fast path decoded %d events, want %d", fast, tc.fast)
			}
		})
	}
}

func BenchmarkStreamEvents(b *testing.B) {
	path := tracePath(b)
	tg := newTypical(7, true)
	w, err := Create(path, testHeader(), WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 20000; i++ {
		if err := w.Append(tg.next(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	raws, hs := chunkPayloads(b, mustRead(b, path))
	for _, streaming := range []bool{false, true} {
		b.Run(fmt.Sprintf("streaming=%v", streaming), func(b *testing.B) {
			b.ReportAllocs()
			var m streamMem
			names := map[string]string{}
			var evs []*tracepb.Event
			for b.Loop() {
				for i := range hs {
					var err error
					if streaming {
						m.reset()
						evs, _, err = streamEvents(raws[i], hs[i], names, &m, evs[:0])
					} else {
						_, _, err = decodeEvents(raws[i], hs[i])
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// The field numbers the streaming decoder reads by hand are trace.proto's,
// of the kinds it decodes them as.
func TestStreamFieldNumbers(t *testing.T) {
	for _, tc := range []struct {
		msg   proto.Message
		field protoreflect.Name
		num   protowire.Number
		kind  protoreflect.Kind
	}{
		{&tracepb.Event{}, "syscall", fEventSyscall, protoreflect.MessageKind},
		{&tracepb.Syscall{}, "seq", fSyscallSeq, protoreflect.Uint64Kind},
		{&tracepb.Syscall{}, "lineage", fSyscallLineage, protoreflect.StringKind},
		{&tracepb.Syscall{}, "pid", fSyscallPid, protoreflect.Int32Kind},
		{&tracepb.Syscall{}, "tid", fSyscallTid, protoreflect.Int32Kind},
		{&tracepb.Syscall{}, "nr", fSyscallNr, protoreflect.Int32Kind},
		{&tracepb.Syscall{}, "arch", fSyscallArch, protoreflect.EnumKind},
		{&tracepb.Syscall{}, "enter_ns", fSyscallEnterNs, protoreflect.Sint64Kind},
		{&tracepb.Syscall{}, "exit_ns", fSyscallExitNs, protoreflect.Sint64Kind},
		{&tracepb.Syscall{}, "regs", fSyscallRegs, protoreflect.BytesKind},
		{&tracepb.Syscall{}, "exit_regs", fSyscallExitRegs, protoreflect.BytesKind},
		{&tracepb.Syscall{}, "ret", fSyscallRet, protoreflect.Sint64Kind},
		{&tracepb.Syscall{}, "exited", fSyscallExited, protoreflect.BoolKind},
		{&tracepb.Syscall{}, "mem", fSyscallMem, protoreflect.MessageKind},
		{&tracepb.Syscall{}, "regs_delta", fSyscallRegsDelta, protoreflect.BytesKind},
		{&tracepb.Syscall{}, "exit_regs_delta", fSyscallExitRegsDelta, protoreflect.BytesKind},
		{&tracepb.Syscall{}, "entry_only", fSyscallEntryOnly, protoreflect.BoolKind},
		{&tracepb.Mem{}, "addr", fMemAddr, protoreflect.Uint64Kind},
		{&tracepb.Mem{}, "data", fMemData, protoreflect.BytesKind},
		{&tracepb.Mem{}, "kind", fMemKind, protoreflect.EnumKind},
		{&tracepb.Mem{}, "arg", fMemArg, protoreflect.Uint32Kind},
		{&tracepb.Mem{}, "size", fMemSize, protoreflect.Uint64Kind},
		{&tracepb.Mem{}, "digest", fMemDigest, protoreflect.BytesKind},
	} {
		md := tc.msg.ProtoReflect().Descriptor()
		fd := md.Fields().ByName(tc.field)
		if fd == nil || fd.Number() != tc.num || fd.Kind() != tc.kind || fd.IsList() != (tc.field == "mem") {
			t.Errorf("%s.%s: %v, want number %d kind %v", md.FullName(), tc.field, fd, tc.num, tc.kind)
		}
	}
}
