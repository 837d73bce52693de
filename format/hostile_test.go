package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-trace/hermes/format/tracepb"
)

// rawChunk is the uncompressed payload of an events chunk and its header
// fields, for building traces by hand.
type rawChunk struct {
	raw          []byte // delimited events, on-disk (delta) encoding
	firstSeq     uint64
	count        uint32
	minT, maxT   int64
	typ          uint8 // 0: ChunkEvents
	uncompressed bool  // store raw as is (for a chunk type other than events)
}

// traceHead returns the file header of a trace the writer wrote, without
// any chunk.
func traceHead(t testing.TB) []byte {
	t.Helper()
	path := tracePath(t)
	writeTrace(t, path, nil, WriterOptions{})
	data := mustRead(t, path)
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return data[:r.dataStart]
}

var testEncoder = func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithWindowSize(1<<20))
	if err != nil {
		panic(err)
	}
	return e
}()

// buildTrace lays out head, then the chunks (compressed with zstd, sealed
// with their CRC), then, with footer, the index and the trailer: the
// layout the writer produces, from payloads the writer would never write.
func buildTrace(head []byte, footer bool, chunks ...rawChunk) []byte {
	file := bytes.Clone(head)
	var index []ChunkInfo
	for _, c := range chunks {
		h := chunkHeader{typ: ChunkEvents, ulen: uint32(len(c.raw)), firstSeq: c.firstSeq, count: c.count, minTime: c.minT, maxTime: c.maxT}
		if c.typ != 0 {
			h.typ = c.typ
		}
		b := make([]byte, chunkHeaderSize, chunkHeaderSize+len(c.raw)/8)
		if c.uncompressed {
			b = append(b, c.raw...)
		} else {
			b = testEncoder.EncodeAll(c.raw, b)
		}
		h.clen = uint32(len(b) - chunkHeaderSize)
		h.put(b)
		sealChunk(b)
		if h.typ == ChunkEvents {
			index = append(index, ChunkInfo{Offset: int64(len(file)), FirstSeq: c.firstSeq, Count: c.count, MinTime: c.minT, MaxTime: c.maxT})
		}
		file = append(file, b...)
	}
	if !footer {
		return file
	}
	idx := make([]byte, chunkHeaderSize+len(index)*indexEntrySize)
	ih := chunkHeader{typ: ChunkIndex, clen: uint32(len(index) * indexEntrySize), ulen: uint32(len(index) * indexEntrySize), count: uint32(len(index))}
	for i, c := range index {
		putIndexEntry(idx[chunkHeaderSize+i*indexEntrySize:], c)
		if i == 0 {
			ih.firstSeq, ih.minTime, ih.maxTime = c.FirstSeq, c.MinTime, c.MaxTime
		}
		ih.minTime, ih.maxTime = min(ih.minTime, c.MinTime), max(ih.maxTime, c.MaxTime)
	}
	ih.put(idx)
	sealChunk(idx)
	ioff := len(file)
	file = append(file, idx...)
	file = binary.LittleEndian.AppendUint64(file, uint64(ioff))
	file = binary.LittleEndian.AppendUint32(file, uint32(len(idx)))
	return append(file, trailerMagic...)
}

// delimited appends ev, marshaled, with its length before it.
func delimited(dst []byte, ev []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ev)))
	return append(dst, ev...)
}

// memBombEvent returns the on-disk bytes of one Syscall event holding n
// empty Mem entries: 2 bytes each on disk, about 130 in memory.
func memBombEvent(n int) []byte {
	sc := bytes.Repeat([]byte{13<<3 | 2, 0}, n) // Syscall.mem, length 0
	ev := protowire.AppendTag(nil, 1, protowire.BytesType)
	ev = protowire.AppendBytes(ev, sc)
	return ev
}

