package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/hermes-trace/hermes/format/tracepb"
)

// Reader reads a trace file: it streams events in order, seeks by sequence
// number or time, and recovers what it can from a partial or damaged file.
// A Reader is not safe for concurrent use.
type Reader struct {
	r      io.ReaderAt
	closer io.Closer
	name   string
	size   int64

	major, minor uint16
	hdr          *tracepb.TraceHeader
	dataStart    int64

	chunks  []ChunkInfo // the events chunks believed good when opened, in file order
	ends    []int64     // for each chunk, where its bytes must end: the next chunk's offset (or the index's) with an index, its end when scanned
	dropped []bool      // for each chunk, whether it turned out damaged (nil: none did)
	good    []ChunkInfo // the chunks not dropped, for Chunks (nil: not computed since the last drop)
	indexed bool        // chunks came from the footer's index
	tail    string      // why a file without a usable footer ends where it does
	damage  []Damage    // what was skipped
	sorted  bool        // damage is in file order
	work    int64       // bytes read and checked looking for a good chunk after damage
	sbuf    []byte      // for looking for a good chunk after damage

	cbuf []byte
	ubuf []byte
	// spent is what decoding chunks has allocated so far, as the reader
	// accounts for it (decompression buffers and the events' estimate):
	// the fuzz tests check the accounting against the allocator's.
	spent int64

	// streaming: see SetStreaming; names are the lineages it interned
	// (it and DecodeChunk).
	streaming bool
	names     map[string]string

	cur int // chunk whose events are in evs; -1 before the first
	evs []*tracepb.Event
	pos int
}

// Damage is a part of a trace file that a Reader skipped because it is
// damaged: bytes that are not a chunk, a chunk with a bad CRC, or a chunk
// whose events do not decode or are over the limits (MaxEventMems,
// MaxChunkMemory...). Reading resumes at the next good chunk.
type Damage struct {
	Offset, End int64 // the bytes skipped, [Offset, End)
	// Events is how many events were lost there: the count the index or
	// the chunk's own header gives when there is one, else the sequence
	// numbers missing between the readable chunks around it (sequence
	// numbers may have gaps, so at most that many), else 0.
	Events int
	Reason string
}

func (d Damage) String() string {
	return fmt.Sprintf("bytes %d-%d: %s", d.Offset, d.End, d.Reason)
}

// decoder is shared by all Readers: DecodeAll is safe for concurrent use,
// and a decoder is costly to set up. It refuses frames that would need more
// than MaxChunkPayload of memory, and never decodes past the capacity of
// the buffer it is given (the chunk's declared length).
var decoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(MaxChunkPayload),
		zstd.WithDecoderMaxWindow(MaxChunkPayload),
		zstd.WithDecodeAllCapLimit(true),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		panic(err) // only for invalid options
	}
	return d
})

