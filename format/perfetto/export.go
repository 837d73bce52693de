// Package perfetto converts a HERMES trace into a native Perfetto trace (a
// protobuf Trace of TracePackets with TrackDescriptors and TrackEvents),
// which the Perfetto UI (ui.perfetto.dev) and trace processor load.
//
// The Perfetto trace has:
//
//   - a process track per recorded process, named by its lineage and
//     program ("1.2 gcc"; renamed when the process execs), and under it a
//     thread track per thread, named by its lineage ("1.2/t3"; the UI adds
//     the tid). Thread tracks carry a ThreadDescriptor (pid, tid) and also
//     name their process track as parent_uuid;
//   - every syscall a slice on its thread's track, from its entry to its
//     exit, named by the syscall, with its decoded arguments (by the
//     syscall table's argument names), its result and its sequence number
//     in the HERMES trace as debug annotations. A call whose exit was not
//     observed (hermes did not stop there, or the thread died inside it) is
//     an instant at its entry;
//   - every injected fault an instant on the process's "injected faults"
//     track, with a flow to the call it changed;
//   - forks, new threads, execs, signals, group stops and exits instants on
//     the thread's track; a fork or a new thread has a flow to the first
//     event of the child.
//
// Times are the trace's own: nanoseconds since the recording started, on
// Perfetto's default clock (BOOTTIME); the wall-clock start is in the
// description of the first process's track.
//
// The conversion streams: it holds a few chunks' events at a time (decoded
// by format.Reader.DecodeChunk into batches whose memory goes back to the
// readers once converted) and a little state per process and thread.
// Event names and debug annotation names are interned (one packet
// sequence), and the iids of the names every syscall uses are cached. The
// hot path encodes packets directly with protowire; the field numbers are
// Perfetto's, and the tests check them against the generated package
// perfettopb.
package perfetto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hermes-trace/hermes/format"
	"github.com/hermes-trace/hermes/format/perfetto/perfettopb"
	"github.com/hermes-trace/hermes/format/recorded"
	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/hermes-trace/hermes/tracer/abi"
	"github.com/hermes-trace/hermes/tracer/decode"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers of the Perfetto messages written by hand (Perfetto's own;
// TestFieldNumbers checks them against perfettopb).
const (
	fTracePacket = 1 // Trace.packet

	fPacketTimestamp    = 8  // TracePacket.timestamp
	fPacketTrackEvent   = 11 // TracePacket.track_event
	fPacketTrackDesc    = 60 // TracePacket.track_descriptor
	fPacketSequenceID   = 10 // TracePacket.trusted_packet_sequence_id
	fPacketInternedData = 12 // TracePacket.interned_data
	fPacketSeqFlags     = 13 // TracePacket.sequence_flags

	fEventNameIID     = 10 // TrackEvent.name_iid
	fEventType        = 9  // TrackEvent.type
	fEventTrackUUID   = 11 // TrackEvent.track_uuid
	fEventFlowIDs     = 47 // TrackEvent.flow_ids (fixed64)
	fEventTermFlowIDs = 48 // TrackEvent.terminating_flow_ids (fixed64)
	fEventAnnotations = 4  // TrackEvent.debug_annotations

	fAnnNameIID   = 1 // DebugAnnotation.name_iid
	fAnnIntValue  = 4 // DebugAnnotation.int_value
	fAnnStrValue  = 6 // DebugAnnotation.string_value
	fAnnBoolValue = 2 // DebugAnnotation.bool_value

	fInternedEventNames = 2 // InternedData.event_names
	fInternedAnnNames   = 3 // InternedData.debug_annotation_names
	fInternedIID        = 1 // EventName.iid, DebugAnnotationName.iid
	fInternedName       = 2 // EventName.name, DebugAnnotationName.name
)

// The one packet sequence of the output.
const sequenceID = 1

// Options control the conversion.
type Options struct {
	// StrSize is the most bytes of a string or buffer shown in a decoded
	// argument (strace's -s); 0 means 32.
	StrSize int
	// Open, when set, opens another Reader of the same trace. Export then
	// decodes the chunks (each is independent of the others) on Workers
	// goroutines, each with a Reader of its own (the first uses the Reader
	// given to Export), a couple of chunks ahead at most.
	Open func() (*format.Reader, error)
	// Workers is how many chunks are decoded at once with Open; 0 means
	// GOMAXPROCS, at most 4.
	Workers int
}

// Stats count what Export wrote.
type Stats struct {
	Events    int // HERMES events read
	Syscalls  int // syscalls (slices and instants)
	Faults    int // injected faults
	Processes int // process tracks
	Threads   int // thread tracks
	Packets   int // Perfetto packets written
	Bytes     int64
	// Damage is what the readers skipped, in file order: the Reader's own
	// Damage and that found by the other Readers (see Options.Open).
	Damage []format.Damage
}

type process struct {
	uuid    uint64
	lineage string
	pid     int32
	program string
	faults  uint64 // uuid of its "injected faults" track, 0 until needed
	first   bool   // the first process: its track describes the recording
}

type thread struct {
	uuid    uint64
	proc    *process
	flowsIn []uint64 // flows (fork, new thread) that end at its first event
}

type exporter struct {
	w     *bufio.Writer
	hdr   *tracepb.TraceHeader
	opts  decode.Options
	stats Stats
	err   error

	procs       map[string]*process
	threads     map[string]*thread
	pendingFlow map[string]uint64 // child lineage: the flow from its fork
	nextUUID    uint64
	nextFlow    uint64

	eventNames map[string]uint64
	annNames   map[string]uint64
	interned   []byte // InternedData entries to send with the next packet
	cleared    bool   // the SEQ_INCREMENTAL_STATE_CLEARED packet was sent

	ev    []byte // the TrackEvent being built
	pkt   []byte // the TracePacket being built
	text  []byte // decoded call
	name  []byte // scratch for names
	spans [][2]int
	head  [1 + binary.MaxVarintLen64]byte
	mem   recorded.Captured // the memory of the call being decoded
	call  decode.Call

	// Cached iids: of x86_64 syscalls' names, by number (other stays
	// empty: its names are interned each time), and of the names every
	// call's annotations use.
	calls []callNames
	other callNames
	iids  struct {
		result, seq uint64
		args        [abi.MaxArgs]uint64 // arg0...
	}
}

// Export writes the events of r to w as a Perfetto trace and returns
// what it wrote. It reads every chunk of r (whatever events Next has
// returned), streaming (see format.Reader.DecodeChunk); an error of w
// stops it. The output written before an error is a valid Perfetto trace
// of the events before it.
func Export(w io.Writer, r *format.Reader, o *Options) (Stats, error) {
	e := &exporter{
		w:           bufio.NewWriterSize(w, 256<<10),
		hdr:         r.Header(),
		procs:       map[string]*process{},
		threads:     map[string]*thread{},
		pendingFlow: map[string]uint64{},
		eventNames:  map[string]uint64{},
		annNames:    map[string]uint64{},
	}
	if o != nil {
		e.opts.StrSize = o.StrSize
	}
	// Reading (decompressing and decoding the events) runs on goroutines
	// of its own, a few chunks ahead at most, so memory stays bounded; the
	// batches of events go back to them to be decoded into again.
	p := &pipeline{stop: make(chan struct{}), free: make(chan *format.Batch, 16)}
	var finish func() ([]format.Damage, error)
	if o != nil && o.Open != nil {
		finish = p.readParallel(r, o.Open, o.Workers)
	} else {
		finish = p.readSequential(r)
	}
	for b := range p.batches {
		for _, ev := range b.Events {
			if e.err != nil {
				break
			}
			e.stats.Events++
			switch k := ev.Kind.(type) {
			case *tracepb.Event_Syscall:
				e.syscall(k.Syscall)
			case *tracepb.Event_Process:
				e.process(k.Process)
			}
		}
		p.release(b)
		if e.err != nil {
			close(p.stop)
			for range p.batches { // let the readers finish before returning
			}
			break
		}
	}
	damage, err := finish()
	e.stats.Damage = damage
	if ferr := e.w.Flush(); e.err == nil {
		e.err = ferr
	}
	if e.err != nil {
		return e.stats, e.err
	}
	return e.stats, err
}

// pipeline carries the decoded chunks from the readers to the exporter,
// in file order, and their batches back.
type pipeline struct {
	batches <-chan *format.Batch
	stop    chan struct{}      // closed when the exporter stops early
	free    chan *format.Batch // batches the exporter is done with
}

// batch returns a batch to decode into.
func (p *pipeline) batch() *format.Batch {
	select {
	case b := <-p.free:
		return b
	default:
		return new(format.Batch)
	}
}

// release hands back a batch the exporter is done with.
func (p *pipeline) release(b *format.Batch) {
	select {
	case p.free <- b:
	default:
	}
}

// readSequential decodes the chunks of r on a goroutine.
func (p *pipeline) readSequential(r *format.Reader) func() ([]format.Damage, error) {
	batches := make(chan *format.Batch, 1)
	p.batches = batches
	var err error
	go func() {
		defer close(batches)
		for _, c := range r.Chunks() {
			b := p.batch()
			if err = r.DecodeChunk(c, b); err != nil {
				return
			}
			if len(b.Events) == 0 {
				p.release(b) // a damaged chunk
				continue
			}
			select {
			case batches <- b:
			case <-p.stop:
				return
			}
		}
	}()
	return func() ([]format.Damage, error) { return r.Damage(), err }
}

// readParallel decodes the chunks of r on several goroutines, each with a
// Reader of its own, worker k taking chunks k, k+n, k+2n...; the batches
// (one a chunk) come out in file order. finish, called once the batches
// are drained, returns the damage all the readers met.
func (p *pipeline) readParallel(r *format.Reader, open func() (*format.Reader, error), n int) func() ([]format.Damage, error) {
	chunks := r.Chunks()
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), 4)
	}
	n = max(min(n, len(chunks)), 1)
	readers := []*format.Reader{r}
	for len(readers) < n {
		rk, err := open()
		if err != nil {
			break // fewer workers, then
		}
		readers = append(readers, rk)
	}
	n = len(readers)
	outs := make([]chan *format.Batch, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range readers {
		outs[k] = make(chan *format.Batch)
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			defer close(outs[k])
			for i := k; i < len(chunks); i += n {
				b := p.batch()
				if errs[k] = readers[k].DecodeChunk(chunks[i], b); errs[k] != nil {
					return
				}
				select {
				case outs[k] <- b: // even empty: the merger takes one a chunk
				case <-p.stop:
					return
				}
			}
		}(k)
	}
	batches := make(chan *format.Batch)
	p.batches = batches
	go func() {
		defer close(batches)
		for i := range chunks {
			b, ok := <-outs[i%n]
			if !ok {
				break // that worker stopped: an error, or stop
			}
			select {
			case batches <- b:
			case <-p.stop:
			}
		}
		for _, c := range outs { // unblock the workers, on stop or error
			for range c {
			}
		}
	}()
	return func() ([]format.Damage, error) {
		wg.Wait()
		seen := map[int64]bool{}
		var damage []format.Damage
		for k, rk := range readers {
			for _, d := range rk.Damage() {
				if !seen[d.Offset] {
					seen[d.Offset] = true
					damage = append(damage, d)
				}
			}
			if k > 0 {
				rk.Close()
			}
		}
		sort.Slice(damage, func(i, j int) bool { return damage[i].Offset < damage[j].Offset })
		var err error
		for _, e := range errs {
			if e != nil && err == nil {
				err = e
			}
		}
		return damage, err
	}
}

