package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/hermes-trace/hermes/format/tracepb"
)

// Defaults and limits of WriterOptions.
const (
	DefaultChunkSize     = 1 << 20
	DefaultFlushInterval = 250 * time.Millisecond
	DefaultMaxInFlight   = 4

	maxChunkSize = 16 << 20
	// MaxEventSize is the largest marshaled event Append accepts.
	MaxEventSize = 32 << 20
	// a chunk is cut before an event that would take it past this
	maxChunkFill = 48 << 20
)

// ErrClosed is returned by Writer methods after Close.
var ErrClosed = errors.New("trace writer closed")

// WriterOptions tune a Writer. The zero value gives the defaults.
type WriterOptions struct {
	// ChunkSize is the uncompressed size at which a chunk is cut.
	// Default 1 MiB; at most 16 MiB.
	ChunkSize int
	// FlushInterval is how often a non-empty open chunk is cut and handed
	// to the writer, so a killed writer loses at most about that much.
	// Default 250 ms; negative disables cutting on time.
	FlushInterval time.Duration
	// MaxInFlight is how many cut chunks may wait for compression or the
	// disk before Append blocks. Default 4.
	MaxInFlight int
	// FullRegs stores every register snapshot in full instead of as a
	// delta against the thread's previous snapshot.
	FullRegs bool
	// Sync makes Close fsync the file and its directory, so that the trace
	// survives a crash of the machine, not only of the writer (a killed
	// writer loses nothing the kernel was handed). It costs milliseconds.
	// It has no effect on a Writer from NewWriter.
	Sync bool
}

// WriterStats are running totals of a Writer. They may be read from any
// goroutine while the writer runs.
type WriterStats struct {
	Events   int64 // events appended
	Chunks   int64 // events chunks written to the file
	RawBytes int64 // uncompressed event bytes in the written chunks
	Bytes    int64 // bytes written to the file, header included
}

// job is one chunk on its way through the pipeline.
type job struct {
	raw []byte // delimited events
	buf []byte // chunk header + compressed payload
	hdr chunkHeader
}

type regBase struct {
	gen  uint64
	regs []byte
}

// Writer writes a trace file. Append, Flush and Close must be called from
// one goroutine at a time (the tracer's); Stats may be called from any.
type Writer struct {
	path, partial string
	name          string    // for error messages: the partial file, or "stream"
	out           io.Writer // where chunks go: f, or the stream of NewWriter
	f             *os.File  // the partial file; nil for a stream
	opts          WriterOptions

	// guarded by mu: the open chunk and Append's state. The ticker
	// goroutine takes mu to cut.
	mu        sync.Mutex
	cur       *job
	closed    bool
	scratch   []byte
	delta     []byte
	exitDelta []byte
	bases     map[int32]*regBase
	gen       uint64 // bumped at every cut: bases of older gens are void
	lastSeq   uint64
	haveSeq   bool
	prevTime  int64 // time of the last event appended
	submitted int64

	free    chan *job
	compCh  chan *job
	writeCh chan *job
	enc     *zstd.Encoder

	// owned by the writer goroutine until pipeDone is closed
	off   int64
	index []ChunkInfo

	wmu     sync.Mutex
	wcond   *sync.Cond
	written int64
	werr    error
	failed  atomic.Bool

	stopTick chan struct{}
	tickDone chan struct{}
	pipeDone chan struct{}

	nEvents, nChunks, nRaw, nBytes atomic.Int64
}

// ErrNotRegular is returned (wrapped) by Create when path exists and is
// not a regular file: a symbolic link, a device, a FIFO or a socket. Create
// never replaces, follows or writes into such a file; write a trace to a
// pipe or a device with NewWriter.
var ErrNotRegular = errors.New("not a regular file")