// Open opens the trace at path. It reads and checks the header, then the
// footer's index; a file without a valid footer (a NAME.partial left by a
// killed writer, a truncated copy) is scanned chunk by chunk instead. A
// damaged chunk is skipped: reading resumes at the next good one (the next
// in the index, or found by its magic and CRC), and Damage says what was
// lost. Open fails only when the header is unusable.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, perr := os.Stat(path + ".partial"); perr == nil {
				return nil, fmt.Errorf("%w (a partial trace %s.partial exists)", err, path)
			}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open %s: is a directory", path)
	}
	r, err := newReader(f, fi.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a trace of size bytes from ra, as Open does for a file.
func NewReader(ra io.ReaderAt, size int64) (*Reader, error) {
	return newReader(ra, size, "trace")
}

func newReader(ra io.ReaderAt, size int64, name string) (*Reader, error) {
	r := &Reader{r: ra, name: name, size: size, cur: -1}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	footerErr := r.readFooter()
	if footerErr == nil {
		r.indexed = true
	} else {
		r.chunks, r.ends = nil, nil
		r.scan(footerErr)
	}
	return r, nil
}

func (r *Reader) corrupt(format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", r.name, ErrCorrupt, fmt.Sprintf(format, args...))
}

// readAt reads exactly len(b) bytes at off, which the caller has checked
// lie inside the file.
func (r *Reader) readAt(b []byte, off int64) error {
	n, err := r.r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (r *Reader) readHeader() error {
	if r.size == 0 {
		return fmt.Errorf("%s: %w: empty file", r.name, ErrNotTrace)
	}
	var fixed [fileHeaderFixed]byte
	n := int(min(r.size, fileHeaderFixed))
	if err := r.readAt(fixed[:n], 0); err != nil {
		return fmt.Errorf("%s: %v", r.name, err)
	}
	m := min(n, len(fileMagic))
	if string(fixed[:m]) != fileMagic[:m] {
		return fmt.Errorf("%s: %w", r.name, ErrNotTrace)
	}
	if n < fileHeaderFixed {
		return r.corrupt("truncated header (%d bytes)", n)
	}
	r.major = binary.LittleEndian.Uint16(fixed[8:])
	r.minor = binary.LittleEndian.Uint16(fixed[10:])
	if r.major > MajorVersion {
		return fmt.Errorf("%s: %w", r.name, &VersionError{Major: r.major, Minor: r.minor})
	}
	if r.major < 1 {
		return r.corrupt("unknown trace version %d.%d", r.major, r.minor)
	}
	hlen := int64(binary.LittleEndian.Uint32(fixed[12:]))
	if hlen > MaxHeaderMessage {
		return r.corrupt("header message length %d over the %d limit", hlen, MaxHeaderMessage)
	}
	total := fileHeaderFixed + hlen + 4
	if total > r.size {
		return r.corrupt("truncated header (%d of %d bytes)", r.size, total)
	}
	b := make([]byte, total)
	if err := r.readAt(b, 0); err != nil {
		return fmt.Errorf("%s: %v", r.name, err)
	}
	if crc32.Checksum(b[:total-4], castagnoli) != binary.LittleEndian.Uint32(b[total-4:]) {
		return r.corrupt("bad header CRC")
	}
	h := &tracepb.TraceHeader{}
	if err := proto.Unmarshal(b[fileHeaderFixed:total-4], h); err != nil {
		return r.corrupt("header message: %v", err)
	}
	r.hdr = h
	r.dataStart = total
	return nil
}

// readFooter loads the index. A non-nil error says why it could not.
func (r *Reader) readFooter() error {
	if r.size < r.dataStart+chunkHeaderSize+trailerSize {
		return errors.New("no trailer")
	}
	var t [trailerSize]byte
	if err := r.readAt(t[:], r.size-trailerSize); err != nil {
		return err
	}
	if string(t[12:]) != trailerMagic {
		return errors.New("no trailer")
	}
	ioff := int64(binary.LittleEndian.Uint64(t[0:]))
	ilen := int64(binary.LittleEndian.Uint32(t[8:]))
	if ioff < r.dataStart || ilen < chunkHeaderSize || ioff > r.size-trailerSize || ilen != r.size-trailerSize-ioff {
		return errors.New("trailer points outside the file")
	}
	if ilen-chunkHeaderSize > MaxChunkPayload {
		return errors.New("index too large")
	}
	b := make([]byte, ilen)
	if err := r.readAt(b, ioff); err != nil {
		return err
	}
	h, err := parseChunkHeader(b)
	if err != nil {
		return fmt.Errorf("index: %v", err)
	}
	if h.typ != ChunkIndex || int64(h.clen) != ilen-chunkHeaderSize || h.ulen != h.clen ||
		uint64(h.count)*indexEntrySize != uint64(h.clen) {
		return errors.New("index chunk header does not match the trailer")
	}
	if !chunkCRCOK(b, h.crc) {
		return errors.New("bad index CRC")
	}
	chunks := make([]ChunkInfo, h.count)
	ends := make([]int64, h.count)
	next := r.dataStart
	var nextSeq uint64
	for i := range chunks {
		c := getIndexEntry(b[chunkHeaderSize+i*indexEntrySize:])
		if c.Offset < next || c.Offset > ioff-chunkHeaderSize {
			return errors.New("index entry offset out of order")
		}
		if c.Count == 0 || c.MinTime > c.MaxTime || (i > 0 && c.FirstSeq < nextSeq) {
			return errors.New("index entry inconsistent")
		}
		next = c.Offset + chunkHeaderSize
		nextSeq = c.FirstSeq + uint64(c.Count)
		if nextSeq < c.FirstSeq {
			return errors.New("index entry sequence overflow")
		}
		chunks[i] = c
		if i > 0 {
			ends[i-1] = c.Offset
		}
	}
	if len(ends) > 0 {
		ends[len(ends)-1] = ioff
	}
	r.chunks, r.ends = chunks, ends
	return nil
}

func chunkCRCOK(b []byte, want uint32) bool {
	crc := crc32.Checksum(b[:chunkCRCOffset], castagnoli)
	crc = crc32.Update(crc, castagnoli, b[chunkHeaderSize:])
	return crc == want
}

// chunkState is what checkChunk found at an offset.
type chunkState int

const (
	chunkGood      chunkState = iota
	chunkTruncated            // the file ends inside it
	chunkBadHeader            // not a chunk header
	chunkBadCRC               // a whole chunk whose CRC is wrong
)

// checkChunk reads the chunk at off and checks its header and CRC. It
// returns the header, where the chunk ends (for a chunk whose payload was
// not read, where its header ends), and what is wrong with it with the
// reason.
func (r *Reader) checkChunk(off int64) (chunkHeader, int64, chunkState, string) {
	var hb [chunkHeaderSize]byte
	if r.size-off < chunkHeaderSize {
		return chunkHeader{}, r.size, chunkTruncated, fmt.Sprintf("truncated chunk at offset %d", off)
	}
	hend := off + chunkHeaderSize
	if err := r.readAt(hb[:], off); err != nil {
		return chunkHeader{}, hend, chunkTruncated, fmt.Sprintf("read error at offset %d: %v", off, err)
	}
	h, err := parseChunkHeader(hb[:])
	if err != nil {
		return h, hend, chunkBadHeader, fmt.Sprintf("bad chunk header at offset %d: %v", off, err)
	}
	end := hend + int64(h.clen)
	if end > r.size {
		return h, hend, chunkTruncated, fmt.Sprintf("truncated chunk at offset %d", off)
	}
	payload, err := r.readPayload(off, h)
	if err != nil {
		return h, end, chunkTruncated, fmt.Sprintf("read error at offset %d: %v", off, err)
	}
	if crc32.Update(crc32.Checksum(hb[:chunkCRCOffset], castagnoli), castagnoli, payload) != h.crc {
		return h, end, chunkBadCRC, fmt.Sprintf("bad CRC in chunk at offset %d", off)
	}
	return h, end, chunkGood, ""
}

// scan walks the chunks of a file without a usable footer, keeping every
// events chunk whose header and CRC are good. After damage it looks for
// the next good chunk and goes on from there. A file that ends inside a
// chunk, or with bytes that are not one, is partial (a killed writer, a
// truncated copy), not damaged: nothing readable follows.
func (r *Reader) scan(footerErr error) {
	off := r.dataStart
	var nextSeq uint64 // of the event after the last chunk kept
	for {
		if off >= r.size {
			r.tail = "no footer: writer did not finish"
			return
		}
		h, end, state, why := r.checkChunk(off)
		if state == chunkGood {
			switch {
			case h.typ == ChunkIndex:
				// The events end here; the footer was unusable.
				r.tail = fmt.Sprintf("damaged footer: %v", footerErr)
				return
			case h.typ != ChunkEvents:
				// A chunk type this reader does not know.
			case h.count == 0:
				r.addDamage(Damage{Offset: off, End: end, Reason: fmt.Sprintf("chunk at offset %d: no events", off)})
			case h.firstSeq+uint64(h.count) < h.firstSeq:
				r.addDamage(Damage{Offset: off, End: end, Events: int(h.count), Reason: fmt.Sprintf("chunk at offset %d: sequence number overflow", off)})
			case len(r.chunks) > 0 && h.firstSeq < nextSeq:
				r.addDamage(Damage{Offset: off, End: end, Events: int(h.count),
					Reason: fmt.Sprintf("chunk at offset %d: sequence number %d after %d", off, h.firstSeq, nextSeq-1)})
			default:
				r.chunks = append(r.chunks, ChunkInfo{Offset: off, FirstSeq: h.firstSeq, Count: h.count, MinTime: h.minTime, MaxTime: h.maxTime})
				r.ends = append(r.ends, end)
				nextSeq = h.firstSeq + uint64(h.count)
			}
			off = end
			continue
		}
		next, nh, gaveUp := r.resync(off + 1)
		if next < 0 {
			if state == chunkBadCRC || gaveUp {
				// A whole chunk is there but wrong: damage, not the
				// end of a writer that was killed.
				d := Damage{Offset: off, End: r.size, Reason: why}
				if state == chunkBadCRC && h.typ == ChunkEvents {
					d.Events = int(h.count)
				}
				if gaveUp {
					d.Reason += "; too much damage to look for more chunks"
				}
				r.addDamage(d)
				r.tail = "no footer: writer did not finish"
				return
			}
			r.tail = why
			return
		}
		d := Damage{Offset: off, End: next, Reason: why}
		switch {
		case state == chunkBadCRC && h.typ == ChunkEvents && end == next &&
			(len(r.chunks) == 0 || h.firstSeq >= nextSeq) &&
			(nh.typ != ChunkEvents || h.firstSeq+uint64(h.count) <= nh.firstSeq):
			// One chunk whose header agrees with its neighbours.
			d.Events = int(h.count)
		case len(r.chunks) > 0 && nh.typ == ChunkEvents && nh.firstSeq >= nextSeq:
			d.Events = int(min(nh.firstSeq-nextSeq, math.MaxInt32))
		}
		r.addDamage(d)
		off = next
	}
}

// resync returns the offset and header of the first good chunk (its magic,
// a sane header and a right CRC) at or after from, or -1. The bytes it may
// read and check are bounded by the size of the file: past that it gives
// up (a file made of fake chunk headers would take forever).
func (r *Reader) resync(from int64) (int64, chunkHeader, bool) {
	budget := 4*r.size + MaxChunkPayload
	if r.sbuf == nil {
		r.sbuf = make([]byte, min(64<<10, r.size))
	}
	for pos := from; r.size-pos >= chunkHeaderSize; {
		b := r.sbuf[:min(int64(len(r.sbuf)), r.size-pos)]
		if err := r.readAt(b, pos); err != nil {
			return -1, chunkHeader{}, false
		}
		r.work += int64(len(b))
		for i := 0; ; i++ {
			j := bytes.Index(b[i:], []byte(chunkMagic))
			if j < 0 {
				break
			}
			i += j
			at := pos + int64(i)
			if r.work > budget {
				return -1, chunkHeader{}, true
			}
			h, end, state, _ := r.checkChunk(at)
			r.work += end - at
			if state == chunkGood {
				return at, h, false
			}
		}
		if pos+int64(len(b)) >= r.size {
			break
		}
		pos += int64(len(b) - (len(chunkMagic) - 1))
	}
	return -1, chunkHeader{}, false
}

// maxKeptBuf is the largest buffer a Reader keeps for the next chunk.
const maxKeptBuf = 16 << 20

// readPayload reads the payload of the chunk at off into r.cbuf (or into a
// buffer of its own, for a payload too large to keep).
func (r *Reader) readPayload(off int64, h chunkHeader) ([]byte, error) {
	n := int(h.clen)
	var b []byte
	switch {
	case cap(r.cbuf) >= n:
		b = r.cbuf[:n]
	case n > maxKeptBuf:
		b = make([]byte, n)
	default:
		r.cbuf = make([]byte, n)
		b = r.cbuf
	}
	return b, r.readAt(b, off+chunkHeaderSize)
}

// Header returns the trace's header message.
func (r *Reader) Header() *tracepb.TraceHeader { return r.hdr }

// Version returns the format version the file was written with.
func (r *Reader) Version() (major, minor int) { return int(r.major), int(r.minor) }

// Chunks returns the events chunks the reader knows to be readable (all of
// them for a complete file), in file order. The slice must not be changed.
func (r *Reader) Chunks() []ChunkInfo {
	if r.dropped == nil {
		return r.chunks
	}
	if r.good == nil {
		r.good = make([]ChunkInfo, 0, len(r.chunks))
		for i, c := range r.chunks {
			if !r.dropped[i] {
				r.good = append(r.good, c)
			}
		}
	}
	return r.good
}

// Recovered reports how many events the file holds in readable chunks,
// whether it is complete (a valid footer, and no damage), and, when it is
// not, why: the damage skipped (see Damage) and why a file without a
// footer ends where it does, in one line. For a file without a footer the
// numbers are known from Open (which scans it); damage inside a chunk whose
// CRC is good is only found when the chunk is read, so the numbers are
// final once Next has returned io.EOF.
func (r *Reader) Recovered() (events int, reason string, complete bool) {
	n := 0
	for _, c := range r.Chunks() {
		n += int(c.Count)
	}
	var parts []string
	if len(r.damage) > 0 {
		r.sortDamage()
		lost := 0
		for _, d := range r.damage {
			lost += d.Events
		}
		what := fmt.Sprintf("skipped %d damaged part", len(r.damage))
		if len(r.damage) > 1 {
			what += "s"
		}
		what += fmt.Sprintf(", %d events lost: ", lost)
		for i, d := range r.damage {
			if i == 3 {
				what += fmt.Sprintf(", and %d more", len(r.damage)-i)
				break
			}
			if i > 0 {
				what += ", "
			}
			what += d.String()
		}
		parts = append(parts, what)
	}
	if r.tail != "" {
		parts = append(parts, r.tail)
	}
	return n, strings.Join(parts, "; "), r.indexed && len(r.damage) == 0
}

// Damage returns the damaged parts of the file the Reader skipped, in file
// order: events inside the file were lost, and a program reading the trace
// should say so and fail. A file that merely ends early (a writer that was
// killed) has no damage: Recovered says it is partial. Like Recovered, it
// is final once Next has returned io.EOF. The slice must not be changed.
func (r *Reader) Damage() []Damage {
	r.sortDamage()
	return r.damage
}

func (r *Reader) sortDamage() {
	if !r.sorted {
		sort.SliceStable(r.damage, func(a, b int) bool { return r.damage[a].Offset < r.damage[b].Offset })
		r.sorted = true
	}
}

// addDamage records a damaged part of the file.
func (r *Reader) addDamage(d Damage) {
	if n := len(r.damage); n > 0 && r.damage[n-1].Offset > d.Offset {
		r.sorted = false
	}
	r.damage = append(r.damage, d)
}

// Close closes the file opened by Open.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Next returns the next event in sequence order, or io.EOF after the last
// readable one. Each event returned is new and belongs to the caller. A
// damaged chunk is skipped, and Damage says what was lost.
func (r *Reader) Next() (*tracepb.Event, error) {
	for r.pos >= len(r.evs) {
		if r.cur+1 >= len(r.chunks) {
			return nil, io.EOF
		}
		r.load(r.cur + 1) // a damaged chunk loads as no events
	}
	ev := r.evs[r.pos]
	r.evs[r.pos] = nil
	r.pos++
	return ev, nil
}

// ReadFile reads every readable event of the trace at path into memory,
// for tests and tools on traces that fit there. complete is Recovered's:
// false for a partial or damaged trace, whose readable events are returned.
func ReadFile(path string) (hdr *tracepb.TraceHeader, evs []*tracepb.Event, complete bool, err error) {
	r, err := Open(path)
	if err != nil {
		return nil, nil, false, err
	}
	defer r.Close()
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, false, err
		}
		evs = append(evs, ev)
	}
	_, _, complete = r.Recovered()
	return r.Header(), evs, complete, nil
}