// procLineage is the lineage of the process a thread lineage belongs to.
func procLineage(lineage string) string {
	if i := strings.IndexByte(lineage, '/'); i >= 0 {
		return lineage[:i]
	}
	return lineage
}

// proc returns the process of lineage (a process lineage), making and
// describing its track the first time.
func (e *exporter) proc(lineage string, pid int32) *process {
	p := e.procs[lineage]
	if p != nil {
		return p
	}
	p = &process{lineage: lineage, pid: pid, first: len(e.procs) == 0}
	if p.first && len(e.hdr.GetArgv()) > 0 {
		p.program = path.Base(e.hdr.Argv[0])
	}
	e.nextUUID++
	p.uuid = e.nextUUID
	e.procs[lineage] = p
	e.stats.Processes++
	e.describeProcess(p)
	return p
}

// describeProcess writes the process's track descriptor (again, after an
// exec, with the new program's name).
func (e *exporter) describeProcess(p *process) {
	name := p.lineage
	if p.program != "" {
		name += " " + p.program
	}
	td := &perfettopb.TrackDescriptor{
		Uuid:                proto.Uint64(p.uuid),
		StaticOrDynamicName: &perfettopb.TrackDescriptor_Name{Name: name},
		Process:             &perfettopb.ProcessDescriptor{Pid: proto.Int32(p.pid), ProcessName: proto.String(name)},
	}
	if p.first {
		td.Process.Cmdline = e.hdr.GetArgv()
		td.Description = proto.String(e.recordingDescription())
	}
	e.descriptor(td)
}