// Create starts a trace file at path: it writes path+".partial" now and
// renames it to path when Close succeeds. h is stored in the file header.
//
// The file is the user's alone (mode 0600: a trace holds the environment
// and whatever the program read) and Create damages nothing that is not
// the caller's:
//   - path must be absent or a regular file owned by the effective user;
//     anything else (a symbolic link, a device, a FIFO, another user's
//     file) is refused with ErrNotRegular or an ownership error, and is
//     checked again before the rename at Close;
//   - the partial file is created new (O_EXCL|O_NOFOLLOW), never opened
//     through a symbolic link or truncated in place. A partial file already
//     there is removed first when it is a regular file of the effective
//     user (one left by a killed writer), and refused otherwise.
func Create(path string, h *tracepb.TraceHeader, opts WriterOptions) (*Writer, error) {
	if err := checkTarget(path); err != nil {
		return nil, fmt.Errorf("create trace %s: %w", path, err)
	}
	head, err := prepare(&opts, h)
	if err != nil {
		return nil, fmt.Errorf("create trace %s: %w", path, err)
	}
	partial := path + ".partial"
	f, err := createPartial(partial)
	if err != nil {
		return nil, fmt.Errorf("create trace: %w", err)
	}
	if _, err := f.Write(head); err != nil {
		f.Close()
		os.Remove(partial)
		return nil, fmt.Errorf("create trace: %w", err)
	}
	w, err := start(f, f, head, opts)
	if err != nil {
		f.Close()
		os.Remove(partial)
		return nil, fmt.Errorf("create trace %s: %w", path, err)
	}
	w.path, w.partial, w.name = path, partial, partial
	return w, nil
}

// NewWriter starts a trace written through out as a stream: a pipe, a
// character device, standard output. The trace is the same chain of chunks
// as a file, written in order and never sought back: Close writes the
// index and the trailer at the end (offsets count from the first byte
// written to out) and does not close out. A reader that sees the whole
// stream (spooled to a file) reads it as a complete trace; one that sees
// part of it recovers the chunks it holds.
func NewWriter(out io.Writer, h *tracepb.TraceHeader, opts WriterOptions) (*Writer, error) {
	head, err := prepare(&opts, h)
	if err != nil {
		return nil, fmt.Errorf("start trace stream: %w", err)
	}
	if _, err := out.Write(head); err != nil {
		return nil, fmt.Errorf("write trace stream: %w", err)
	}
	w, err := start(out, nil, head, opts)
	if err != nil {
		return nil, fmt.Errorf("start trace stream: %w", err)
	}
	w.name = "stream"
	return w, nil
}

// prepare fills in the defaults of opts and returns the file header for h.
func prepare(opts *WriterOptions, h *tracepb.TraceHeader) ([]byte, error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.ChunkSize > maxChunkSize {
		opts.ChunkSize = maxChunkSize
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if h == nil {
		h = &tracepb.TraceHeader{}
	}
	hb, err := proto.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if len(hb) > MaxHeaderMessage {
		return nil, fmt.Errorf("header message is %d bytes, over the %d limit", len(hb), MaxHeaderMessage)
	}
	head := make([]byte, 0, fileHeaderFixed+len(hb)+4)
	head = append(head, fileMagic...)
	head = binary.LittleEndian.AppendUint16(head, MajorVersion)
	head = binary.LittleEndian.AppendUint16(head, MinorVersion)
	head = binary.LittleEndian.AppendUint32(head, uint32(len(hb)))
	head = append(head, hb...)
	head = binary.LittleEndian.AppendUint32(head, crc32.Checksum(head, castagnoli))
	return head, nil
}

// FileKind names the type of a file, for messages: "a FIFO", "a
// symbolic link", "a regular file"...
func FileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file"
}

// ownedRegular reports whether fi is a regular file of the effective
// user, and otherwise why not.
func ownedRegular(fi fs.FileInfo) error {
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s", ErrNotRegular, FileKind(fi.Mode()))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not by uid %d: not replacing another user's file", st.Uid, os.Geteuid())
	}
	return nil
}

// checkTarget says whether a trace may be renamed to path: path is absent
// or a regular file of the effective user.
func checkTarget(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return ownedRegular(fi)
}