// load decodes chunk i into r.evs. A damaged chunk is dropped (its
// damage recorded the first time), and loads as no events.
func (r *Reader) load(i int) error {
	if r.dropped != nil && r.dropped[i] {
		r.cur, r.evs, r.pos = i, nil, 0
		return r.corrupt("damaged chunk at offset %d", r.chunks[i].Offset)
	}
	var sm *streamMem
	if r.streaming {
		sm = &streamMem{} // the caller owns the events: memory of their own
	}
	evs, err := r.decodeChunk(r.chunks[i], r.ends[i], sm, nil)
	if err != nil {
		r.drop(i, err)
		r.cur, r.evs, r.pos = i, nil, 0
		return r.corrupt("%s", err.Error())
	}
	r.cur, r.evs, r.pos = i, evs, 0
	return nil
}

// drop records that chunk i is damaged (err says how).
func (r *Reader) drop(i int, err error) {
	c := r.chunks[i]
	r.addDamage(Damage{Offset: c.Offset, End: r.ends[i], Events: int(c.Count), Reason: err.Error()})
	if r.dropped == nil {
		r.dropped = make([]bool, len(r.chunks))
	}
	r.dropped[i], r.good = true, nil
}

// decodeChunk reads, checks and decodes the events chunk c, whose bytes
// must end by end, appending them to dst: with sm, streaming, into sm's
// memory (see SetStreaming).
func (r *Reader) decodeChunk(c ChunkInfo, end int64, sm *streamMem, dst []*tracepb.Event) ([]*tracepb.Event, error) {
	off := c.Offset
	if off < r.dataStart || off > r.size-chunkHeaderSize {
		return nil, fmt.Errorf("truncated chunk at offset %d", off)
	}
	var hb [chunkHeaderSize]byte
	if err := r.readAt(hb[:], off); err != nil {
		return nil, fmt.Errorf("read error at offset %d: %v", off, err)
	}
	h, err := parseChunkHeader(hb[:])
	if err != nil {
		return nil, fmt.Errorf("bad chunk header at offset %d: %v", off, err)
	}
	if h.typ != ChunkEvents || h.firstSeq != c.FirstSeq || h.count != c.Count || h.minTime != c.MinTime || h.maxTime != c.MaxTime {
		return nil, fmt.Errorf("bad chunk header at offset %d: does not match the index", off)
	}
	if off+chunkHeaderSize+int64(h.clen) > min(r.size, end) {
		return nil, fmt.Errorf("bad chunk header at offset %d: its length runs past the next chunk", off)
	}
	payload, err := r.readPayload(off, h)
	if err != nil {
		return nil, fmt.Errorf("read error at offset %d: %v", off, err)
	}
	if crc32.Update(crc32.Checksum(hb[:chunkCRCOffset], castagnoli), castagnoli, payload) != h.crc {
		return nil, fmt.Errorf("bad CRC in chunk at offset %d", off)
	}
	// The size the header gives must be the one the frame declares (the
	// writer's frames do, but for under 256 bytes), and no more than the
	// payload can hold (a zstd block of at least 4 bytes decodes to at most
	// 128 KiB), before the room for it is allocated. The decoder never
	// writes past that room.
	var zh zstd.Header
	if err := zh.Decode(payload); err != nil {
		return nil, fmt.Errorf("damaged chunk at offset %d: zstd: %v", off, err)
	}
	if zh.HasFCS && zh.FrameContentSize != uint64(h.ulen) {
		return nil, fmt.Errorf("damaged chunk at offset %d: zstd frame of %d bytes, header says %d", off, zh.FrameContentSize, h.ulen)
	}
	if uint64(h.ulen) > uint64(h.clen)*maxZstdRatio {
		return nil, fmt.Errorf("damaged chunk at offset %d: %d bytes of zstd cannot decompress to %d", off, h.clen, h.ulen)
	}
	ubuf := r.ubuf
	if sm != nil {
		// The events share it: sm's.
		if cap(sm.raw) < int(h.ulen) {
			sm.raw = make([]byte, 0, h.ulen)
			r.spent += int64(h.ulen)
		}
		ubuf = sm.raw
	} else if cap(ubuf) < int(h.ulen) {
		ubuf = make([]byte, 0, h.ulen)
		r.spent += int64(h.ulen)
		if h.ulen <= maxKeptBuf {
			r.ubuf = ubuf
		}
	}
	raw, err := decoder().DecodeAll(payload, ubuf[:0:h.ulen])
	if err != nil {
		return nil, fmt.Errorf("damaged chunk at offset %d: zstd: %v", off, err)
	}
	if len(raw) != int(h.ulen) {
		return nil, fmt.Errorf("damaged chunk at offset %d: %d bytes decompressed, header says %d", off, len(raw), h.ulen)
	}
	var evs []*tracepb.Event
	var used int64
	if sm != nil {
		if r.names == nil {
			r.names = make(map[string]string)
		}
		var st streamStats
		evs, st, err = streamEvents(raw, h, r.names, sm, dst)
		used = st.used + st.scratch
	} else {
		evs, used, err = decodeEvents(raw, h)
	}
	r.spent += used
	if err != nil {
		return nil, fmt.Errorf("damaged chunk at offset %d: %v", off, err)
	}
	return evs, nil
}