// recordingDescription describes the recording, for the first process's
// track.
func (e *exporter) recordingDescription() string {
	h := e.hdr
	var b strings.Builder
	b.WriteString("Recorded by ")
	if h.GetTool() != "" {
		b.WriteString(h.GetTool())
	} else {
		b.WriteString("hermes")
	}
	if h.GetHermesVersion() != "" {
		b.WriteString(" " + h.GetHermesVersion())
	}
	if h.GetKernelRelease() != "" {
		b.WriteString(" on Linux " + h.GetKernelRelease())
	}
	if h.GetArch() != "" {
		b.WriteString(" " + h.GetArch())
	}
	if h.GetStartTimeUnixNs() != 0 {
		b.WriteString(", started " + time.Unix(0, h.GetStartTimeUnixNs()).UTC().Format(time.RFC3339Nano))
	}
	b.WriteString(". Times count from the start of the recording.")
	return b.String()
}

// thread returns the track of a thread lineage, making and describing it
// (and its process's) the first time.
func (e *exporter) thread(lineage string, pid, tid int32) *thread {
	t := e.threads[lineage]
	if t != nil {
		return t
	}
	p := e.proc(procLineage(lineage), pid)
	e.nextUUID++
	t = &thread{uuid: e.nextUUID, proc: p}
	if f, ok := e.pendingFlow[lineage]; ok {
		t.flowsIn = append(t.flowsIn, f)
		delete(e.pendingFlow, lineage)
	}
	e.threads[lineage] = t
	e.stats.Threads++
	e.descriptor(&perfettopb.TrackDescriptor{
		Uuid:                proto.Uint64(t.uuid),
		ParentUuid:          proto.Uint64(p.uuid),
		StaticOrDynamicName: &perfettopb.TrackDescriptor_Name{Name: lineage},
		Thread:              &perfettopb.ThreadDescriptor{Pid: proto.Int32(pid), Tid: proto.Int64(int64(tid)), ThreadName: proto.String(lineage)},
	})
	return t
}