// memBomb is the decode bomb of the hardening issue: a valid trace of
// under a kilobyte whose one chunk holds one event with n empty Mem
// entries (4 Mi of them: 8 MiB uncompressed, over 500 MB once decoded by
// a reader without limits).
func memBomb(t testing.TB, n int) []byte {
	return buildTrace(traceHead(t), true, rawChunk{raw: delimited(nil, memBombEvent(n)), firstSeq: 1, count: 1})
}

// syscallEvent returns the on-disk bytes of a Syscall event with just a
// tid and an entry time delta (no registers).
func syscallEvent(tid int32, dt int64) []byte {
	sc := &tracepb.Syscall{Tid: tid, EnterNs: dt, Lineage: "1"}
	b, err := proto.Marshal(&tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: sc}})
	if err != nil {
		panic(err)
	}
	return b
}

// goodChunk is an events chunk of n plain syscalls, seq first...first+n-1,
// times first*10...
func goodChunk(first uint64, n int) rawChunk {
	c := rawChunk{firstSeq: first, count: uint32(n), minT: int64(first) * 10, maxT: int64(first)*10 + int64(n-1)}
	for i := 0; i < n; i++ {
		dt := int64(1)
		if i == 0 {
			dt = c.minT
		}
		c.raw = delimited(c.raw, syscallEvent(int32(first), dt))
	}
	return c
}

// readCounting reads every event of data and returns them with what the
// reading allocated (TotalAlloc).
func readCounting(t testing.TB, data []byte) (*Reader, []*tracepb.Event, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var evs []*tracepb.Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	runtime.ReadMemStats(&after)
	return r, evs, after.TotalAlloc - before.TotalAlloc
}

// The decode bomb of the issue: 852 bytes that decoded to half a
// gigabyte. The chunk is now refused before it is unmarshaled: reading
// allocates about the decompressed payload (8 MiB), and the chunk is
// reported as damaged.
func TestMemBomb(t *testing.T) {
	data := memBomb(t, 4<<20)
	t.Logf("bomb: %d bytes", len(data))
	if len(data) > 2000 {
		t.Fatalf("bomb of %d bytes; want under 2000", len(data))
	}
	r, evs, alloc := readCounting(t, data)
	t.Logf("reading allocated %.1f MiB", float64(alloc)/(1<<20))
	if bound := uint64(2*(8<<20) + 4<<20); alloc > bound {
		t.Errorf("reading the bomb allocated %d bytes, over %d", alloc, bound)
	}
	if len(evs) != 0 {
		t.Errorf("read %d events", len(evs))
	}
	d := r.Damage()
	if len(d) != 1 || d[0].Events != 1 || !strings.Contains(d[0].Reason, "Syscall.mem entries") {
		t.Errorf("Damage() = %+v", d)
	}
	if n, reason, complete := r.Recovered(); n != 0 || complete || !strings.Contains(reason, "1 events lost") {
		t.Errorf("Recovered() = %d, %q, %v", n, reason, complete)
	}
}

// Many events each under the per-event limit, that together would take
// gigabytes: refused by the estimate of the chunk's decoded size.
func TestChunkMemoryBomb(t *testing.T) {
	const events, mems = 200, MaxEventMems
	ev := memBombEvent(mems)
	var raw []byte
	for i := 0; i < events; i++ {
		raw = delimited(raw, ev)
	}
	head := traceHead(t)
	data := buildTrace(head, true,
		goodChunk(1, 10),
		rawChunk{raw: raw, firstSeq: 11, count: events},
		goodChunk(11+events, 10))
	t.Logf("bomb: %d bytes, %d uncompressed", len(data), len(raw))
	r, evs, alloc := readCounting(t, data)
	t.Logf("reading allocated %.1f MiB", float64(alloc)/(1<<20))
	if bound := uint64(2*len(raw) + 4<<20); alloc > bound {
		t.Errorf("reading the bomb allocated %d bytes, over %d", alloc, bound)
	}
	if len(evs) != 20 || seqOf(evs[9]) != 10 || seqOf(evs[10]) != 11+events {
		t.Fatalf("read %d events", len(evs))
	}
	d := r.Damage()
	if len(d) != 1 || d[0].Events != events || !strings.Contains(d[0].Reason, "memory") {
		t.Errorf("Damage() = %+v", d)
	}
}