// maxZstdRatio is the most a zstd frame can expand: a block of 4 bytes (an
// RLE block) decodes to at most 128 KiB.
const maxZstdRatio = (128 << 10) / 4

// decodeEvents parses the delimited events of a chunk payload, checks them
// against the chunk header and restores delta-encoded registers. Before it
// unmarshals anything it checks the events against the limits (MaxEventSize,
// MaxEventMems and the other entry limits, MaxChunkMemory), so that a
// hostile payload is refused at the cost of reading it once.
//
// It also returns the memory it estimated the events take (what MaxChunkMemory
// bounds), as far as it went.
func decodeEvents(raw []byte, h chunkHeader) (_ []*tracepb.Event, used int64, _ error) {
	used, err := estimateEvents(raw, h.count)
	if err != nil {
		return nil, 0, err
	}
	d := newEventDecoder(h, used)
	evs := make([]*tracepb.Event, 0, h.count)
	for k := uint32(0); k < h.count; k++ {
		b, rest, err := nextEvent(raw, k)
		if err != nil {
			return nil, d.used, err
		}
		raw = rest
		ev, err := d.unmarshal(b, k)
		if err != nil {
			return nil, d.used, err
		}
		evs = append(evs, ev)
	}
	if len(raw) != 0 {
		return nil, d.used, errTrailing(len(raw))
	}
	return evs, d.used, nil
}