// faultTrack returns the "injected faults" track of a process.
func (e *exporter) faultTrack(p *process) uint64 {
	if p.faults == 0 {
		e.nextUUID++
		p.faults = e.nextUUID
		e.descriptor(&perfettopb.TrackDescriptor{
			Uuid:                proto.Uint64(p.faults),
			ParentUuid:          proto.Uint64(p.uuid),
			StaticOrDynamicName: &perfettopb.TrackDescriptor_Name{Name: "injected faults"},
			Description:         proto.String("Calls hermes changed (-e inject=, fault scripts); each has a flow to the call."),
		})
	}
	return p.faults
}

// descriptor writes a TrackDescriptor packet.
func (e *exporter) descriptor(td *perfettopb.TrackDescriptor) {
	b, err := proto.Marshal(td)
	if err != nil {
		e.err = err
		return
	}
	e.packet(-1, fPacketTrackDesc, b, false)
}

// packet writes a TracePacket holding body as field, at ts (none if < 0),
// with the interned data gathered since the last packet.
func (e *exporter) packet(ts int64, field protowire.Number, body []byte, needsState bool) {
	p := e.pkt[:0]
	if ts >= 0 {
		p = protowire.AppendTag(p, fPacketTimestamp, protowire.VarintType)
		p = protowire.AppendVarint(p, uint64(ts))
	}
	p = protowire.AppendTag(p, fPacketSequenceID, protowire.VarintType)
	p = protowire.AppendVarint(p, sequenceID)
	var flags uint64
	if !e.cleared {
		flags |= uint64(perfettopb.TracePacket_SEQ_INCREMENTAL_STATE_CLEARED)
		e.cleared = true
	}
	if needsState {
		flags |= uint64(perfettopb.TracePacket_SEQ_NEEDS_INCREMENTAL_STATE)
	}
	if flags != 0 {
		p = protowire.AppendTag(p, fPacketSeqFlags, protowire.VarintType)
		p = protowire.AppendVarint(p, flags)
	}
	if len(e.interned) > 0 {
		p = protowire.AppendTag(p, fPacketInternedData, protowire.BytesType)
		p = protowire.AppendBytes(p, e.interned)
		e.interned = e.interned[:0]
	}
	p = protowire.AppendTag(p, field, protowire.BytesType)
	p = protowire.AppendVarint(p, uint64(len(body)))
	e.pkt = p

	// The packet is p then body, written as they are (body not copied
	// into p).
	h := protowire.AppendTag(e.head[:0], fTracePacket, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(len(p)+len(body)))
	for _, b := range [...][]byte{h, p, body} {
		if _, err := e.w.Write(b); err != nil && e.err == nil {
			e.err = err
		}
	}
	e.stats.Packets++
	e.stats.Bytes += int64(len(h) + len(p) + len(body))
}