// createPartial creates the partial file anew, mode 0600. A regular file
// of the effective user already there is a leftover of a killed writer and
// is removed; anything else is refused.
func createPartial(partial string) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) || try == 3 {
			return nil, err
		}
		fi, lerr := os.Lstat(partial)
		if errors.Is(lerr, fs.ErrNotExist) {
			continue // gone meanwhile
		}
		if lerr != nil {
			return nil, lerr
		}
		if err := ownedRegular(fi); err != nil {
			return nil, fmt.Errorf("%s exists and %v; remove it or write the trace elsewhere", partial, err)
		}
		if err := os.Remove(partial); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove the leftover %w", err)
		}
	}
}

// start sets up a Writer that has written head to out and starts its
// goroutines.
func start(out io.Writer, f *os.File, head []byte, opts WriterOptions) (*Writer, error) {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1),
		// A frame is one chunk: a window past twice the chunk size buys
		// nothing and costs memory.
		zstd.WithWindowSize(windowFor(opts.ChunkSize)))
	if err != nil {
		return nil, err
	}

	n := opts.MaxInFlight
	w := &Writer{
		out:      out,
		f:        f,
		opts:     opts,
		bases:    make(map[int32]*regBase),
		free:     make(chan *job, n+1),
		compCh:   make(chan *job, n),
		writeCh:  make(chan *job, n),
		enc:      enc,
		off:      int64(len(head)),
		pipeDone: make(chan struct{}),
	}
	w.wcond = sync.NewCond(&w.wmu)
	w.nBytes.Store(int64(len(head)))
	for i := 0; i < n; i++ {
		w.free <- &job{}
	}
	w.cur = &job{raw: make([]byte, 0, opts.ChunkSize+opts.ChunkSize/8)}
	w.cur.hdr.typ = ChunkEvents
	w.scratch = make([]byte, 0, 4096)

	go w.compressLoop()
	go w.writeLoop()
	if opts.FlushInterval > 0 {
		w.stopTick = make(chan struct{})
		w.tickDone = make(chan struct{})
		go w.tickLoop(opts.FlushInterval)
	}
	return w, nil
}

func windowFor(chunk int) int {
	w := zstd.MinWindowSize
	for w < 2*chunk && w < 8<<20 {
		w *= 2
	}
	return w
}

// Path returns the final path of the trace (without ".partial"), or "" for
// a Writer from NewWriter.
func (w *Writer) Path() string { return w.path }

var marshalOpts = proto.MarshalOptions{}

// eventKey returns the sequence number and time of an event, and false
// for an event of no kind this package knows.
func eventKey(ev *tracepb.Event) (seq uint64, t int64, ok bool) {
	switch k := ev.GetKind().(type) {
	case *tracepb.Event_Syscall:
		if k.Syscall == nil {
			return 0, 0, false
		}
		return k.Syscall.Seq, k.Syscall.EnterNs, true
	case *tracepb.Event_Process:
		if k.Process == nil {
			return 0, 0, false
		}
		return k.Process.Seq, k.Process.TimeNs, true
	}
	return 0, 0, false
}

