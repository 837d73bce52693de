package main

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/perfetto/perfettopb"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/internal/testbin"
	"github.com/hermes-trace/hermes/tracer/abi"
	"google.golang.org/protobuf/proto"
)

// pfEvent is a TrackEvent of an exported trace with its names resolved.
type pfEvent struct {
	ts     uint64
	order  int // position in the file
	typ    perfettopb.TrackEvent_Type
	track  uint64
	name   string
	ann    map[string]string // debug annotations, values as text
	flows  []uint64
	terms  []uint64
	packet *perfettopb.TracePacket
}

// pfTrace is a decoded Perfetto trace.
type pfTrace struct {
	tracks map[uint64]*perfettopb.TrackDescriptor
	events []*pfEvent
}

// readPerfetto decodes a Perfetto trace with the generated code and
// resolves its interned names.
func readPerfetto(t *testing.T, data []byte) *pfTrace {
	t.Helper()
	var tr perfettopb.Trace
	if err := proto.Unmarshal(data, &tr); err != nil {
		t.Fatalf("not a Perfetto trace: %v", err)
	}
	out := &pfTrace{tracks: map[uint64]*perfettopb.TrackDescriptor{}}
	names, anns := map[uint64]string{}, map[uint64]string{}
	for i, p := range tr.Packet {
		if p.GetTrustedPacketSequenceId() != 1 {
			t.Fatalf("packet %d: sequence %d", i, p.GetTrustedPacketSequenceId())
		}
		if i == 0 && p.GetSequenceFlags()&uint32(perfettopb.TracePacket_SEQ_INCREMENTAL_STATE_CLEARED) == 0 {
			t.Fatalf("first packet does not clear the incremental state: %v", p)
		}
		for _, n := range p.GetInternedData().GetEventNames() {
			names[n.GetIid()] = n.GetName()
		}
		for _, n := range p.GetInternedData().GetDebugAnnotationNames() {
			anns[n.GetIid()] = n.GetName()
		}
		if td := p.GetTrackDescriptor(); td != nil {
			out.tracks[td.GetUuid()] = td // a later one (after exec) wins
			continue
		}
		te := p.GetTrackEvent()
		if te == nil {
			t.Fatalf("packet %d is neither a track descriptor nor a track event: %v", i, p)
		}
		if p.Timestamp == nil {
			t.Fatalf("packet %d: track event without a timestamp", i)
		}
		ev := &pfEvent{ts: p.GetTimestamp(), order: i, typ: te.GetType(), track: te.GetTrackUuid(),
			ann: map[string]string{}, flows: te.FlowIds, terms: te.TerminatingFlowIds, packet: p}
		if te.GetNameIid() != 0 {
			n, ok := names[te.GetNameIid()]
			if !ok {
				t.Fatalf("packet %d: event name iid %d not interned before", i, te.GetNameIid())
			}
			ev.name = n
		}
		for _, a := range te.DebugAnnotations {
			n, ok := anns[a.GetNameIid()]
			if !ok {
				t.Fatalf("packet %d: annotation name iid %d not interned before", i, a.GetNameIid())
			}
			switch v := a.Value.(type) {
			case *perfettopb.DebugAnnotation_StringValue:
				ev.ann[n] = v.StringValue
			case *perfettopb.DebugAnnotation_IntValue:
				ev.ann[n] = strconv.FormatInt(v.IntValue, 10)
			case *perfettopb.DebugAnnotation_BoolValue:
				ev.ann[n] = "true"
			default:
				t.Fatalf("packet %d: annotation %s of type %T", i, n, v)
			}
		}
		if _, ok := out.tracks[ev.track]; !ok {
			t.Fatalf("packet %d: event on track %d, not described before", i, ev.track)
		}
		out.events = append(out.events, ev)
	}
	return out
}