// intern returns the iid of name in table, adding it to the interned data
// of the next packet (as field of InternedData) the first time.
func (e *exporter) intern(table map[string]uint64, field protowire.Number, name []byte) uint64 {
	if iid, ok := table[string(name)]; ok { // no allocation
		return iid
	}
	iid := uint64(len(table) + 1)
	table[string(name)] = iid
	n := 1 + protowire.SizeVarint(iid) + 1 + protowire.SizeBytes(len(name))
	e.interned = protowire.AppendTag(e.interned, field, protowire.BytesType)
	e.interned = protowire.AppendVarint(e.interned, uint64(n))
	e.interned = protowire.AppendTag(e.interned, fInternedIID, protowire.VarintType)
	e.interned = protowire.AppendVarint(e.interned, iid)
	e.interned = protowire.AppendTag(e.interned, fInternedName, protowire.BytesType)
	e.interned = protowire.AppendBytes(e.interned, name)
	return iid
}

// The kinds of TrackEvent.
const (
	sliceBegin = uint64(perfettopb.TrackEvent_TYPE_SLICE_BEGIN)
	sliceEnd   = uint64(perfettopb.TrackEvent_TYPE_SLICE_END)
	instant    = uint64(perfettopb.TrackEvent_TYPE_INSTANT)
)

// begin starts a TrackEvent of type typ on track (named name unless nil).
func (e *exporter) begin(typ, track uint64, name []byte) {
	var iid uint64
	if name != nil {
		iid = e.intern(e.eventNames, fInternedEventNames, name)
	}
	e.beginIID(typ, track, iid)
}

// beginIID is begin with the name's iid (0: no name).
func (e *exporter) beginIID(typ, track, iid uint64) {
	b := e.ev[:0]
	b = protowire.AppendTag(b, fEventType, protowire.VarintType)
	b = protowire.AppendVarint(b, typ)
	b = protowire.AppendTag(b, fEventTrackUUID, protowire.VarintType)
	b = protowire.AppendVarint(b, track)
	if iid != 0 {
		b = protowire.AppendTag(b, fEventNameIID, protowire.VarintType)
		b = protowire.AppendVarint(b, iid)
	}
	e.ev = b
}

// cached returns the iid of name in table, from *iid once it has been
// interned (the names of every syscall take the same few).
func (e *exporter) cached(iid *uint64, table map[string]uint64, field protowire.Number, name string) uint64 {
	if *iid == 0 {
		*iid = e.intern(table, field, append(e.name[:0], name...))
	}
	return *iid
}

// annIID returns the iid of an annotation name, cached in *iid.
func (e *exporter) annIID(iid *uint64, name string) uint64 {
	return e.cached(iid, e.annNames, fInternedAnnNames, name)
}

// flows adds flow ids to the event being built (terminating ones when
// term).
func (e *exporter) flows(ids []uint64, term bool) {
	f := protowire.Number(fEventFlowIDs)
	if term {
		f = fEventTermFlowIDs
	}
	for _, id := range ids {
		e.ev = protowire.AppendTag(e.ev, f, protowire.Fixed64Type)
		e.ev = protowire.AppendFixed64(e.ev, id)
	}
}

// annHead starts a debug annotation named name (interned), whose value,
// with its tag, takes valueLen bytes.
func (e *exporter) annHead(name string, valueLen int) {
	e.annHeadIID(e.intern(e.annNames, fInternedAnnNames, append(e.name[:0], name...)), valueLen)
}

// annHeadIID is annHead with the name's iid.
func (e *exporter) annHeadIID(iid uint64, valueLen int) {
	n := 1 + protowire.SizeVarint(iid) + valueLen
	e.ev = protowire.AppendTag(e.ev, fEventAnnotations, protowire.BytesType)
	e.ev = protowire.AppendVarint(e.ev, uint64(n))
	e.ev = protowire.AppendTag(e.ev, fAnnNameIID, protowire.VarintType)
	e.ev = protowire.AppendVarint(e.ev, iid)
}