// errTrailing is the error for n bytes after the last event of a chunk.
func errTrailing(n int) error { return fmt.Errorf("%d bytes after the last event", n) }

// nextEvent splits the delimited event k off the front of raw.
func nextEvent(raw []byte, k uint32) (ev, rest []byte, _ error) {
	n, m := binary.Uvarint(raw)
	if m <= 0 || n > uint64(len(raw)-m) {
		return nil, nil, fmt.Errorf("event %d: bad length", k)
	}
	return raw[m : m+int(n)], raw[m+int(n):], nil
}

// eventDecoder is the state of decoding the events of one chunk, in order.
type eventDecoder struct {
	h        chunkHeader
	bases    threadRegs // each thread's latest entry registers
	expect   uint64     // the least sequence number the next event may have
	prevTime int64
	used     int64 // the memory estimate (see estimateEvents) plus restored registers
}

func newEventDecoder(h chunkHeader, used int64) *eventDecoder {
	return &eventDecoder{h: h, bases: threadRegs{m: make(map[int32][]byte)}, expect: h.firstSeq, used: used}
}

// unmarshal decodes event k (its bytes b) with proto.Unmarshal and undoes
// the on-disk delta encoding (see trace.proto). Events of kinds this
// reader does not know (a newer minor version) are passed through as they
// are.
func (d *eventDecoder) unmarshal(b []byte, k uint32) (*tracepb.Event, error) {
	ev := &tracepb.Event{}
	if err := proto.Unmarshal(b, ev); err != nil {
		return nil, fmt.Errorf("event %d: %v", k, err)
	}
	switch kind := ev.GetKind().(type) {
	case *tracepb.Event_Syscall:
		sc := kind.Syscall
		sc.Seq += d.expect
		sc.EnterNs += d.prevTime
		sc.ExitNs = decodeExit(sc.ExitNs, sc.EnterNs)
		if err := restoreRegs(sc, &d.bases, &d.used); err != nil {
			return nil, fmt.Errorf("event %d: %v", k, err)
		}
		for _, m := range sc.Mem {
			m.Addr ^= argValue(sc.Regs, sc.Arch, m.Arg)
		}
		return ev, d.order(k, sc.Seq, sc.EnterNs)
	case *tracepb.Event_Process:
		p := kind.Process
		p.Seq += d.expect
		p.TimeNs += d.prevTime
		return ev, d.order(k, p.Seq, p.TimeNs)
	}
	return ev, nil
}

