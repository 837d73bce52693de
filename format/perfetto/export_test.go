package perfetto

import (
	"reflect"
	"testing"

	"github.com/hermes-trace/hermes/format/perfetto/perfettopb"
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