func (e *exporter) annStr(name string, v []byte) {
	e.annStrIID(e.intern(e.annNames, fInternedAnnNames, append(e.name[:0], name...)), v)
}

func (e *exporter) annStrIID(iid uint64, v []byte) {
	e.annHeadIID(iid, 1+protowire.SizeBytes(len(v)))
	e.ev = protowire.AppendTag(e.ev, fAnnStrValue, protowire.BytesType)
	e.ev = protowire.AppendBytes(e.ev, v)
}

func (e *exporter) annString(name, v string) {
	e.annHead(name, 1+protowire.SizeBytes(len(v)))
	e.ev = protowire.AppendTag(e.ev, fAnnStrValue, protowire.BytesType)
	e.ev = protowire.AppendString(e.ev, v)
}

func (e *exporter) annInt(name string, v int64) {
	e.annIntIID(e.intern(e.annNames, fInternedAnnNames, append(e.name[:0], name...)), v)
}

func (e *exporter) annIntIID(iid uint64, v int64) {
	e.annHeadIID(iid, 1+protowire.SizeVarint(uint64(v)))
	e.ev = protowire.AppendTag(e.ev, fAnnIntValue, protowire.VarintType)
	e.ev = protowire.AppendVarint(e.ev, uint64(v))
}

func (e *exporter) annBool(name string, v bool) {
	e.annHead(name, 2)
	e.ev = protowire.AppendTag(e.ev, fAnnBoolValue, protowire.VarintType)
	e.ev = protowire.AppendVarint(e.ev, protowire.EncodeBool(v))
}

// emit writes the event built as a packet at ts.
func (e *exporter) emit(ts int64) {
	e.packet(max(ts, 0), fPacketTrackEvent, e.ev, true)
}

// argName is the name of argument i of a call for its annotation.
var argNames = func() (n [abi.MaxArgs]string) {
	for i := range n {
		n[i] = "arg" + strconv.Itoa(i)
	}
	return
}()

func (e *exporter) syscall(s *tracepb.Syscall) {
	t := e.thread(s.Lineage, s.Pid, s.Tid)
	e.stats.Syscalls++
	c := &e.call // in e: AppendCall's pointer would make a local escape
	*c = decode.Call{Arch: recorded.Arch(s.Arch), Nr: int(s.Nr), Args: format.Args(s), Ret: s.Ret, Exited: !s.EntryOnly && !s.Exited}
	if c.Arch == abi.ArchX86_64 {
		c.Info = abi.X86_64(c.Nr)
	}
	name := abi.Name(c.Arch, c.Nr)
	e.mem = s.Mem
	e.text = decode.AppendCall(e.text[:0], c, &e.mem, &e.opts) // a pointer: no allocation
	// "name(args)": the arguments without the parentheses.
	argText := e.text[bytes.IndexByte(e.text, '(')+1 : len(e.text)-1]
	retStart := len(e.text)
	e.text = decode.AppendRet(e.text, c)
	ret := e.text[retStart+3:] // after " = "

	var flow uint64
	if in := s.Injected; in != nil {
		e.nextFlow++
		flow = e.nextFlow
		e.fault(t, s, in, name, ret, flow)
	}
	complete := !s.EntryOnly && !s.Exited && s.ExitNs != 0
	typ := sliceBegin
	if !complete {
		typ = instant
	}
	names := e.callIIDs(c.Arch, c.Nr)
	e.beginIID(typ, t.uuid, e.cached(&names.name, e.eventNames, fInternedEventNames, name))
	if len(t.flowsIn) > 0 {
		e.flows(t.flowsIn, true)
		t.flowsIn = t.flowsIn[:0]
	}
	if flow != 0 && (!complete || !s.Injected.AtExit) {
		e.flows([]uint64{flow}, true)
	}
	e.args(c.Info, argText, names)
	e.annStrIID(e.annIID(&e.iids.result, "result"), ret)
	if s.Arch != tracepb.Arch_ARCH_X86_64 {
		e.annString("arch", c.Arch.String())
	}
	if s.Injected != nil {
		by := s.Injected.By
		if by == "" {
			by = "hermes"
		}
		e.annString("injected by", by)
	}
	e.annIntIID(e.annIID(&e.iids.seq, "seq"), int64(s.Seq))
	e.emit(s.EnterNs)
	if !complete {
		return
	}
	e.beginIID(sliceEnd, t.uuid, 0)
	needsState := false
	if flow != 0 && s.Injected.AtExit {
		e.flows([]uint64{flow}, true)
		needsState = true
	}
	e.packet(max(s.ExitNs, s.EnterNs), fPacketTrackEvent, e.ev, needsState)
	e.mem = nil
}