// order checks the sequence number and time of event k against the
// events before it and the chunk header, and advances past it.
func (d *eventDecoder) order(k uint32, seq uint64, t int64) error {
	if seq < d.expect {
		return fmt.Errorf("event %d: sequence number overflow", k)
	}
	if t < d.h.minTime || t > d.h.maxTime {
		return fmt.Errorf("event %d: time %d outside the chunk's range", k, t)
	}
	d.expect, d.prevTime = seq+1, t
	return nil
}

// memoryError is the error for a chunk over MaxChunkMemory.
func memoryError(used int64) error {
	return fmt.Errorf("its events would take over %d MiB of memory (the limit is %d MiB)", used>>20, MaxChunkMemory>>20)
}

// estimateEvents walks the count delimited events of raw with protowire
// and returns an estimate of the memory they take once unmarshaled (and
// the slice holding them), or an error if an event is malformed or over a
// limit, or if they would take more than MaxChunkMemory.
func estimateEvents(raw []byte, count uint32) (int64, error) {
	ec := eventCost()
	counts := make([]int, ec.lists)
	used := int64(count) * 8
	for k := uint32(0); k < count; k++ {
		n, m := binary.Uvarint(raw)
		if m <= 0 || n > uint64(len(raw)-m) {
			return 0, fmt.Errorf("event %d: bad length", k)
		}
		if n > MaxEventSize {
			return 0, fmt.Errorf("event %d: %d bytes, over the %d limit", k, n, MaxEventSize)
		}
		c, err := ec.estimate(raw[m:m+int(n)], counts)
		if err != nil {
			return 0, fmt.Errorf("event %d: %v", k, err)
		}
		if used += c; used > MaxChunkMemory {
			return 0, memoryError(used)
		}
		raw = raw[m+int(n):]
	}
	return used, nil
}