// checkSlices checks that on every track the slices begin and end in
// balanced, properly nested pairs (in time order, ties in file order).
func (tr *pfTrace) checkSlices(t *testing.T) {
	t.Helper()
	byTrack := map[uint64][]*pfEvent{}
	for _, ev := range tr.events {
		byTrack[ev.track] = append(byTrack[ev.track], ev)
	}
	for track, evs := range byTrack {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })
		var stack []*pfEvent
		for _, ev := range evs {
			switch ev.typ {
			case perfettopb.TrackEvent_TYPE_SLICE_BEGIN:
				if len(stack) > 0 {
					t.Errorf("track %d: slice %s at %d begins inside %s (at %d): syscalls of a thread do not nest", track, ev.name, ev.ts, stack[len(stack)-1].name, stack[len(stack)-1].ts)
				}
				stack = append(stack, ev)
			case perfettopb.TrackEvent_TYPE_SLICE_END:
				if len(stack) == 0 {
					t.Fatalf("track %d: an end at %d without a begin", track, ev.ts)
				}
				stack = stack[:len(stack)-1]
			case perfettopb.TrackEvent_TYPE_INSTANT:
			default:
				t.Fatalf("track %d: event type %v", track, ev.typ)
			}
		}
		if len(stack) != 0 {
			t.Errorf("track %d: %d slices never end (first %s)", track, len(stack), stack[0].name)
		}
	}
}

