package format

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"reflect"
	"runtime"
	"testing"

	"github.com/hermes-trace/hermes/format/tracepb"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// seedTrace returns a small real trace, with several chunks and every kind
// of event.
func seedTrace(t testing.TB) []byte {
	path := tracePath(t)
	writeTrace(t, path, genEvents(30, 37), WriterOptions{ChunkSize: 1 << 10})
	return mustRead(t, path)
}

// Memory a Reader may allocate besides what it accounts for as spent on
// decoding chunks (which the limits bound per chunk): a constant, and a
// multiple of the file's size (its header, index and chunk list, the
// payloads read, the reports of damage).
const (
	memSlack   = 1 << 20
	memPerByte = 32
)

// totalAlloc returns the bytes allocated so far by the process.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// exercise reads everything a Reader offers, checking only invariants:
// nothing panics, what is reported adds up, and the memory the reader
// allocates stays within a bound: opening, a constant plus a multiple of
// the input; reading every event, that plus what it accounts for as
// decoding chunks (the decompressed payloads and its estimate of the
// events, which the limits bound per chunk), with a quarter of slack over
// the estimate.
func exercise(t *testing.T, data []byte) {
	a0 := totalAlloc()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	a1 := totalAlloc()
	if bound := uint64(memSlack + memPerByte*len(data)); a1-a0 > bound {
		t.Fatalf("opening %d bytes allocated %d bytes, over %d", len(data), a1-a0, bound)
	}
	if err != nil {
		if r != nil {
			t.Fatal("reader and error")
		}
		return
	}
	defer r.Close()
	n := 0
	var last uint64
	var evs []*tracepb.Event
	for {
		ev, err := r.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("Next: %v", err)
			}
			break
		}
		evs = append(evs, ev)
		if s, _, ok := eventKey(ev); ok {
			if n > 0 && s <= last {
				t.Fatalf("seq %d after %d", s, last)
			}
			last = s
		}
		n++
	}
	a2 := totalAlloc()
	if bound := uint64(memSlack+memPerByte*len(data)) + uint64(r.spent+r.spent/4); a2-a1 > bound {
		t.Fatalf("reading %d bytes (%d events) allocated %d bytes, over %d (%d accounted for)", len(data), n, a2-a1, bound, r.spent)
	}
	got, reason, complete := r.Recovered()
	if got != n || (reason == "") != complete {
		t.Fatalf("read %d, Recovered() = %d, %q, %v", n, got, reason, complete)
	}
	end := r.dataStart
	for _, d := range r.Damage() {
		if d.Offset < end || d.End <= d.Offset || d.End > int64(len(data)) || d.Events < 0 || d.Reason == "" {
			t.Fatalf("Damage() = %+v", r.Damage())
		}
		end = d.End
	}
	if complete && len(r.Damage()) > 0 {
		t.Fatalf("complete, and Damage() = %+v", r.Damage())
	}
	for _, s := range []uint64{0, 1, 7, 1 << 63} {
		if r.SeekSeq(s) == nil {
			r.Next()
		}
	}
	for _, ns := range []int64{-1 << 63, 0, 50000, 1 << 62} {
		if r.SeekTime(ns) == nil {
			r.Next()
		}
	}
	exerciseStreaming(t, data, r, evs)
}

// exerciseStreaming reads data again with a streaming Reader (see
// SetStreaming) and checks that it reads what want read (events, damage,
// Recovered), within the memory bound of exercise.
func exerciseStreaming(t *testing.T, data []byte, want *Reader, evs []*tracepb.Event) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("second NewReader: %v", err)
	}
	defer r.Close()
	r.SetStreaming(true)
	a0 := totalAlloc()
	var got []*tracepb.Event
	for {
		ev, err := r.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("streaming Next: %v", err)
			}
			break
		}
		got = append(got, ev)
	}
	a1 := totalAlloc()
	if bound := uint64(memSlack+memPerByte*len(data)) + uint64(r.spent+r.spent/4); a1-a0 > bound {
		t.Fatalf("streaming: reading %d bytes (%d events) allocated %d bytes, over %d (%d accounted for)", len(data), len(got), a1-a0, bound, r.spent)
	}
	if len(got) != len(evs) {
		t.Fatalf("streaming: %d events, want %d", len(got), len(evs))
	}
	for i := range got {
		if !proto.Equal(got[i], evs[i]) {
			t.Fatalf("streaming: event %d:\n%v\nwant\n%v", i, got[i], evs[i])
		}
	}
	if !reflect.DeepEqual(r.Damage(), want.Damage()) {
		t.Fatalf("streaming: Damage() = %+v, want %+v", r.Damage(), want.Damage())
	}
	n, reason, complete := r.Recovered()
	wn, wreason, wcomplete := want.Recovered()
	if n != wn || reason != wreason || complete != wcomplete {
		t.Fatalf("streaming: Recovered() = %d, %q, %v, want %d, %q, %v", n, reason, complete, wn, wreason, wcomplete)
	}
}

