package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

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

	chunks   []ChunkInfo // the events chunks believed good, in file order
	indexed  bool        // chunks came from the footer's index
	complete bool
	reason   string

	cbuf []byte
	ubuf []byte

	cur int // chunk whose events are in evs; -1 before the first
	evs []*tracepb.Event
	pos int
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
// killed writer, a truncated copy) is scanned chunk by chunk instead, up to
// the first damaged chunk. Open fails only when the header is unusable: for
// a damaged body it succeeds and Recovered says what was lost.
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
		r.indexed, r.complete = true, true
	} else {
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
	}
	r.chunks = chunks
	return nil
}

func chunkCRCOK(b []byte, want uint32) bool {
	crc := crc32.Checksum(b[:chunkCRCOffset], castagnoli)
	crc = crc32.Update(crc, castagnoli, b[chunkHeaderSize:])
	return crc == want
}

// scan walks the chunks of a file without a usable footer, keeping every
// events chunk whose header and CRC are good, up to the first bad one.
func (r *Reader) scan(footerErr error) {
	off := r.dataStart
	var nextSeq uint64
	var hb [chunkHeaderSize]byte
	for {
		if off == r.size {
			r.reason = "no footer: writer did not finish"
			return
		}
		if r.size-off < chunkHeaderSize {
			r.reason = fmt.Sprintf("truncated chunk at offset %d", off)
			return
		}
		if err := r.readAt(hb[:], off); err != nil {
			r.reason = fmt.Sprintf("read error at offset %d: %v", off, err)
			return
		}
		h, err := parseChunkHeader(hb[:])
		if err != nil {
			r.reason = fmt.Sprintf("bad chunk header at offset %d: %v", off, err)
			return
		}
		end := off + chunkHeaderSize + int64(h.clen)
		if end > r.size {
			r.reason = fmt.Sprintf("truncated chunk at offset %d", off)
			return
		}
		payload, err := r.readPayload(off, h)
		if err != nil {
			r.reason = fmt.Sprintf("read error at offset %d: %v", off, err)
			return
		}
		crc := crc32.Update(crc32.Checksum(hb[:chunkCRCOffset], castagnoli), castagnoli, payload)
		if crc != h.crc {
			r.reason = fmt.Sprintf("bad CRC in chunk at offset %d", off)
			return
		}
		switch h.typ {
		case ChunkEvents:
			if h.count == 0 || (len(r.chunks) > 0 && h.firstSeq < nextSeq) {
				r.reason = fmt.Sprintf("bad chunk header at offset %d: sequence out of order", off)
				return
			}
			r.chunks = append(r.chunks, ChunkInfo{Offset: off, FirstSeq: h.firstSeq, Count: h.count, MinTime: h.minTime, MaxTime: h.maxTime})
			nextSeq = h.firstSeq + uint64(h.count)
		case ChunkIndex:
			// The events end here; the footer was unusable.
			r.reason = fmt.Sprintf("damaged footer: %v", footerErr)
			return
		}
		off = end
	}
}

// readPayload reads the payload of the chunk at off into r.cbuf.
func (r *Reader) readPayload(off int64, h chunkHeader) ([]byte, error) {
	n := int(h.clen)
	if cap(r.cbuf) < n {
		r.cbuf = make([]byte, n)
	}
	b := r.cbuf[:n]
	return b, r.readAt(b, off+chunkHeaderSize)
}

// Header returns the trace's header message.
func (r *Reader) Header() *tracepb.TraceHeader { return r.hdr }

// Version returns the format version the file was written with.
func (r *Reader) Version() (major, minor int) { return int(r.major), int(r.minor) }

// Chunks returns the events chunks the reader knows to be readable (all of
// them for a complete file), in file order. The slice must not be changed.
func (r *Reader) Chunks() []ChunkInfo { return r.chunks }

// Recovered reports how many events the file holds in readable chunks,
// and, when the file is not complete (no valid footer, or a damaged chunk),
// why reading stops there. For a file without a footer the numbers are known
// from Open (which scans it); damage inside a chunk whose CRC is good is only
// found when the chunk is read, so the numbers are final once Next has
// returned io.EOF.
func (r *Reader) Recovered() (events int, reason string, complete bool) {
	n := 0
	for _, c := range r.chunks {
		n += int(c.Count)
	}
	return n, r.reason, r.complete
}

