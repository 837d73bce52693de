package format

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// seedTrace returns a small real trace, with several chunks and every kind
// of event.
func seedTrace(t testing.TB) []byte {
	path := tracePath(t)
	writeTrace(t, path, genEvents(30, 37), WriterOptions{ChunkSize: 1 << 10})
	return mustRead(t, path)
}

// exercise reads everything a Reader offers, checking only invariants:
// the point is that nothing panics or allocates without bound.
func exercise(t *testing.T, data []byte) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if r != nil {
			t.Fatal("reader and error")
		}
		return
	}
	defer r.Close()
	n := 0
	var last uint64
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		if s, _, ok := eventKey(ev); ok {
			if n > 0 && s <= last {
				t.Fatalf("seq %d after %d", s, last)
			}
			last = s
		}
		n++
	}
	got, reason, complete := r.Recovered()
	if got != n || (reason == "") != complete {
		t.Fatalf("read %d, Recovered() = %d, %q, %v", n, got, reason, complete)
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
}

func FuzzOpen(f *testing.F) {
	data := seedTrace(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(data[:len(data)-trailerSize])
	f.Add([]byte("HERMTRC\x00"))
	f.Add([]byte{})
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