// estimate returns the memory one event (its bytes b) takes once
// unmarshaled, or an error if it is malformed or over an entry limit.
// counts is scratch, ec.lists long.
func (ec *schemaCost) estimate(b []byte, counts []int) (int64, error) {
	clear(counts)
	used := ec.event.size
	if err := ec.event.walk(b, counts, 0, &used); err != nil {
		return 0, err
	}
	for i, c := range counts {
		if c > 0 {
			used += sliceCost(c, ec.slot[i])
		}
	}
	return used, nil
}

// msgCost is what the estimate knows of a message type: what allocating
// one costs, and its fields.
type msgCost struct {
	size   int64
	fields map[protowire.Number]*fieldCost
}

// fieldCost is what the estimate knows of a field.
type fieldCost struct {
	name  string // Message.field, for errors
	kind  protoreflect.Kind
	list  bool // repeated (or a map)
	list0 int  // index of its entry count, for lists
	limit int  // entries allowed in one event, for lists
	oneof bool // a oneof member: Unmarshal allocates a wrapper too
	msg   *msgCost
}

// Entry limits of particular repeated fields (all others have
// MaxRepeatedEntries).
var entryLimits = map[protoreflect.FullName]int{
	"hermes.trace.v1.Syscall.mem":     MaxEventMems,
	"hermes.trace.v1.Injected.writes": MaxInjectedWrites,
	"hermes.trace.v1.Injected.args":   MaxInjectedArgs,
}

// maxNesting bounds the depth of messages walked (the schema's is 4).
const maxNesting = 32

// schemaCost is what the estimate knows of tracepb.Event.
type schemaCost struct {
	event *msgCost
	lists int   // repeated fields in all the message types an event may hold
	slot  []int // for each, the size of an entry in its slice
}

// eventCost returns the schemaCost of tracepb.Event, built from the
// descriptors of the generated code, so that fields added to the schema
// are accounted for (and their entries limited) without changing this.
var eventCost = sync.OnceValue(func() *schemaCost {
	sc := &schemaCost{}
	sc.event = sc.costOf((*tracepb.Event)(nil).ProtoReflect().Descriptor(), map[protoreflect.FullName]*msgCost{})
	return sc
})

func (sc *schemaCost) costOf(md protoreflect.MessageDescriptor, done map[protoreflect.FullName]*msgCost) *msgCost {
	if mc := done[md.FullName()]; mc != nil {
		return mc
	}
	mc := &msgCost{size: 256, fields: map[protowire.Number]*fieldCost{}}
	done[md.FullName()] = mc // before the fields: a message may contain itself
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
		if t := reflect.TypeOf(mt.Zero().Interface()); t.Kind() == reflect.Pointer {
			mc.size = allocCost(int(t.Elem().Size()))
		}
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		f := &fieldCost{name: string(md.Name()) + "." + string(fd.Name()), kind: fd.Kind(), list: fd.IsList() || fd.IsMap(),
			oneof: fd.ContainingOneof() != nil && !fd.ContainingOneof().IsSynthetic()}
		if f.list {
			f.list0 = sc.lists
			sc.lists++
			switch fd.Kind() {
			case protoreflect.BytesKind:
				sc.slot = append(sc.slot, 24)
			case protoreflect.StringKind:
				sc.slot = append(sc.slot, 16)
			default:
				sc.slot = append(sc.slot, 8) // a pointer, or at most 8 bytes of scalar
			}
			f.limit = MaxRepeatedEntries
			if l, ok := entryLimits[fd.FullName()]; ok {
				f.limit = l
			}
		}
		if fd.Message() != nil {
			f.msg = sc.costOf(fd.Message(), done)
		}
		mc.fields[fd.Number()] = f
	}
	return mc
}

// allocCost is what allocating n bytes costs, with the rounding up of the
// allocator's size classes (at most 1/8 above 256 bytes, to the page above
// 32 KiB).
func allocCost(n int) int64 {
	switch {
	case n <= 0:
		return 0
	case n <= 256:
		return int64(n+15) &^ 15
	case n <= 32<<10:
		return int64(n+n/8+15) &^ 15
	}
	return int64(n+8191) &^ 8191
}

// sliceCost is what appending n entries of size bytes one by one costs:
// the final slice and the smaller ones left behind. append doubles a small
// slice (the ones before add up to its size) and grows a large one by a
// quarter (they add up to four times its size, and each is rounded up).
func sliceCost(n, size int) int64 {
	if n < 256 {
		return 2 * allocCost(n*size)
	}
	return 6 * allocCost(n*size)
}

// accepts reports whether proto.Unmarshal decodes a field of f's kind from
// wire type typ; on any other it keeps the field as unknown bytes.
func (f *fieldCost) accepts(typ protowire.Type) bool {
	switch f.kind {
	case protoreflect.MessageKind, protoreflect.StringKind, protoreflect.BytesKind:
		return typ == protowire.BytesType
	case protoreflect.GroupKind:
		return false
	}
	if f.list && typ == protowire.BytesType {
		return true // packed
	}
	switch f.kind {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return typ == protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return typ == protowire.Fixed64Type
	}
	return typ == protowire.VarintType
}