// args adds the decoded arguments, split at their top-level commas, as
// annotations named by the syscall table (arg0... without one; clone's
// "name=value" arguments by their name). names caches the iids of the
// call's argument names.
func (e *exporter) args(info *abi.Syscall, text []byte, names *callNames) {
	e.spans = splitArgs(e.spans[:0], text)
	for i, sp := range e.spans {
		v := text[sp[0]:sp[1]]
		var name string
		var iid *uint64 // where the iid of name is cached, if it is
		switch {
		case info != nil && strings.HasPrefix(info.Name, "clone"):
			if k, _, ok := strings.Cut(string(v), "="); ok && k != "" && !strings.ContainsAny(k, " \"{[(") {
				name = k
				v = v[len(k)+1:]
			}
		case info != nil && i < len(info.Args) && len(e.spans) <= len(info.Args):
			name = info.Args[i].Name
			if i < len(names.args) {
				iid = &names.args[i]
			}
		}
		if name == "" {
			if i < len(argNames) {
				name, iid = argNames[i], &e.iids.args[i]
			} else {
				name = "arg" + strconv.Itoa(i)
			}
		}
		if iid != nil {
			e.annStrIID(e.annIID(iid, name), v)
		} else {
			e.annStr(name, v)
		}
	}
}

// callNames are the iids of the names of a syscall and of its arguments
// (0 until interned).
type callNames struct {
	name uint64
	args [abi.MaxArgs]uint64
}

// callIIDs returns the iid cache of syscall nr of arch (one for all the
// calls it does not keep apart).
func (e *exporter) callIIDs(arch abi.Arch, nr int) *callNames {
	if arch != abi.ArchX86_64 || nr < 0 || nr >= maxCachedNr {
		e.other = callNames{}
		return &e.other
	}
	if nr >= len(e.calls) {
		e.calls = append(e.calls, make([]callNames, nr+1-len(e.calls))...)
	}
	return &e.calls[nr]
}

// maxCachedNr bounds the x86_64 syscall numbers whose names' iids are
// cached.
const maxCachedNr = 1024

// splitArgs appends the spans of the comma-separated arguments of an
// strace argument list: commas inside quotes, brackets, braces and
// parentheses do not split.
func splitArgs(dst [][2]int, s []byte) [][2]int {
	if len(s) == 0 {
		return dst
	}
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if inQuote {
			switch ch {
			case '\\':
				i++
			case '"':
				inQuote = false
			}
			continue
		}
		switch ch {
		case '"':
			inQuote = true
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				dst = append(dst, [2]int{start, i})
				start = i + 1
				for start < len(s) && s[start] == ' ' {
					start++
				}
				i = start - 1
			}
		}
	}
	return append(dst, [2]int{start, len(s)})
}

// fault writes the instant of an injected fault, with a flow to its call.
func (e *exporter) fault(t *thread, s *tracepb.Syscall, in *tracepb.Injected, name string, ret []byte, flow uint64) {
	e.stats.Faults++
	track := e.faultTrack(t.proc)
	e.name = append(e.name[:0], "inject "...)
	e.name = append(e.name, name...)
	e.begin(instant, track, e.name)
	e.flows([]uint64{flow}, false)
	act := strings.ToLower(strings.TrimPrefix(in.Action.String(), "ACTION_"))
	e.annString("action", act)
	switch in.Action {
	case tracepb.Action_ACTION_DENY:
		e.annString("errno", abi.ErrnoName(int(in.Value)))
	case tracepb.Action_ACTION_RETURN, tracepb.Action_ACTION_EMULATE:
		e.annInt("value", in.Value)
	case tracepb.Action_ACTION_DELAY:
		e.annInt("delay_ns", int64(in.DelayNs))
	case tracepb.Action_ACTION_SIGNAL, tracepb.Action_ACTION_KILL:
		if in.Signal != 0 {
			e.annString("signal", abi.SignalName(int(in.Signal)))
		}
	}
	if in.SetArgs != 0 {
		e.annInt("set_args", int64(in.SetArgs))
	}
	if in.AtExit {
		e.annBool("at_exit", true)
	}
	if in.By != "" {
		e.annString("by", in.By)
	}
	if in.Note != "" {
		e.annString("note", in.Note)
	}
	e.annString("thread", s.Lineage)
	e.annStr("result", ret)
	e.annInt("seq", int64(s.Seq))
	ts := s.EnterNs
	if in.AtExit && !s.EntryOnly && !s.Exited && s.ExitNs != 0 {
		ts = max(s.ExitNs, s.EnterNs)
	}
	e.emit(ts)
}