// Append adds ev to the trace. ev stays the caller's: Append encodes it
// before returning and keeps no reference to it. Sequence numbers must be
// strictly increasing. Append does not allocate in the steady state and
// does not wait for compression or the disk unless MaxInFlight chunks are
// already waiting (back-pressure).
func (w *Writer) Append(ev *tracepb.Event) error {
	seq, t, ok := eventKey(ev)
	if !ok {
		return errors.New("trace: Append: event has neither syscall nor process")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.failed.Load() {
		return w.pipeErr()
	}
	if w.haveSeq && seq <= w.lastSeq {
		return fmt.Errorf("trace: Append: sequence number %d after %d", seq, w.lastSeq)
	}

	c := w.cur
	for {
		if err := w.marshal(ev, seq); err != nil {
			return fmt.Errorf("trace: Append: %v", err)
		}
		if len(w.scratch) > MaxEventSize {
			return fmt.Errorf("trace: Append: event of %d bytes is over the %d limit", len(w.scratch), MaxEventSize)
		}
		if c.hdr.count == 0 || len(c.raw)+len(w.scratch)+binary.MaxVarintLen64 <= maxChunkFill {
			break
		}
		// Rare: a huge event that does not fit. The encoding is
		// relative to the chunk, so cut and encode it again.
		w.cutLocked()
		c = w.cur
	}
	sc := ev.GetSyscall()
	if sc != nil && len(sc.Regs) > 0 {
		// The delta base is only updated once the event is certainly in
		// the chunk, so writer and reader agree on it.
		b := w.bases[sc.Tid]
		if b == nil {
			b = &regBase{}
			w.bases[sc.Tid] = b
		}
		b.gen = w.gen
		b.regs = append(b.regs[:0], sc.Regs...)
	}
	c.raw = binary.AppendUvarint(c.raw, uint64(len(w.scratch)))
	c.raw = append(c.raw, w.scratch...)
	if c.hdr.count == 0 {
		c.hdr.firstSeq = seq
		c.hdr.minTime, c.hdr.maxTime = t, t
	} else {
		c.hdr.minTime = min(c.hdr.minTime, t)
		c.hdr.maxTime = max(c.hdr.maxTime, t)
	}
	c.hdr.count++
	w.lastSeq, w.haveSeq = seq, true
	w.prevTime = t
	w.nEvents.Add(1)
	if len(c.raw) >= w.opts.ChunkSize || c.hdr.count >= MaxChunkEvents {
		w.cutLocked()
	}
	return nil
}

// marshal marshals ev into w.scratch in its on-disk form (see trace.proto
// and doc.go): seq and times relative to the previous event of the open
// chunk, registers as deltas where possible. ev is restored before return.
func (w *Writer) marshal(ev *tracepb.Event, seq uint64) error {
	expect, prevTime := seq, int64(0)
	if w.cur.hdr.count > 0 {
		expect, prevTime = w.lastSeq+1, w.prevTime
	}
	var err error
	switch k := ev.GetKind().(type) {
	case *tracepb.Event_Syscall:
		sc := k.Syscall
		enter, exit := sc.EnterNs, sc.ExitNs
		regs, exitRegs := sc.Regs, sc.ExitRegs
		rd, erd := sc.RegsDelta, sc.ExitRegsDelta
		sc.Seq = seq - expect
		sc.EnterNs = enter - prevTime
		sc.ExitNs = encodeExit(exit, enter)
		sc.RegsDelta, sc.ExitRegsDelta = nil, nil
		if !w.opts.FullRegs {
			if b := w.bases[sc.Tid]; b != nil && b.gen == w.gen && regsDeltable(regs, b.regs) {
				w.delta = appendRegsDelta(w.delta[:0], regs, b.regs)
				sc.Regs, sc.RegsDelta = nil, w.delta
			}
			if regsDeltable(exitRegs, regs) {
				w.exitDelta = appendRegsDelta(w.exitDelta[:0], exitRegs, regs)
				sc.ExitRegs, sc.ExitRegsDelta = nil, w.exitDelta
			}
		}
		for _, m := range sc.Mem {
			if m != nil {
				m.Addr ^= argValue(regs, sc.Arch, m.Arg)
			}
		}
		w.scratch, err = marshalOpts.MarshalAppend(w.scratch[:0], ev)
		for _, m := range sc.Mem {
			if m != nil {
				m.Addr ^= argValue(regs, sc.Arch, m.Arg)
			}
		}
		sc.Seq, sc.EnterNs, sc.ExitNs = seq, enter, exit
		sc.Regs, sc.ExitRegs = regs, exitRegs
		sc.RegsDelta, sc.ExitRegsDelta = rd, erd
	case *tracepb.Event_Process:
		p := k.Process
		t := p.TimeNs
		p.Seq = seq - expect
		p.TimeNs = t - prevTime
		w.scratch, err = marshalOpts.MarshalAppend(w.scratch[:0], ev)
		p.Seq, p.TimeNs = seq, t
	}
	return err
}

// encodeExit and decodeExit map exit_ns to its on-disk form and back: 0
// stays 0 (exit not observed), otherwise the duration, shifted by one when
// not negative so that it is never 0.
func encodeExit(exit, enter int64) int64 {
	if exit == 0 {
		return 0
	}
	d := exit - enter
	if d >= 0 {
		d++
	}
	return d
}

func decodeExit(disk, enter int64) int64 {
	switch {
	case disk == 0:
		return 0
	case disk > 0:
		return enter + disk - 1
	}
	return enter + disk
}

// cutLocked hands the open chunk to the pipeline, if it holds anything,
// and takes a fresh one (waiting for one if MaxInFlight are in flight).
func (w *Writer) cutLocked() {
	c := w.cur
	if c.hdr.count == 0 {
		return
	}
	w.compCh <- c // never blocks: at most MaxInFlight jobs exist besides cur
	w.submitted++
	n := <-w.free
	if cap(n.raw) < w.opts.ChunkSize+w.opts.ChunkSize/8 {
		// first use of this job (or its buffer was dropped for size)
		n.raw = make([]byte, 0, w.opts.ChunkSize+w.opts.ChunkSize/8)
	}
	n.raw = n.raw[:0]
	n.hdr = chunkHeader{typ: ChunkEvents}
	w.cur = n
	w.gen++
}

func (w *Writer) compressLoop() {
	for j := range w.compCh {
		if cap(j.buf) < chunkHeaderSize {
			j.buf = make([]byte, chunkHeaderSize, chunkHeaderSize+len(j.raw)/2)
		}
		j.buf = w.enc.EncodeAll(j.raw, j.buf[:chunkHeaderSize])
		j.hdr.clen = uint32(len(j.buf) - chunkHeaderSize)
		j.hdr.ulen = uint32(len(j.raw))
		j.hdr.put(j.buf)
		sealChunk(j.buf)
		w.writeCh <- j
	}
	close(w.writeCh)
}

func (w *Writer) writeLoop() {
	defer close(w.pipeDone)
	for j := range w.writeCh {
		if !w.failed.Load() {
			if _, err := w.out.Write(j.buf); err != nil {
				w.fail(fmt.Errorf("write trace %s: %w", w.name, err))
			} else {
				w.index = append(w.index, ChunkInfo{
					Offset:   w.off,
					FirstSeq: j.hdr.firstSeq,
					Count:    j.hdr.count,
					MinTime:  j.hdr.minTime,
					MaxTime:  j.hdr.maxTime,
				})
				w.off += int64(len(j.buf))
				w.nChunks.Add(1)
				w.nRaw.Add(int64(len(j.raw)))
				w.nBytes.Add(int64(len(j.buf)))
			}
		}
		// Do not keep the memory of an oversized chunk around.
		if cap(j.raw) > 2*w.opts.ChunkSize+MaxEventSize/4 {
			j.raw = nil
		}
		if cap(j.buf) > 2*w.opts.ChunkSize+MaxEventSize/4 {
			j.buf = nil
		}
		w.wmu.Lock()
		w.written++
		w.wcond.Broadcast()
		w.wmu.Unlock()
		w.free <- j
	}
}

func (w *Writer) fail(err error) {
	w.wmu.Lock()
	if w.werr == nil {
		w.werr = err
	}
	w.wmu.Unlock()
	w.failed.Store(true)
}

func (w *Writer) pipeErr() error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.werr
}