// walk adds to *used the memory that unmarshaling b, the wire bytes of a
// message of type mc, allocates besides the message itself, and counts
// into counts the entries of each repeated field (per event: the
// occurrences of a singular message field are merged into one).
func (mc *msgCost) walk(b []byte, counts []int, depth int, used *int64) error {
	if depth > maxNesting {
		return errors.New("messages nested too deep")
	}
	unknown := 0
	defer func() { *used += sliceCost(unknown, 1) }()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		val := b[n : n+m]
		b = b[n+m:]
		f := mc.fields[num]
		if f == nil || !f.accepts(typ) {
			// Kept as unknown fields, appended to a growing slice.
			unknown += n + m
			continue
		}
		entries := 1
		if typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(val)
			val = v
			if f.list && f.msg == nil && f.kind != protoreflect.StringKind && f.kind != protoreflect.BytesKind {
				entries = packedLen(f.kind, val)
			}
		}
		if f.list {
			counts[f.list0] += entries
			if c := counts[f.list0]; c > f.limit {
				return fmt.Errorf("%d %s entries, over the %d limit", c, f.name, f.limit)
			}
		}
		switch {
		case f.msg != nil:
			*used += f.msg.size
			if f.oneof {
				*used += 16
			}
			if err := f.msg.walk(val, counts, depth+1, used); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		case f.kind == protoreflect.StringKind || f.kind == protoreflect.BytesKind:
			*used += allocCost(len(val))
		}
	}
	return nil
}

// packedLen returns the number of values in a packed repeated field.
func packedLen(kind protoreflect.Kind, b []byte) int {
	switch kind {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return len(b) / 4
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return len(b) / 8
	}
	n := 0
	for _, c := range b {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// restoreRegs replaces sc's register deltas with the registers, adding
// what they take to *used, which must stay under MaxChunkMemory.
func restoreRegs(sc *tracepb.Syscall, bases *threadRegs, used *int64) error {
	if len(sc.RegsDelta) > 0 {
		if len(sc.Regs) > 0 {
			return errors.New("both regs and regs_delta")
		}
		base := bases.get(sc.Tid)
		if *used += allocCost(len(base)); *used > MaxChunkMemory {
			return memoryError(*used)
		}
		regs, err := applyRegsDelta(sc.RegsDelta, base)
		if err != nil {
			return err
		}
		sc.Regs, sc.RegsDelta = regs, nil
	}
	if len(sc.ExitRegsDelta) > 0 {
		if len(sc.ExitRegs) > 0 {
			return errors.New("both exit_regs and exit_regs_delta")
		}
		if *used += allocCost(len(sc.Regs)); *used > MaxChunkMemory {
			return memoryError(*used)
		}
		regs, err := applyRegsDelta(sc.ExitRegsDelta, sc.Regs)
		if err != nil {
			return err
		}
		sc.ExitRegs, sc.ExitRegsDelta = regs, nil
	}
	if len(sc.Regs) > 0 {
		bases.set(sc.Tid, sc.Regs)
	}
	return nil
}

// threadRegs maps a thread to its latest entry registers. The latest set
// is kept out of the map until another thread's are, so that a run of
// calls of one thread costs no map operations.
type threadRegs struct {
	m    map[int32][]byte
	tid  int32
	regs []byte
	has  bool // tid and regs are set, and not in m
}

func (t *threadRegs) get(tid int32) []byte {
	if t.has && t.tid == tid {
		return t.regs
	}
	return t.m[tid]
}

func (t *threadRegs) set(tid int32, regs []byte) {
	if t.has && t.tid != tid {
		t.m[t.tid] = t.regs
	}
	t.tid, t.regs, t.has = tid, regs, true
}

// SeekSeq positions the reader so that Next returns the first event whose
// sequence number is at least seq (io.EOF if there is none). It uses the
// index, or the chunk list built by scanning a file without one, and
// decodes only the chunk it lands in. A damaged chunk there is skipped
// (see Damage), as Next skips it: the error is always nil.
func (r *Reader) SeekSeq(seq uint64) error {
	i := sort.Search(len(r.chunks), func(i int) bool { return r.chunks[i].FirstSeq > seq }) - 1
	return r.seek(max(i, 0), func(ev *tracepb.Event) bool {
		s, _, ok := eventKey(ev)
		return ok && s >= seq
	})
}

// SeekTime positions the reader so that Next returns the first event, in
// sequence order, whose time (Syscall.enter_ns or Process.time_ns) is at
// least ns (io.EOF if there is none). Damaged chunks are skipped as by
// SeekSeq.
func (r *Reader) SeekTime(ns int64) error {
	i := 0
	for i < len(r.chunks) && r.chunks[i].MaxTime < ns {
		i++
	}
	return r.seek(i, func(ev *tracepb.Event) bool {
		_, t, ok := eventKey(ev)
		return ok && t >= ns
	})
}

func (r *Reader) seek(i int, match func(*tracepb.Event) bool) error {
	for ; i < len(r.chunks); i++ {
		if r.load(i) != nil {
			continue // damaged: skipped
		}
		for j, ev := range r.evs {
			if match(ev) {
				r.pos = j
				return nil
			}
		}
	}
	// past the end
	r.cur, r.evs, r.pos = len(r.chunks)-1, nil, 0
	return nil
}