// hostileSeeds returns traces that are valid but hostile (decode bombs,
// entries over the limits, damage), built as the writer lays out files.
func hostileSeeds(t testing.TB) [][]byte {
	head := traceHead(t)
	var seeds [][]byte
	seeds = append(seeds, memBomb(t, 4<<20)) // the 852-byte bomb of the issue
	var raw []byte
	ev := memBombEvent(MaxEventMems)
	for i := 0; i < 64; i++ {
		raw = delimited(raw, ev)
	}
	seeds = append(seeds, buildTrace(head, true, goodChunk(1, 3), rawChunk{raw: raw, firstSeq: 4, count: 64}, goodChunk(68, 3)))
	seeds = append(seeds, buildTrace(head, false, goodChunk(1, 3), rawChunk{raw: raw, firstSeq: 4, count: 64}, goodChunk(68, 3)))
	args := protowire.AppendBytes(protowire.AppendTag(nil, 8, protowire.BytesType), make([]byte, 1000))
	inj := protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), args)
	sc := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), inj)
	seeds = append(seeds, buildTrace(head, true, rawChunk{raw: delimited(nil, sc), firstSeq: 1, count: 1}, goodChunk(2, 2)))
	// A flipped byte in a middle chunk, with and without the index.
	data := seedTrace(t)
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	c := r.Chunks()[len(r.Chunks())/2]
	flipped := bytes.Clone(data)
	flipped[c.Offset+chunkHeaderSize+5] ^= 0x10
	seeds = append(seeds, flipped, flipped[:r.chunks[len(r.chunks)-1].Offset])
	return seeds
}

func FuzzOpen(f *testing.F) {
	data := seedTrace(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(data[:len(data)-trailerSize])
	f.Add([]byte("HERMTRC\x00"))
	f.Add([]byte{})
	for _, s := range hostileSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(exercise)
}

// fixCRCs makes every CRC in data right, so that fuzzing reaches what the
// CRCs protect: lengths, index entries, zstd frames, protobuf payloads.
func fixCRCs(data []byte) {
	if len(data) < fileHeaderFixed+4 {
		return
	}
	hend := fileHeaderFixed + int(binary.LittleEndian.Uint32(data[12:]))
	if hend < 0 || hend+4 > len(data) {
		return
	}
	binary.LittleEndian.PutUint32(data[hend:], crc32.Checksum(data[:hend], castagnoli))
	off := hend + 4
	for off+chunkHeaderSize <= len(data) {
		end := off + chunkHeaderSize + int(binary.LittleEndian.Uint32(data[off+5:]))
		if end > len(data) || end < off {
			return
		}
		sealChunk(data[off:end])
		off = end
	}
}

func FuzzReader(f *testing.F) {
	data := seedTrace(f)
	f.Add(data)
	f.Add(data[:len(data)-trailerSize])
	for _, s := range hostileSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fixCRCs(data)
		exercise(t, data)
	})
}

