package recorded

import (
	"time"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer"
)

// EncodeInjected records in inj what a handler injected into a call (act),
// at its entry or, with atExit, at its exit. inj accumulates: a call can be
// changed at both.
func EncodeInjected(inj *tracepb.Injected, act *tracer.Action, atExit bool) {
	entrySkip := inj.Action >= tracepb.Action_ACTION_DENY && inj.Action <= tracepb.Action_ACTION_EMULATE && !inj.AtExit
	if atExit && (entrySkip || inj.Action == tracepb.Action_ACTION_KILL) {
		// The call was skipped at entry: that is the injection (ret holds
		// what the program got in the end); keep what the exit adds.
		inj.DelayNs += uint64(act.Delay)
		if act.Signal != 0 {
			inj.Signal = int32(act.Signal)
		}
		return
	}
	inj.By = act.By
	switch {
	case act.Kill:
		inj.Action = tracepb.Action_ACTION_KILL
	case act.Skip && len(act.Writes) > 0:
		inj.Action, inj.Value = tracepb.Action_ACTION_EMULATE, act.Value
	case act.Skip && act.Value < 0 && act.Value >= -4095:
		inj.Action, inj.Value = tracepb.Action_ACTION_DENY, -act.Value
	case act.Skip:
		inj.Action, inj.Value = tracepb.Action_ACTION_RETURN, act.Value
	case act.SetArgs != 0 || len(act.Strings) > 0:
		inj.Action = tracepb.Action_ACTION_MODIFY
	case act.Delay > 0:
		inj.Action = tracepb.Action_ACTION_DELAY
	case act.Signal != 0:
		inj.Action = tracepb.Action_ACTION_SIGNAL
	}
	if atExit {
		inj.AtExit = true
	}
	inj.DelayNs += uint64(act.Delay)
	if act.Signal != 0 {
		inj.Signal = int32(act.Signal)
	}
	if act.SetArgs != 0 {
		inj.SetArgs = uint32(act.SetArgs)
		inj.Args = append(inj.Args[:0], act.Args[:]...)
	}
	for _, s := range act.Strings {
		inj.SetArgs |= 1 << s.Index
		inj.Writes = append(inj.Writes, &tracepb.Mem{Data: append([]byte(nil), s.Data...), Arg: uint32(s.Index)})
	}
	for _, w := range act.Writes {
		inj.Writes = append(inj.Writes, &tracepb.Mem{Addr: w.Addr, Data: append([]byte(nil), w.Data...), Kind: tracepb.MemKind_MEM_KIND_OUT})
	}
}

// DecodeInjected puts into act what the recording injected into a call
// (inj), at its entry or, with atExit, at its exit; ret is the result the
// recorded call returned. It leaves act.By to the caller.
func DecodeInjected(inj *tracepb.Injected, ret int64, act *tracer.Action, atExit bool) {
	if atExit {
		act.Skip, act.Value = true, ret
		for _, w := range inj.Writes {
			if w.Kind == tracepb.MemKind_MEM_KIND_OUT {
				act.Writes = append(act.Writes, tracer.MemWrite{Addr: w.Addr, Data: w.Data})
			}
		}
		if inj.Action == tracepb.Action_ACTION_KILL {
			act.Kill = true
		}
	} else {
		switch inj.Action {
		case tracepb.Action_ACTION_DENY, tracepb.Action_ACTION_RETURN, tracepb.Action_ACTION_EMULATE:
			act.Skip, act.Value = true, ret
			act.Writes = act.Writes[:0]
			for _, w := range inj.Writes {
				if w.Kind == tracepb.MemKind_MEM_KIND_OUT {
					act.Writes = append(act.Writes, tracer.MemWrite{Addr: w.Addr, Data: w.Data})
				}
			}
		case tracepb.Action_ACTION_KILL:
			act.Kill = true
		}
		if inj.SetArgs != 0 && !act.Skip {
			for i := 0; i < 6 && i < len(inj.Args); i++ {
				if inj.SetArgs&(1<<i) != 0 {
					act.SetArgs |= 1 << i
					act.Args[i] = inj.Args[i]
				}
			}
			for _, w := range inj.Writes {
				if w.Kind == tracepb.MemKind_MEM_KIND_IN && w.Arg < 6 {
					act.SetArgs &^= 1 << w.Arg
					act.Strings = append(act.Strings, tracer.StringArg{Index: int(w.Arg), Data: w.Data})
				}
			}
		}
	}
	if inj.DelayNs > 0 {
		act.Delay = time.Duration(inj.DelayNs)
	}
	if inj.Signal != 0 {
		act.Signal = int(inj.Signal)
	}
}