// Close closes the file opened by Open.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Next returns the next event in sequence order, or io.EOF after the last
// readable one. Each event returned is new and belongs to the caller. On a
// damaged file Next also ends with io.EOF at the first bad chunk; Recovered
// says why.
func (r *Reader) Next() (*tracepb.Event, error) {
	for r.pos >= len(r.evs) {
		if r.cur+1 >= len(r.chunks) {
			return nil, io.EOF
		}
		if err := r.load(r.cur + 1); err != nil {
			return nil, io.EOF
		}
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

// load decodes chunk i into r.evs. On failure the chunk and every later one
// are dropped, and the reason is recorded.
func (r *Reader) load(i int) error {
	evs, err := r.decodeChunk(r.chunks[i])
	if err != nil {
		r.chunks = r.chunks[:i]
		r.complete = false
		r.reason = err.Error()
		r.cur, r.evs, r.pos = i-1, nil, 0
		return r.corrupt("%s", err.Error())
	}
	r.cur, r.evs, r.pos = i, evs, 0
	return nil
}

func (r *Reader) decodeChunk(c ChunkInfo) ([]*tracepb.Event, error) {
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
	if off+chunkHeaderSize+int64(h.clen) > r.size {
		return nil, fmt.Errorf("truncated chunk at offset %d", off)
	}
	payload, err := r.readPayload(off, h)
	if err != nil {
		return nil, fmt.Errorf("read error at offset %d: %v", off, err)
	}
	if crc32.Update(crc32.Checksum(hb[:chunkCRCOffset], castagnoli), castagnoli, payload) != h.crc {
		return nil, fmt.Errorf("bad CRC in chunk at offset %d", off)
	}
	if cap(r.ubuf) < int(h.ulen) {
		r.ubuf = make([]byte, 0, h.ulen)
	}
	raw, err := decoder().DecodeAll(payload, r.ubuf[:0:h.ulen])
	if err != nil {
		return nil, fmt.Errorf("damaged chunk at offset %d: zstd: %v", off, err)
	}
	if len(raw) != int(h.ulen) {
		return nil, fmt.Errorf("damaged chunk at offset %d: %d bytes decompressed, header says %d", off, len(raw), h.ulen)
	}
	evs, err := decodeEvents(raw, h)
	if err != nil {
		return nil, fmt.Errorf("damaged chunk at offset %d: %v", off, err)
	}
	return evs, nil
}

// decodeEvents parses the delimited events of a chunk payload, checks them
// against the chunk header and restores delta-encoded registers.
func decodeEvents(raw []byte, h chunkHeader) ([]*tracepb.Event, error) {
	evs := make([]*tracepb.Event, 0, h.count)
	bases := make(map[int32][]byte)
	expect, prevTime := h.firstSeq, int64(0)
	for k := uint32(0); k < h.count; k++ {
		n, m := binary.Uvarint(raw)
		if m <= 0 || n > uint64(len(raw)-m) {
			return nil, fmt.Errorf("event %d: bad length", k)
		}
		ev := &tracepb.Event{}
		if err := proto.Unmarshal(raw[m:m+int(n)], ev); err != nil {
			return nil, fmt.Errorf("event %d: %v", k, err)
		}
		raw = raw[m+int(n):]
		// Undo the on-disk delta encoding (see trace.proto). Events of
		// kinds this reader does not know (a newer minor version) are
		// passed through as they are.
		var seq uint64
		var t int64
		switch kind := ev.GetKind().(type) {
		case *tracepb.Event_Syscall:
			sc := kind.Syscall
			sc.Seq += expect
			sc.EnterNs += prevTime
			sc.ExitNs = decodeExit(sc.ExitNs, sc.EnterNs)
			if err := restoreRegs(sc, bases); err != nil {
				return nil, fmt.Errorf("event %d: %v", k, err)
			}
			for _, m := range sc.Mem {
				m.Addr ^= argValue(sc.Regs, sc.Arch, m.Arg)
			}
			seq, t = sc.Seq, sc.EnterNs
		case *tracepb.Event_Process:
			p := kind.Process
			p.Seq += expect
			p.TimeNs += prevTime
			seq, t = p.Seq, p.TimeNs
		default:
			evs = append(evs, ev)
			continue
		}
		if seq < expect {
			return nil, fmt.Errorf("event %d: sequence number overflow", k)
		}
		if t < h.minTime || t > h.maxTime {
			return nil, fmt.Errorf("event %d: time %d outside the chunk's range", k, t)
		}
		expect, prevTime = seq+1, t
		evs = append(evs, ev)
	}
	if len(raw) != 0 {
		return nil, fmt.Errorf("%d bytes after the last event", len(raw))
	}
	return evs, nil
}

func restoreRegs(sc *tracepb.Syscall, bases map[int32][]byte) error {
	if len(sc.RegsDelta) > 0 {
		if len(sc.Regs) > 0 {
			return errors.New("both regs and regs_delta")
		}
		regs, err := applyRegsDelta(sc.RegsDelta, bases[sc.Tid])
		if err != nil {
			return err
		}
		sc.Regs, sc.RegsDelta = regs, nil
	}
	if len(sc.ExitRegsDelta) > 0 {
		if len(sc.ExitRegs) > 0 {
			return errors.New("both exit_regs and exit_regs_delta")
		}
		regs, err := applyRegsDelta(sc.ExitRegsDelta, sc.Regs)
		if err != nil {
			return err
		}
		sc.ExitRegs, sc.ExitRegsDelta = regs, nil
	}
	if len(sc.Regs) > 0 {
		bases[sc.Tid] = sc.Regs
	}
	return nil
}

// SeekSeq positions the reader so that Next returns the first event whose
// sequence number is at least seq (io.EOF if there is none). It uses the
// index, or the chunk list built by scanning a file without one, and
// decodes only the chunk it lands in. It fails only if that chunk is
// damaged.
func (r *Reader) SeekSeq(seq uint64) error {
	i := sort.Search(len(r.chunks), func(i int) bool { return r.chunks[i].FirstSeq > seq }) - 1
	return r.seek(max(i, 0), func(ev *tracepb.Event) bool {
		s, _, ok := eventKey(ev)
		return ok && s >= seq
	})
}

// SeekTime positions the reader so that Next returns the first event, in
// sequence order, whose time (Syscall.enter_ns or Process.time_ns) is at
// least ns (io.EOF if there is none).
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
		if err := r.load(i); err != nil {
			return err
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