// FuzzEvents fuzzes the decompressed payload of an events chunk (the
// delimited protobuf messages and register deltas) inside an otherwise
// valid file, with or without a footer.
func FuzzEvents(f *testing.F) {
	data := seedTrace(f)
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		f.Fatal(err)
	}
	dec, _ := zstd.NewReader(nil)
	for _, c := range r.Chunks()[:3] {
		var h chunkHeader
		h, _ = parseChunkHeader(data[c.Offset:])
		raw, err := dec.DecodeAll(data[c.Offset+chunkHeaderSize:c.Offset+chunkHeaderSize+int64(h.clen)], nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, h.firstSeq, h.count, h.minTime, h.maxTime, true)
	}
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	head := data[:r.dataStart]
	f.Fuzz(func(t *testing.T, raw []byte, firstSeq uint64, count uint32, minT, maxT int64, footer bool) {
		h := chunkHeader{typ: ChunkEvents, firstSeq: firstSeq, count: count, minTime: minT, maxTime: maxT}
		chunk := enc.EncodeAll(raw, make([]byte, chunkHeaderSize))
		h.clen = uint32(len(chunk) - chunkHeaderSize)
		h.ulen = uint32(len(raw))
		h.put(chunk)
		sealChunk(chunk)
		file := append(bytes.Clone(head), chunk...)
		if footer {
			idx := make([]byte, chunkHeaderSize+indexEntrySize)
			putIndexEntry(idx[chunkHeaderSize:], ChunkInfo{Offset: int64(len(head)), FirstSeq: firstSeq, Count: count, MinTime: minT, MaxTime: maxT})
			ih := chunkHeader{typ: ChunkIndex, clen: indexEntrySize, ulen: indexEntrySize, count: 1, firstSeq: firstSeq, minTime: minT, maxTime: maxT}
			ih.put(idx)
			sealChunk(idx)
			ioff := len(file)
			file = append(file, idx...)
			file = binary.LittleEndian.AppendUint64(file, uint64(ioff))
			file = binary.LittleEndian.AppendUint32(file, uint32(len(idx)))
			file = append(file, trailerMagic...)
		}
		exercise(t, file)
	})
}

// FuzzDamage damages a real trace (with or without its footer) by the
// edits in ops, 3 bytes each: a 16-bit offset into the body and a byte to
// XOR there (0: cut the file there instead). Whatever the damage, every
// event read is one that was written, in order; with the index intact,
// the events read and the events the damage reports lost add up to all of
// them; and reading stays within exercise's memory bound.
func FuzzDamage(f *testing.F) {
	evs := genEvents(200, 53)
	path := tracePath(f)
	writeTrace(f, path, evs, WriterOptions{ChunkSize: 1 << 10})
	data := mustRead(f, path)
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		f.Fatal(err)
	}
	chunks := r.Chunks()
	body := data[r.dataStart:]
	indexOff := int(binary.LittleEndian.Uint64(data[len(data)-trailerSize:]))
	at := func(off int64, x byte) []byte {
		o := off - r.dataStart
		return []byte{byte(o), byte(o >> 8), x}
	}
	f.Add(at(chunks[3].Offset+60, 1), true)
	f.Add(at(chunks[3].Offset+60, 1), false)
	f.Add(append(at(chunks[2].Offset, 0xff), at(chunks[5].Offset+100, 0x80)...), false)
	f.Add(append(at(chunks[2].Offset+9, 0x40), at(int64(indexOff+50), 0)...), true)
	f.Fuzz(func(t *testing.T, ops []byte, footer bool) {
		file := append(bytes.Clone(data[:r.dataStart]), body...)
		if !footer {
			file = file[:indexOff]
		}
		for ; len(ops) >= 3; ops = ops[3:] {
			off := int(r.dataStart) + int(binary.LittleEndian.Uint16(ops))
			if off >= len(file) {
				continue
			}
			if ops[2] == 0 {
				file = file[:off]
				continue
			}
			file[off] ^= ops[2]
		}
		exercise(t, file)
		rd, err := NewReader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			t.Fatal(err) // the header is never touched
		}
		got := readAll(t, rd)
		checkSubsequence(t, got, evs)
		lost := 0
		for _, d := range rd.Damage() {
			lost += d.Events
		}
		if rd.indexed && len(got)+lost != len(evs) {
			t.Fatalf("read %d events, %d lost, of %d; Damage() = %+v", len(got), lost, len(evs), rd.Damage())
		}
		if len(rd.Damage()) == 0 {
			checkPrefix(t, got, evs)
		}
	})
}