// exportTrace exports trace and decodes the result.
func exportTrace(t *testing.T, trace string) (*pfTrace, []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.perfetto-trace")
	stdout, stderr, code := hermes(t, "export", "--perfetto", trace, "-o", out)
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("export: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("output mode %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return readPerfetto(t, data), data
}

// syscallNames is every x86_64 syscall name.
func syscallNames() map[string]bool {
	m := map[string]bool{}
	for nr := 0; nr < 1024; nr++ {
		if n := abi.Name(abi.ArchX86_64, nr); n != "" {
			m[n] = true
		}
	}
	return m
}

// TestExportPerfettoThreads records 4 threads whose second write fails
// with an injected ENOSPC, exports the trace and checks the Perfetto
// trace against the recording.
func TestExportPerfettoThreads(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "threads.trace")
	threads := testbin.C(t, "threads")
	_, stderr, code := hermes(t, "record", "-o", trace, "-e", "inject=write:error=ENOSPC:when=2", "--", threads, "4", "3")
	if code != 1 { // threads exits 1 when a write fails
		t.Fatalf("record: exit %d, stderr %q", code, stderr)
	}
	_, evs, _, err := format.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	lineages := map[string]bool{}
	procs := map[string]bool{}
	syscalls, injected := 0, 0
	procEvents := map[tracepb.ProcessKind]int{}
	for _, ev := range evs {
		if p := ev.GetProcess(); p != nil {
			procEvents[p.Kind]++
		}
		l := ev.GetSyscall().GetLineage() + ev.GetProcess().GetLineage()
		lineages[l] = true
		procs[strings.SplitN(l, "/", 2)[0]] = true
		if s := ev.GetSyscall(); s != nil {
			syscalls++
			if s.Injected != nil {
				injected++
			}
		}
	}
	if injected == 0 {
		t.Fatal("recording has no injected calls")
	}
	tr, _ := exportTrace(t, trace)

	// Tracks: one process track per process, a thread track per thread
	// lineage under it.
	procTracks := map[uint64]*perfettopb.TrackDescriptor{}
	for uuid, td := range tr.tracks {
		if td.Process != nil {
			procTracks[uuid] = td
		}
	}
	if len(procTracks) != len(procs) {
		t.Fatalf("%d process tracks, want %d", len(procTracks), len(procs))
	}
	threadTracks := map[string]*perfettopb.TrackDescriptor{}
	for _, td := range tr.tracks {
		if td.Thread == nil {
			continue
		}
		p := procTracks[td.GetParentUuid()]
		if p == nil {
			t.Fatalf("thread track %q: parent %d is not a process track", td.GetName(), td.GetParentUuid())
		}
		if td.Thread.GetPid() != p.Process.GetPid() || td.Thread.GetTid() == 0 {
			t.Errorf("thread track %q: pid %d tid %d under process pid %d", td.GetName(), td.Thread.GetPid(), td.Thread.GetTid(), p.Process.GetPid())
		}
		threadTracks[td.Thread.GetThreadName()] = td
	}
	if len(threadTracks) != len(lineages) || len(threadTracks) != 5 {
		t.Fatalf("thread tracks %d, lineages %d, want 5", len(threadTracks), len(lineages))
	}
	for l := range lineages {
		if threadTracks[l] == nil {
			t.Errorf("no thread track named %q", l)
		}
	}
	if name := procTracks[threadTracks["1"].GetParentUuid()].GetName(); name != "1 threads" {
		t.Errorf("process track named %q, want %q", name, "1 threads")
	}

	tr.checkSlices(t)

	// Slices: syscall names, decoded arguments and results.
	names := syscallNames()
	calls, writes, opens := 0, 0, 0
	callBySeq := map[string]*pfEvent{}
	for _, ev := range tr.events {
		td := tr.tracks[ev.track]
		if td.Thread == nil || ev.typ == perfettopb.TrackEvent_TYPE_SLICE_END || ev.ann["result"] == "" {
			continue
		}
		calls++
		if !names[ev.name] {
			t.Errorf("slice named %q: not a syscall", ev.name)
		}
		callBySeq[ev.ann["seq"]] = ev
		switch {
		case ev.name == "write" && ev.ann["buf"] == `"x"`:
			writes++
			if ev.ann["count"] != "1" || ev.ann["fd"] == "" {
				t.Errorf("write: %v %v", ev.typ, ev.ann)
			}
			// A write the process's exit_group cut short is an instant.
			if r := ev.ann["result"]; (r != "1" && r != "-1 ENOSPC (No space left on device)" || ev.typ != perfettopb.TrackEvent_TYPE_SLICE_BEGIN) &&
				(r != "?" || ev.typ != perfettopb.TrackEvent_TYPE_INSTANT) {
				t.Errorf("write: %v, result %q", ev.typ, r)
			}
		case ev.name == "openat" && ev.ann["filename"] == `"/dev/zero"`:
			opens++
			if ev.ann["dfd"] != "AT_FDCWD" || !strings.HasPrefix(ev.ann["flags"], "O_RDONLY") {
				t.Errorf("openat: %v", ev.ann)
			}
		}
	}
	// The first thread whose second write fails exits the process: the
	// others may be killed before any write of theirs (a loaded machine
	// runs them late), so only that thread's two writes are certain.
	if calls != syscalls || writes < 2 || opens < 1 {
		t.Fatalf("%d syscalls (want %d), %d writes of x, %d openat of /dev/zero", calls, syscalls, writes, opens)
	}

	// Injected faults: instants on an "injected faults" track with a flow
	// that ends at the write they failed.
	faults := 0
	for _, ev := range tr.events {
		if tr.tracks[ev.track].GetName() != "injected faults" {
			continue
		}
		faults++
		if ev.typ != perfettopb.TrackEvent_TYPE_INSTANT || ev.name != "inject write" || len(ev.flows) != 1 ||
			ev.ann["action"] != "deny" || ev.ann["errno"] != "ENOSPC" || !strings.Contains(ev.ann["by"], "inject=write") {
			t.Fatalf("fault event: %+v", ev)
		}
		call := callBySeq[ev.ann["seq"]]
		if call == nil || call.name != "write" || call.ann["result"] != "-1 ENOSPC (No space left on device)" ||
			len(call.terms) != 1 || call.terms[0] != ev.flows[0] || call.ts < ev.ts {
			t.Fatalf("fault %v: its call %+v", ev.ann, call)
		}
		if tr.tracks[call.track].GetParentUuid() != tr.tracks[ev.track].GetParentUuid() {
			t.Errorf("fault track and call track are in different processes")
		}
	}
	if faults != injected {
		t.Fatalf("%d fault instants, want %d", faults, injected)
	}

	// New threads and exits are instants; each new thread's flow ends on
	// the thread's track.
	kinds := map[string]int{}
	for _, ev := range tr.events {
		if ev.typ == perfettopb.TrackEvent_TYPE_INSTANT && ev.ann["result"] == "" && tr.tracks[ev.track].Thread != nil {
			kinds[ev.name]++
			if ev.name == "new thread" {
				end := findTerm(tr, ev.flows)
				if end == nil || tr.tracks[end.track].GetThread().GetThreadName() != ev.ann["child"] {
					t.Errorf("new thread %s: its flow ends at %+v", ev.ann["child"], end)
				}
			}
		}
	}
	if kinds["new thread"] != 4 || kinds["new thread"] != procEvents[tracepb.ProcessKind_PROCESS_KIND_THREAD] ||
		kinds["exit"] != procEvents[tracepb.ProcessKind_PROCESS_KIND_EXIT] || kinds["exit"] == 0 || kinds["exec"] != 1 {
		t.Fatalf("process instants %v, recorded %v", kinds, procEvents)
	}
}