func (w *Writer) tickLoop(d time.Duration) {
	defer close(w.tickDone)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-w.stopTick:
			return
		case <-t.C:
			w.mu.Lock()
			if !w.closed {
				w.cutLocked()
			}
			w.mu.Unlock()
		}
	}
}

// Flush cuts the open chunk and waits until every chunk cut so far has been
// written to the file (handed to the kernel: it survives the death of the
// process, not of the machine; Close fsyncs).
func (w *Writer) Flush() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.cutLocked()
	target := w.submitted
	w.mu.Unlock()
	w.wmu.Lock()
	for w.written < target {
		w.wcond.Wait()
	}
	err := w.werr
	w.wmu.Unlock()
	return err
}

// Stats returns running totals; safe from any goroutine.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Events:   w.nEvents.Load(),
		Chunks:   w.nChunks.Load(),
		RawBytes: w.nRaw.Load(),
		Bytes:    w.nBytes.Load(),
	}
}

// stopPipeline stops the ticker, optionally cuts the open chunk, and waits
// until every chunk handed over has been written.
func (w *Writer) stopPipeline(cut bool) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.mu.Unlock()
	if w.stopTick != nil {
		close(w.stopTick)
		<-w.tickDone
	}
	w.mu.Lock()
	w.closed = true
	if cut {
		w.cutLocked()
	}
	close(w.compCh)
	w.mu.Unlock()
	<-w.pipeDone
	w.enc.Close()
	return nil
}