// Other repeated fields of an event are bounded too.
func TestEntryLimits(t *testing.T) {
	head := traceHead(t)
	mem := protowire.AppendBytes(protowire.AppendTag(nil, 13, protowire.BytesType), nil)
	for _, tc := range []struct {
		name string
		sc   func(n int) []byte // a Syscall with n entries
		max  int
		want string
	}{
		{"mem", func(n int) []byte { return bytes.Repeat(mem, n) }, MaxEventMems, "Syscall.mem"},
		{"writes", func(n int) []byte {
			w := protowire.AppendBytes(protowire.AppendTag(nil, 4, protowire.BytesType), nil)
			inj := protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), bytes.Repeat(w, n))
			return inj
		}, MaxInjectedWrites, "Injected.writes"},
		{"writes in two Injected", func(n int) []byte {
			w := protowire.AppendBytes(protowire.AppendTag(nil, 4, protowire.BytesType), nil)
			// Two occurrences of a singular field are merged: their
			// entries add up.
			inj := protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), bytes.Repeat(w, n/2))
			return append(inj, protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), bytes.Repeat(w, n-n/2))...)
		}, MaxInjectedWrites, "Injected.writes"},
		{"args packed", func(n int) []byte {
			inj := protowire.AppendBytes(protowire.AppendTag(nil, 8, protowire.BytesType), make([]byte, n))
			return protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), inj)
		}, MaxInjectedArgs, "Injected.args"},
		{"args unpacked", func(n int) []byte {
			a := protowire.AppendVarint(protowire.AppendTag(nil, 8, protowire.VarintType), 7)
			return protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), bytes.Repeat(a, n))
		}, MaxInjectedArgs, "Injected.args"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{tc.max, tc.max + 1} {
				ev := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), tc.sc(n))
				data := buildTrace(head, true, rawChunk{raw: delimited(nil, ev), firstSeq: 1, count: 1})
				r, err := NewReader(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					t.Fatal(err)
				}
				got := readAll(t, r)
				d := r.Damage()
				if n == tc.max && (len(got) != 1 || len(d) != 0) {
					t.Errorf("%d entries: read %d events, damage %+v", n, len(got), d)
				}
				if n > tc.max && (len(got) != 0 || len(d) != 1 || !strings.Contains(d[0].Reason, fmt.Sprintf("%d %s entries, over the %d limit", n, tc.want, tc.max))) {
					t.Errorf("%d entries: read %d events, damage %+v", n, len(got), d)
				}
			}
		})
	}
}

// withoutChunk returns evs less the events of chunk c.
func withoutChunk(evs []*tracepb.Event, c ChunkInfo) []*tracepb.Event {
	var out []*tracepb.Event
	for _, ev := range evs {
		if s := seqOf(ev); s < c.FirstSeq || s >= c.FirstSeq+uint64(c.Count) {
			out = append(out, ev)
		}
	}
	return out
}