// findTerm returns the event a flow ends at.
func findTerm(tr *pfTrace, ids []uint64) *pfEvent {
	if len(ids) != 1 {
		return nil
	}
	for _, ev := range tr.events {
		for _, id := range ev.terms {
			if id == ids[0] {
				return ev
			}
		}
	}
	return nil
}

// TestExportPerfettoForkExec exports a chain of fork+exec: a process track
// per process, named after the program it runs, and fork, exec and exit
// instants, each fork with a flow to its child.
func TestExportPerfettoForkExec(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "fork.trace")
	forkchain := testbin.C(t, "forkchain")
	if _, stderr, code := hermes(t, "record", "-o", trace, "--", forkchain, "2"); code != 2 {
		t.Fatalf("record: exit %d, stderr %q", code, stderr)
	}
	tr, _ := exportTrace(t, trace)
	tr.checkSlices(t)
	var procNames []string
	for _, td := range tr.tracks {
		if td.Process != nil {
			procNames = append(procNames, td.GetName())
		}
	}
	sort.Strings(procNames)
	if strings.Join(procNames, ",") != "1 forkchain,1.1 exe,1.1.1 exe" && strings.Join(procNames, ",") != "1 forkchain,1.1 forkchain,1.1.1 forkchain" {
		t.Errorf("process tracks %q", procNames)
	}
	kinds := map[string]int{}
	for _, ev := range tr.events {
		if ev.typ != perfettopb.TrackEvent_TYPE_INSTANT || ev.ann["result"] != "" {
			continue
		}
		kinds[ev.name]++
		if ev.name == "fork" {
			end := findTerm(tr, ev.flows)
			if end == nil || !strings.HasPrefix(tr.tracks[end.track].GetThread().GetThreadName(), ev.ann["child"]) || end.ts < ev.ts {
				t.Errorf("fork of %s: flow ends at %+v", ev.ann["child"], end)
			}
		}
		if ev.name == "exec" && !strings.Contains(ev.ann["path"], "forkchain") && !strings.Contains(ev.ann["path"], "exe") {
			t.Errorf("exec instant %v", ev.ann)
		}
	}
	if kinds["fork"] != 2 || kinds["exec"] != 3 || kinds["exit"] != 3 {
		t.Fatalf("process instants %v", kinds)
	}
}

// TestExportPerfettoStdout writes to standard output with -o -.
func TestExportPerfettoStdout(t *testing.T) {
	path, _ := writeGetpids(t, 3000)
	stdout, stderr, code := hermes(t, "export", "--perfetto", path, "-o", "-")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	tr := readPerfetto(t, []byte(stdout))
	tr.checkSlices(t)
	n := 0
	for _, ev := range tr.events {
		if ev.name == "getpid" && ev.ann["result"] == "7" {
			n++
		}
	}
	if n != 3000 {
		t.Fatalf("%d getpid slices, want 3000", n)
	}
}