// Close writes the open chunk, the index and the trailer. For a file from
// Create it then fsyncs the file if WriterOptions.Sync says so, and renames
// it from NAME.partial to NAME, provided NAME is still absent or a regular
// file of the effective user. On error the partial file is left in place
// (a Reader recovers what it holds). A Writer from NewWriter leaves its
// stream open.
func (w *Writer) Close() error {
	if err := w.stopPipeline(true); err != nil {
		return err
	}
	if err := w.pipeErr(); err != nil {
		w.closeFile()
		return err
	}
	if err := w.writeFooter(); err != nil {
		w.closeFile()
		return fmt.Errorf("write trace %s: %w", w.name, err)
	}
	if w.f == nil {
		return nil
	}
	if w.opts.Sync {
		if err := w.f.Sync(); err != nil {
			w.f.Close()
			return fmt.Errorf("sync trace %s: %w", w.partial, err)
		}
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close trace %s: %w", w.partial, err)
	}
	if err := finish(w.partial, w.path); err != nil {
		return fmt.Errorf("finish trace %s (the trace is in %s): %w", w.path, w.partial, err)
	}
	if w.opts.Sync {
		if d, err := os.Open(filepath.Dir(w.path)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}

// finish renames partial to path if path is absent (never replacing what
// appears there meanwhile, where the file system can promise it) or a
// regular file of the effective user.
func finish(partial, path string) error {
	for try := 0; ; try++ {
		if err := checkTarget(path); err != nil {
			return err
		}
		if _, err := os.Lstat(path); err == nil {
			return os.Rename(partial, path)
		}
		err := unix.Renameat2(unix.AT_FDCWD, partial, unix.AT_FDCWD, path, unix.RENAME_NOREPLACE)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EEXIST) && try < 3:
			continue // path appeared: check what it is
		case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
			// No RENAME_NOREPLACE on this file system.
			return os.Rename(partial, path)
		}
		return &os.LinkError{Op: "rename", Old: partial, New: path, Err: err}
	}
}

// closeFile closes the partial file of a Writer from Create.
func (w *Writer) closeFile() {
	if w.f != nil {
		w.f.Close()
	}
}

func (w *Writer) writeFooter() error {
	n := len(w.index)
	b := make([]byte, chunkHeaderSize+n*indexEntrySize, chunkHeaderSize+n*indexEntrySize+trailerSize)
	h := chunkHeader{typ: ChunkIndex, count: uint32(n)}
	for i, c := range w.index {
		putIndexEntry(b[chunkHeaderSize+i*indexEntrySize:], c)
		if i == 0 {
			h.firstSeq, h.minTime, h.maxTime = c.FirstSeq, c.MinTime, c.MaxTime
		} else {
			h.minTime = min(h.minTime, c.MinTime)
			h.maxTime = max(h.maxTime, c.MaxTime)
		}
	}
	h.clen = uint32(n * indexEntrySize)
	h.ulen = h.clen
	h.put(b)
	sealChunk(b)
	b = binary.LittleEndian.AppendUint64(b, uint64(w.off))
	b = binary.LittleEndian.AppendUint32(b, uint32(chunkHeaderSize+n*indexEntrySize))
	b = append(b, trailerMagic...)
	_, err := w.out.Write(b)
	if err == nil {
		w.nBytes.Add(int64(len(b)))
	}
	return err
}

// abandon stops the writer as a kill would leave it: chunks already cut
// are written, the open chunk is lost, no footer, no rename. For tests.
func (w *Writer) abandon() {
	if w.stopPipeline(false) == nil {
		w.closeFile()
	}
}