// One flipped byte anywhere in a middle chunk, with the index or without
// (a partial trace, scanned): exactly that chunk is lost, every later
// chunk is read, and the loss is reported with the chunk's bytes and its
// events.
func TestFlippedByteInMiddleChunk(t *testing.T) {
	evs := genEvents(300, 41)
	path := tracePath(t)
	writeTrace(t, path, evs, WriterOptions{ChunkSize: 2 << 10})
	data := mustRead(t, path)
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	chunks := r.Chunks()
	if len(chunks) < 5 {
		t.Fatalf("%d chunks", len(chunks))
	}
	mid := len(chunks) / 2
	c, next := chunks[mid], chunks[mid+1]
	want := withoutChunk(evs, c)
	indexOff := int64(binary.LittleEndian.Uint64(data[len(data)-trailerSize:]))
	for _, footer := range []bool{true, false} {
		file := bytes.Clone(data)
		if !footer {
			file = file[:indexOff]
		}
		for off := c.Offset; off < next.Offset; off++ {
			file[off] ^= 0x55
			r, err := NewReader(bytes.NewReader(file), int64(len(file)))
			if err != nil {
				t.Fatalf("footer %v, byte %d: %v", footer, off, err)
			}
			got := readAll(t, r)
			n, reason, complete := r.Recovered()
			d := r.Damage()
			if len(got) != len(want) || n != len(want) || complete || len(d) != 1 || d[0].Offset != c.Offset || d[0].End != next.Offset {
				t.Fatalf("footer %v, byte %d: read %d, want %d; Recovered() = %d, %q, %v; Damage() = %+v",
					footer, off, len(got), len(want), n, reason, complete, d)
			}
			checkPrefix(t, got, want)
			// Without the index, the count comes from the damaged
			// header when it agrees with its neighbours: a flipped
			// count may agree.
			if inCount := off >= c.Offset+21 && off < c.Offset+25; d[0].Events != int(c.Count) && (footer || !inCount) {
				t.Fatalf("footer %v, byte %d: Damage() = %+v, want %d events", footer, off, d, c.Count)
			}
			if !strings.Contains(reason, fmt.Sprintf("skipped 1 damaged part, %d events lost: bytes %d-%d: ", d[0].Events, c.Offset, next.Offset)) {
				t.Fatalf("footer %v, byte %d: reason %q", footer, off, reason)
			}
			if !footer && !strings.HasSuffix(reason, "; no footer: writer did not finish") {
				t.Fatalf("byte %d: reason %q", off, reason)
			}
			file[off] ^= 0x55
		}
	}
}

// A trace that ends early (a killed writer: no footer, the last chunk cut
// short) is partial, not damaged, wherever it is cut; and so is one whose
// last chunk was never written past its header.
func TestTruncatedIsPartial(t *testing.T) {
	evs := genEvents(300, 43)
	path := tracePath(t)
	writeTrace(t, path, evs, WriterOptions{ChunkSize: 2 << 10})
	data := mustRead(t, path)
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	chunks := r.Chunks()
	last := chunks[len(chunks)-1]
	for _, l := range []int64{last.Offset + 3, last.Offset + chunkHeaderSize, last.Offset + chunkHeaderSize + 17, int64(len(data)) - trailerSize - 1} {
		r, err := NewReader(bytes.NewReader(data[:l]), l)
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, r)
		n, reason, complete := r.Recovered()
		wantN := int(last.FirstSeq - 1)
		if l > last.Offset+chunkHeaderSize+17 {
			wantN = len(evs)
		}
		if len(got) != wantN || n != wantN || complete || reason == "" || len(r.Damage()) != 0 {
			t.Errorf("cut at %d: read %d, want %d; Recovered() = %d, %q, %v; Damage() = %+v", l, len(got), wantN, n, reason, complete, r.Damage())
		}
		checkPrefix(t, got, evs)
	}
}

// Bytes that are not chunks between two good chunks of a partial trace,
// and a damaged chunk header: the reader finds the next chunk by its magic
// and CRC, and counts the events lost from the sequence numbers.
func TestResync(t *testing.T) {
	head := traceHead(t)
	a, b, c := goodChunk(1, 10), goodChunk(11, 10), goodChunk(21, 10)
	file := buildTrace(head, false, a)
	garbageAt := int64(len(file))
	file = append(file, bytes.Repeat([]byte("CHNK garbage "), 20)...)
	bAt := int64(len(file))
	file = append(file, buildTrace(nil, false, b)...)
	cAt := int64(len(file))
	file = append(file, buildTrace(nil, false, c)...)
	copy(file[bAt:], "XXXX") // b's magic
	r, err := NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != 20 || seqOf(got[9]) != 10 || seqOf(got[10]) != 21 {
		t.Fatalf("read %d events", len(got))
	}
	d := r.Damage()
	if len(d) != 1 || d[0].Offset != garbageAt || d[0].End != cAt || d[0].Events != 10 || !strings.HasPrefix(d[0].Reason, "bad chunk header at offset") {
		t.Errorf("Damage() = %+v", d)
	}
}