// A damaged trace: the readable events are exported, one line says what
// was skipped, exit 125. Bad input: one line, exit 125, no output made.
func TestExportPerfettoBadInput(t *testing.T) {
	const n = 3000
	path, chunks := writeGetpids(t, n)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := chunks[len(chunks)/2]
	data[c.Offset+45+20] ^= 0x01
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.trace")
	os.WriteFile(damaged, data, 0o644)
	out := filepath.Join(dir, "out.pftrace")
	_, stderr, code := hermes(t, "export", "--perfetto", damaged, "-o", out)
	line := stderrLine(t, stderr)
	if code != 125 || !strings.Contains(line, "damaged trace") || !strings.Contains(line, "skipped 1 damaged part") {
		t.Fatalf("damaged: exit %d, stderr %q", code, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tr := readPerfetto(t, got)
	tr.checkSlices(t)
	begins := 0
	for _, ev := range tr.events {
		if ev.typ == perfettopb.TrackEvent_TYPE_SLICE_BEGIN {
			begins++
		}
	}
	if begins != n-int(c.Count) {
		t.Fatalf("%d slices from the damaged trace, want %d", begins, n-int(c.Count))
	}

	notTrace := filepath.Join(dir, "not.trace")
	os.WriteFile(notTrace, []byte("hello, this is not a trace\n"), 0o644)
	empty := filepath.Join(dir, "empty.trace")
	os.WriteFile(empty, nil, 0o644)
	cut := filepath.Join(dir, "cut.trace")
	os.WriteFile(cut, data[:30], 0o644)
	target := filepath.Join(dir, "precious")
	os.WriteFile(target, []byte("keep me"), 0o644)
	link := filepath.Join(dir, "link.pftrace")
	os.Symlink(target, link)
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"missing file", []string{"--perfetto", filepath.Join(dir, "nonexistent"), "-o", filepath.Join(dir, "o1")}, "no such file"},
		{"not a trace", []string{"--perfetto", notTrace, "-o", filepath.Join(dir, "o2")}, "not a hermes trace"},
		{"empty file", []string{"--perfetto", empty, "-o", filepath.Join(dir, "o3")}, ""},
		{"cut in the header", []string{"--perfetto", cut, "-o", filepath.Join(dir, "o4")}, ""},
		{"no format", []string{path, "-o", filepath.Join(dir, "o5")}, "--perfetto"},
		{"no output", []string{"--perfetto", path}, "-o"},
		{"output a symlink", []string{"--perfetto", path, "-o", link}, "symbolic link"},
		{"output a directory", []string{"--perfetto", path, "-o", dir}, "directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := hermes(t, append([]string{"export"}, tc.args...)...)
			line := stderrLine(t, stderr)
			if code != 125 || stdout != "" || !strings.Contains(strings.ToLower(line), strings.ToLower(tc.msg)) || strings.Contains(stderr, "panic") {
				t.Fatalf("exit %d, stderr %q, want exit 125 and %q", code, stderr, tc.msg)
			}
			for _, o := range []string{"o1", "o2", "o3", "o4", "o5"} {
				if _, err := os.Lstat(filepath.Join(dir, o)); err == nil {
					t.Fatalf("output %s created for bad input", o)
				}
			}
		})
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Fatalf("the symlink's target was written: %q", b)
	}
}

// TestStreamingDecodeRecordings records real programs (threads with an
// injected fault, a fork+exec chain, i386 calls, files written over with
// their pre-images and call-site frames) and checks that the streaming
// decoding export reads them with (format.Reader.DecodeChunk, into one
// reused Batch, chunks in reverse order; and SetStreaming) gives the very
// events the ordinary Reader does.
func TestStreamingDecodeRecordings(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.WriteFile(out, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"threads", []string{"-e", "inject=write:error=ENOSPC:when=2", "--", testbin.C(t, "threads"), "4", "3"}},
		{"forkchain", []string{"--", testbin.C(t, "forkchain"), "2"}},
		{"int80", []string{"--", testbin.C(t, "int80")}},
		{"files", []string{"--stacks", "--", testbin.C(t, "files"), "-w", out, "/etc/passwd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trace := filepath.Join(dir, tc.name+".trace")
			if _, stderr, code := hermes(t, append([]string{"record", "-o", trace}, tc.args...)...); code == 125 || code < 0 {
				t.Fatalf("record: exit %d, stderr %q", code, stderr)
			}
			_, want, _, err := format.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			r, err := format.Open(trace)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			chunks := r.Chunks()
			var b format.Batch
			var got []*tracepb.Event
			for i := len(chunks) - 1; i >= 0; i-- {
				if err := r.DecodeChunk(chunks[i], &b); err != nil {
					t.Fatal(err)
				}
				var clones []*tracepb.Event
				for _, ev := range b.Events {
					clones = append(clones, proto.Clone(ev).(*tracepb.Event))
				}
				got = append(clones, got...)
			}
			r.SetStreaming(true)
			var next []*tracepb.Event
			for {
				ev, err := r.Next()
				if err != nil {
					break
				}
				next = append(next, ev)
			}
			for what, evs := range map[string][]*tracepb.Event{"DecodeChunk": got, "Next": next} {
				if len(evs) != len(want) {
					t.Fatalf("%s: %d events, want %d", what, len(evs), len(want))
				}
				for i := range evs {
					if !proto.Equal(evs[i], want[i]) {
						t.Fatalf("%s: event %d:\n%v\nwant\n%v", what, i, evs[i], want[i])
					}
				}
			}
		})
	}
}
