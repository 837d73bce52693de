package perfetto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/perfetto/perfettopb"
	"github.com/hermes-trace/hermes/format/tracepb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The field numbers the exporter encodes by hand are those of the
// generated (Perfetto's) messages, with the wire types it uses.
func TestFieldNumbers(t *testing.T) {
	for _, tc := range []struct {
		msg   proto.Message
		field protoreflect.Name
		num   protowire.Number
		kind  protoreflect.Kind
	}{
		{&perfettopb.Trace{}, "packet", fTracePacket, protoreflect.MessageKind},
		{&perfettopb.TracePacket{}, "timestamp", fPacketTimestamp, protoreflect.Uint64Kind},
		{&perfettopb.TracePacket{}, "track_event", fPacketTrackEvent, protoreflect.MessageKind},
		{&perfettopb.TracePacket{}, "track_descriptor", fPacketTrackDesc, protoreflect.MessageKind},
		{&perfettopb.TracePacket{}, "trusted_packet_sequence_id", fPacketSequenceID, protoreflect.Uint32Kind},
		{&perfettopb.TracePacket{}, "interned_data", fPacketInternedData, protoreflect.MessageKind},
		{&perfettopb.TracePacket{}, "sequence_flags", fPacketSeqFlags, protoreflect.Uint32Kind},
		{&perfettopb.TrackEvent{}, "name_iid", fEventNameIID, protoreflect.Uint64Kind},
		{&perfettopb.TrackEvent{}, "type", fEventType, protoreflect.EnumKind},
		{&perfettopb.TrackEvent{}, "track_uuid", fEventTrackUUID, protoreflect.Uint64Kind},
		{&perfettopb.TrackEvent{}, "flow_ids", fEventFlowIDs, protoreflect.Fixed64Kind},
		{&perfettopb.TrackEvent{}, "terminating_flow_ids", fEventTermFlowIDs, protoreflect.Fixed64Kind},
		{&perfettopb.TrackEvent{}, "debug_annotations", fEventAnnotations, protoreflect.MessageKind},
		{&perfettopb.DebugAnnotation{}, "name_iid", fAnnNameIID, protoreflect.Uint64Kind},
		{&perfettopb.DebugAnnotation{}, "int_value", fAnnIntValue, protoreflect.Int64Kind},
		{&perfettopb.DebugAnnotation{}, "string_value", fAnnStrValue, protoreflect.StringKind},
		{&perfettopb.DebugAnnotation{}, "bool_value", fAnnBoolValue, protoreflect.BoolKind},
		{&perfettopb.InternedData{}, "event_names", fInternedEventNames, protoreflect.MessageKind},
		{&perfettopb.InternedData{}, "debug_annotation_names", fInternedAnnNames, protoreflect.MessageKind},
		{&perfettopb.EventName{}, "iid", fInternedIID, protoreflect.Uint64Kind},
		{&perfettopb.EventName{}, "name", fInternedName, protoreflect.StringKind},
		{&perfettopb.DebugAnnotationName{}, "iid", fInternedIID, protoreflect.Uint64Kind},
		{&perfettopb.DebugAnnotationName{}, "name", fInternedName, protoreflect.StringKind},
	} {
		md := tc.msg.ProtoReflect().Descriptor()
		fd := md.Fields().ByName(tc.field)
		if fd == nil || fd.Number() != tc.num || fd.Kind() != tc.kind {
			t.Errorf("%s.%s: %v, want number %d kind %v", md.FullName(), tc.field, fd, tc.num, tc.kind)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"3", []string{"3"}},
		{`1, "a, b\", c", 6`, []string{"1", `"a, b\", c"`, "6"}},
		{`AT_FDCWD, "/etc/x", {st_mode=S_IFREG|0644, st_size=3, ...}, 0`, []string{"AT_FDCWD", `"/etc/x"`, "{st_mode=S_IFREG|0644, st_size=3, ...}", "0"}},
		{`"./a", ["./a", "1"], 0x7ff /* 3 vars */`, []string{`"./a"`, `["./a", "1"]`, "0x7ff /* 3 vars */"}},
		{`3, makedev(0x1, 0x3)`, []string{"3", "makedev(0x1, 0x3)"}},
	} {
		var got []string
		for _, sp := range splitArgs(nil, []byte(tc.in)) {
			got = append(got, tc.in[sp[0]:sp[1]])
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// writeTrace writes a trace of n getpid calls of two threads, the 10th of
// them denied by an injection, and returns its path.
func writeTrace(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.trace")
	w, err := format.Create(path, &tracepb.TraceHeader{Argv: []string{"/bin/prog"}, Arch: "x86_64"}, format.WriterOptions{ChunkSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	w.Append(&tracepb.Event{Kind: &tracepb.Event_Process{Process: &tracepb.Process{
		Kind: tracepb.ProcessKind_PROCESS_KIND_THREAD, Seq: 1, Lineage: "1", Pid: 7, Tid: 7, ChildLineage: "1/t1", ChildPid: 8, TimeNs: 500}}})
	for i := 2; i <= n+1; i++ {
		s := &tracepb.Syscall{Seq: uint64(i), Lineage: "1", Pid: 7, Tid: 7, Nr: 39, EnterNs: int64(i) * 1000, ExitNs: int64(i)*1000 + 500, Ret: 7}
		if i%2 == 1 {
			s.Lineage, s.Tid = "1/t1", 8
		}
		if i == 10 {
			s.Ret = -1
			s.Injected = &tracepb.Injected{By: "test", Action: tracepb.Action_ACTION_DENY, Value: 1}
		}
		if err := w.Append(&tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: s}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExport(t *testing.T) {
	path := writeTrace(t, 5000)
	t.Run("sequential", func(t *testing.T) { testExport(t, path, nil) })
	for _, w := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("%d workers", w), func(t *testing.T) {
			testExport(t, path, &Options{Workers: w, Open: func() (*format.Reader, error) { return format.Open(path) }})
		})
	}
}

func testExport(t *testing.T, path string, o *Options) {
	const n = 5000
	r, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	st, err := Export(&buf, r, o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != n+1 || st.Syscalls != n || st.Faults != 1 || st.Processes != 1 || st.Threads != 2 || st.Bytes != int64(buf.Len()) {
		t.Fatalf("stats %+v, %d bytes", st, buf.Len())
	}
	var tr perfettopb.Trace
	if err := proto.Unmarshal(buf.Bytes(), &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Packet) != st.Packets {
		t.Fatalf("%d packets, stats say %d", len(tr.Packet), st.Packets)
	}
	begins, ends, flows, terms := 0, 0, 0, 0
	var lastSeq int64
	seqs := 0
	annNames := map[uint64]string{}
	for _, p := range tr.Packet {
		for _, n := range p.GetInternedData().GetDebugAnnotationNames() {
			annNames[n.GetIid()] = n.GetName()
		}
		for _, a := range p.GetTrackEvent().GetDebugAnnotations() {
			if annNames[a.GetNameIid()] == "seq" && p.GetTrackEvent().GetType() != perfettopb.TrackEvent_TYPE_INSTANT {
				seqs++
				if a.GetIntValue() < lastSeq {
					t.Fatalf("seq %d after %d: events out of order", a.GetIntValue(), lastSeq)
				}
				lastSeq = a.GetIntValue()
			}
		}
		te := p.GetTrackEvent()
		switch te.GetType() {
		case perfettopb.TrackEvent_TYPE_SLICE_BEGIN:
			begins++
		case perfettopb.TrackEvent_TYPE_SLICE_END:
			ends++
		}
		flows += len(te.GetFlowIds())
		terms += len(te.GetTerminatingFlowIds())
	}
	// A flow from the new thread and one from the fault.
	if begins != n || ends != n || flows != 2 || terms != 2 || seqs != n {
		t.Fatalf("%d begins, %d ends, %d flows, %d terminating", begins, ends, flows, terms)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(b []byte) (int, error) {
	if w.n -= len(b); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

// A failing writer stops the export with its error (and the reading
// goroutine with it).
func TestExportWriteError(t *testing.T) {
	path := writeTrace(t, 100000)
	for _, o := range []*Options{nil, {Open: func() (*format.Reader, error) { return format.Open(path) }}} {
		r, err := format.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Export(&failWriter{n: 1 << 20}, r, o); err == nil || err.Error() != "disk full" {
			t.Fatalf("err %v", err)
		}
		r.Close()
	}
}

// A chunk that does not decode is skipped by whichever reader meets it,
// and Stats.Damage says so.
func TestExportDamaged(t *testing.T) {
	path := writeTrace(t, 5000)
	r, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	chunks := r.Chunks()
	r.Close()
	data, _ := os.ReadFile(path)
	c := chunks[3]
	data[c.Offset+45+10] ^= 1
	os.WriteFile(path, data, 0o600)
	for _, w := range []int{0, 2} {
		r, err := format.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var o *Options
		if w > 0 {
			o = &Options{Workers: w, Open: func() (*format.Reader, error) { return format.Open(path) }}
		}
		st, err := Export(io.Discard, r, o)
		r.Close()
		if err != nil || len(st.Damage) != 1 || st.Damage[0].Offset != c.Offset || st.Events != 5001-int(c.Count) {
			t.Fatalf("workers %d: err %v, damage %v, %d events (chunk of %d)", w, err, st.Damage, st.Events, c.Count)
		}
	}
}