// A chunk with a good CRC whose sequence numbers go back is skipped.
func TestChunkOutOfOrder(t *testing.T) {
	head := traceHead(t)
	for _, footer := range []bool{false, true} {
		file := buildTrace(head, footer, goodChunk(1, 10), goodChunk(21, 10), goodChunk(5, 3), goodChunk(31, 10))
		r, err := NewReader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, r)
		var seqs []uint64
		for _, ev := range got {
			seqs = append(seqs, seqOf(ev))
		}
		if footer {
			// The index is refused; the scan skips the chunk.
			if len(got) != 30 || len(r.Damage()) != 1 || r.Damage()[0].Events != 3 {
				t.Errorf("footer: read %v; Damage() = %+v", seqs, r.Damage())
			}
			continue
		}
		if len(got) != 30 || len(r.Damage()) != 1 || r.Damage()[0].Events != 3 || !strings.Contains(r.Damage()[0].Reason, "sequence number 5 after 30") {
			t.Errorf("read %v; Damage() = %+v", seqs, r.Damage())
		}
	}
}

// chunkPayloads returns the decompressed payload and header of every
// events chunk of a trace.
func chunkPayloads(t testing.TB, data []byte) ([][]byte, []chunkHeader) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	var raws [][]byte
	var hs []chunkHeader
	for _, c := range r.Chunks() {
		h, err := parseChunkHeader(data[c.Offset:])
		if err != nil {
			t.Fatal(err)
		}
		raw, err := dec.DecodeAll(data[c.Offset+chunkHeaderSize:c.Offset+chunkHeaderSize+int64(h.clen)], nil)
		if err != nil {
			t.Fatal(err)
		}
		raws, hs = append(raws, raw), append(hs, h)
	}
	return raws, hs
}

// decodeAlloc decodes a chunk payload and returns what it allocated and
// the estimate.
func decodeAlloc(t testing.TB, raw []byte, h chunkHeader) (alloc uint64, used int64, err error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	evs, used, err := decodeEvents(raw, h)
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(evs)
	return after.TotalAlloc - before.TotalAlloc, used, err
}