func (e *exporter) process(p *tracepb.Process) {
	t := e.thread(p.Lineage, p.Pid, p.Tid)
	n := e.name[:0]
	var flow uint64
	switch p.Kind {
	case tracepb.ProcessKind_PROCESS_KIND_FORK, tracepb.ProcessKind_PROCESS_KIND_THREAD:
		if p.Kind == tracepb.ProcessKind_PROCESS_KIND_FORK {
			n = append(n, "fork"...)
			if _, ok := e.procs[p.ChildLineage]; !ok {
				// The child runs its parent's program until it execs.
				child := &process{lineage: p.ChildLineage, pid: p.ChildPid, program: t.proc.program}
				e.nextUUID++
				child.uuid = e.nextUUID
				e.procs[child.lineage] = child
				e.stats.Processes++
				e.describeProcess(child)
			}
		} else {
			n = append(n, "new thread"...)
		}
		if p.ChildLineage != "" {
			if _, ok := e.threads[p.ChildLineage]; !ok {
				e.nextFlow++
				flow = e.nextFlow
				e.pendingFlow[p.ChildLineage] = flow
			}
		}
	case tracepb.ProcessKind_PROCESS_KIND_EXEC:
		n = append(n, "exec"...)
	case tracepb.ProcessKind_PROCESS_KIND_EXIT:
		if p.Signal != 0 {
			n = append(n, "killed by "...)
			n = append(n, abi.SignalName(int(p.Signal))...)
		} else {
			n = append(n, "exit"...)
		}
	case tracepb.ProcessKind_PROCESS_KIND_SIGNAL:
		n = append(n, abi.SignalName(int(p.Signal))...)
	case tracepb.ProcessKind_PROCESS_KIND_STOP:
		n = append(n, "stopped by "...)
		n = append(n, abi.SignalName(int(p.Signal))...)
	default:
		n = append(n, "process event"...)
	}
	e.name = n
	e.begin(instant, t.uuid, n)
	if len(t.flowsIn) > 0 {
		e.flows(t.flowsIn, true)
		t.flowsIn = t.flowsIn[:0]
	}
	if flow != 0 {
		e.flows([]uint64{flow}, false)
	}
	switch p.Kind {
	case tracepb.ProcessKind_PROCESS_KIND_FORK, tracepb.ProcessKind_PROCESS_KIND_THREAD:
		e.annString("child", p.ChildLineage)
		e.annInt("child_pid", int64(p.ChildPid))
		if p.CloneFlags != 0 {
			e.annString("clone_flags", fmt.Sprintf("%#x", p.CloneFlags))
		}
	case tracepb.ProcessKind_PROCESS_KIND_EXEC:
		e.annString("path", p.ExecPath)
		if p.OldTid != 0 && p.OldTid != p.Tid {
			e.annInt("old_tid", int64(p.OldTid))
		}
	case tracepb.ProcessKind_PROCESS_KIND_EXIT:
		if p.Signal != 0 {
			e.annString("signal", abi.SignalName(int(p.Signal)))
			if p.Core {
				e.annBool("core dumped", true)
			}
		} else {
			e.annInt("status", int64(p.ExitStatus))
		}
	case tracepb.ProcessKind_PROCESS_KIND_SIGNAL:
		if len(p.Siginfo) > 0 {
			e.annStr("siginfo", decode.AppendSiginfoBytes(e.text[:0], p.Siginfo))
		}
	}
	e.annInt("seq", int64(p.Seq))
	e.emit(p.TimeNs)
	if p.Kind == tracepb.ProcessKind_PROCESS_KIND_EXEC && p.ExecPath != "" {
		t.proc.program = path.Base(p.ExecPath)
		e.describeProcess(t.proc)
	}
}
