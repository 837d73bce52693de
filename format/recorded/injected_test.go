package recorded

import (
	"reflect"
	"testing"
	"time"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
)

// TestInjectedRoundTrip: what record encodes of an injection, replay
// decodes into the same action.
func TestInjectedRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		act    tracer.Action
		ret    int64 // what the call returned, as the trace keeps it
		atExit bool
		want   tracepb.Action
	}{
		{"deny", tracer.Action{Skip: true, Value: -28, By: "x"}, -28, false, tracepb.Action_ACTION_DENY},
		{"return", tracer.Action{Skip: true, Value: 7}, 7, false, tracepb.Action_ACTION_RETURN},
		{"emulate", tracer.Action{Skip: true, Value: 4, Writes: []tracer.MemWrite{{Addr: 0x1000, Data: []byte("abcd")}}}, 4, false, tracepb.Action_ACTION_EMULATE},
		{"kill", tracer.Action{Kill: true}, 0, false, tracepb.Action_ACTION_KILL},
		{"modify", tracer.Action{SetArgs: 1 << 2, Args: [6]uint64{2: 99}}, 0, false, tracepb.Action_ACTION_MODIFY},
		{"string", tracer.Action{Strings: []tracer.StringArg{{Index: 1, Data: []byte("/other")}}}, 0, false, tracepb.Action_ACTION_MODIFY},
		{"delay", tracer.Action{Delay: 5 * time.Millisecond}, 0, false, tracepb.Action_ACTION_DELAY},
		{"signal", tracer.Action{Signal: 10}, 0, false, tracepb.Action_ACTION_SIGNAL},
		{"at exit", tracer.Action{Skip: true, Value: 1}, 1, true, tracepb.Action_ACTION_RETURN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var inj tracepb.Injected
			EncodeInjected(&inj, &tc.act, tc.atExit)
			if inj.Action != tc.want || inj.AtExit != tc.atExit {
				t.Fatalf("encoded %v at_exit=%v, want %v", inj.Action, inj.AtExit, tc.want)
			}
			var got tracer.Action
			DecodeInjected(&inj, tc.ret, &got, tc.atExit)
			want := tc.act
			want.By = ""
			if len(want.Strings) > 0 {
				want.SetArgs = 0 // a string replaces the argument by a pointer hermes makes
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %+v, want %+v", got, want)
			}
		})
	}
}