// The estimate the limits are checked against is an upper bound of what
// decoding a chunk allocates, and not far above it (so that real chunks
// are not refused): on real events and on the worst payloads for it.
func TestEstimateBoundsAllocation(t *testing.T) {
	type payload struct {
		name string
		raw  []byte
		h    chunkHeader
	}
	var cases []payload
	path := tracePath(t)
	writeTrace(t, path, genEvents(20000, 47), WriterOptions{ChunkSize: 1 << 20})
	raws, hs := chunkPayloads(t, mustRead(t, path))
	cases = append(cases, payload{"real 1 MiB chunk", raws[0], hs[0]})
	for _, loop := range []bool{false, true} {
		// As many events as a chunk holds: of a mix of calls, and of a
		// getppid loop (the smallest events).
		path = tracePath(t)
		tg := newTypical(1, loop)
		w, err := Create(path, testHeader(), WriterOptions{ChunkSize: 16 << 20, FlushInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < MaxChunkEvents; i++ {
			if err := w.Append(tg.next(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		raws, hs = chunkPayloads(t, mustRead(t, path))
		name := "65536 mixed events"
		if loop {
			name = "65536 getppid calls"
		}
		cases = append(cases, payload{name, raws[0], hs[0]})
	}

	one := func(name string, ev []byte, n int) payload {
		var raw []byte
		for i := 0; i < n; i++ {
			raw = delimited(raw, ev)
		}
		return payload{name, raw, chunkHeader{typ: ChunkEvents, count: uint32(n), ulen: uint32(len(raw))}}
	}
	cases = append(cases, one("empty mems", memBombEvent(MaxEventMems), 1))
	cases = append(cases, one("empty syscalls", protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), nil), MaxChunkEvents))
	cases = append(cases, one("empty events", nil, MaxChunkEvents))
	mem1 := protowire.AppendBytes(protowire.AppendTag(nil, 13, protowire.BytesType), []byte{2<<3 | 2, 1, 'x'})
	cases = append(cases, one("1-byte mems", protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), bytes.Repeat(mem1, MaxEventMems)), 4))
	unknown := protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1)
	cases = append(cases, one("unknown fields", protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), bytes.Repeat(unknown, 100000)), 4))
	args := protowire.AppendBytes(protowire.AppendTag(nil, 8, protowire.BytesType), make([]byte, MaxInjectedArgs))
	inj := protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), args)
	cases = append(cases, one("injected args", protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), inj), 20000))
	// Full registers, then deltas of one byte against them.
	full := &tracepb.Syscall{Tid: 1, Regs: make([]byte, 512)}
	fb, _ := proto.Marshal(&tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: full}})
	delta, _ := proto.Marshal(&tracepb.Event{Kind: &tracepb.Event_Syscall{Syscall: &tracepb.Syscall{Tid: 1, RegsDelta: []byte{0}, ExitRegsDelta: []byte{0}}}})
	p := one("register deltas", delta, 30000)
	p.raw = append(delimited(nil, fb), p.raw...)
	p.h.count++
	p.h.ulen = uint32(len(p.raw))
	cases = append(cases, p)
	proc, _ := proto.Marshal(&tracepb.Event{Kind: &tracepb.Event_Process{Process: &tracepb.Process{Siginfo: make([]byte, 128), ExecPath: "/x", Lineage: "1"}}})
	cases = append(cases, one("process events", proc, 20000))

	for _, c := range cases {
		alloc, used, err := decodeAlloc(t, c.raw, c.h)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		t.Logf("%-22s %8d bytes: allocated %9d, estimated %9d (%.2fx), %.1f bytes/byte", c.name, len(c.raw), alloc, used, float64(used)/float64(alloc), float64(used)/float64(len(c.raw)))
		if int64(alloc) > used+64<<10 {
			t.Errorf("%s: decoding allocated %d bytes, more than the estimate %d", c.name, alloc, used)
		}
		if used > 2*int64(alloc)+64<<10 {
			t.Errorf("%s: estimate %d, over twice what decoding allocated (%d)", c.name, used, alloc)
		}
		if used > MaxChunkMemory/2 {
			t.Errorf("%s: estimate %d, over half of MaxChunkMemory", c.name, used)
		}
	}
}

// A file made of fake chunk headers, each claiming the rest of the file
// and with a wrong CRC: looking for a good chunk after the damage reads a
// bounded amount (a few times the file), not every candidate's payload.
func TestResyncBounded(t *testing.T) {
	head := traceHead(t)
	file := buildTrace(head, false, goodChunk(1, 10))
	start := len(file)
	const size = 4 << 20
	for len(file)+64 <= size {
		h := chunkHeader{typ: ChunkEvents, ulen: 100, count: 1, firstSeq: 11}
		b := make([]byte, 64)
		h.clen = uint32(size - len(file) - chunkHeaderSize)
		h.put(b)
		file = append(file, b...)
	}
	file = append(file, make([]byte, size-len(file))...)
	began := time.Now()
	r, err := NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	got := readAll(t, r)
	d := r.Damage()
	t.Logf("opened in %v (%d bytes checked); %+v", took, r.work, d)
	if len(got) != 10 || len(d) != 1 || d[0].Offset != int64(start) || !strings.Contains(d[0].Reason, "too much damage") {
		t.Errorf("read %d events; Damage() = %+v", len(got), d)
	}
	if r.work > 4*size+MaxChunkPayload+size {
		t.Errorf("checked %d bytes of a %d-byte file", r.work, size)
	}
}
