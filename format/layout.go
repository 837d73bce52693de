package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Version of the format this package writes. A Reader reads any minor
// version of MajorVersion.
const (
	MajorVersion = 1
	MinorVersion = 7 // 1: TraceHeader.traced, .deterministic; Process.at_random. 2: TraceHeader.time_resolution_ns. 3: Syscall.preimages, TraceHeader.output_path, .preimages, .preimage_max. 4: Syscall.frames. 5: the settings of the recording in TraceHeader (fault_scripts to io_uring_allowed). 6: TraceHeader.tsc_trapped; Process TSC events (tsc, tsc_aux, tscp). 7: Syscall.order, .exit_after; TraceHeader.chaos
)

// Chunk types.
const (
	ChunkEvents = 1
	ChunkIndex  = 2
)

// Limits a Reader enforces on lengths read from a file, so that a malformed
// file gives an error instead of a huge allocation.
const (
	MaxHeaderMessage = 1 << 20  // TraceHeader message
	MaxChunkPayload  = 64 << 20 // compressed or uncompressed chunk payload
	// MaxChunkEvents bounds the events of one chunk, and so the memory a
	// Reader spends decoding one (an event can take as little as a few
	// bytes on disk and a few hundred in memory). Writers cut before it.
	MaxChunkEvents = 1 << 16
)

// Limits a Reader enforces on the events of a chunk, so that a small file
// cannot decode into a huge amount of memory (a decode bomb: an empty
// tracepb.Mem takes 2 bytes of payload and 130 bytes of memory, and zstd
// compresses a run of them 10,000 to 1). The Reader checks them on the
// payload, with protowire, before it unmarshals anything; a chunk over one
// of them is damaged, and is skipped and reported like one with a bad CRC
// (see Reader.Damage).
//
// They are generous for real traces: hermes record captures at most 4096
// elements of an array argument (an iovec, argv, envp), so its largest
// calls have about 8200 Mem entries (execve: argv and envp strings and the
// two arrays; readv: the array and 4096 buffers at entry and at exit), and
// an injection replaces at most the six arguments of a call.
const (
	// MaxEventMems bounds the Syscall.mem entries of one event.
	MaxEventMems = 1 << 16
	// MaxInjectedWrites bounds the Injected.writes entries of one event.
	MaxInjectedWrites = 1 << 16
	// MaxInjectedArgs bounds the Injected.args entries of one event.
	MaxInjectedArgs = 64
	// MaxRepeatedEntries bounds the entries of any other repeated field
	// in one event, fields a newer minor version adds included.
	MaxRepeatedEntries = 1 << 16
	// MaxChunkMemory bounds the memory the events of one chunk take once
	// decoded, as the Reader estimates it from the payload (a little above
	// what unmarshalling allocates): each message struct, slice and copied
	// string or bytes field, and the registers restored from deltas. Real
	// chunks take less: 1 MiB of ordinary events (the writer's default
	// chunk) about 7 MiB, and at most about 40 MiB whatever they hold
	// (35 bytes a byte for one-byte captures); 65536 events (the most a
	// chunk holds) about 50 MiB for a mix of calls, 42 MiB for a getppid
	// loop. Only a chunk size near the writer's 16 MiB maximum, filled
	// with small captures, could pass it. With the decompressed payload
	// (at most MaxChunkPayload) it bounds the memory a Reader needs for a
	// chunk.
	MaxChunkMemory = 128 << 20
)

const (
	fileMagic    = "HERMTRC\x00"
	trailerMagic = "HERMEND\x00"
	chunkMagic   = "CHNK"

	fileHeaderFixed = 8 + 2 + 2 + 4 // before the message
	chunkHeaderSize = 45
	chunkCRCOffset  = 41
	trailerSize     = 20
	indexEntrySize  = 36

	// maxRegsWords bounds the registers the delta encoding handles (the
	// mask is a uint64).
	maxRegsWords = 64
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC32C returns the CRC-32C (Castagnoli) of b: the checksum of chunks, and
// of the data a summarized tracepb.Mem stands for (its digest).
func CRC32C(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Errors returned by Open and the Reader. Errors about a particular file
// wrap one of these and name the file and the problem.
var (
	// ErrNotTrace: the file does not start with the trace magic.
	ErrNotTrace = errors.New("not a hermes trace")
	// ErrCorrupt: the file is a trace but a header, chunk or index is damaged.
	ErrCorrupt = errors.New("corrupt trace")
	// ErrNewerVersion: the file's major version is newer than this package.
	ErrNewerVersion = errors.New("trace version too new")
)

// VersionError is returned by Open for a file whose major version this
// package does not read. It matches ErrNewerVersion with errors.Is.
type VersionError struct {
	Major, Minor uint16
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("trace version %d.%d is newer than this hermes reads (%d.x)", e.Major, e.Minor, MajorVersion)
}

// Is reports whether target is ErrNewerVersion.
func (e *VersionError) Is(target error) bool { return target == ErrNewerVersion }

// ChunkInfo describes one events chunk, as listed in the index.
type ChunkInfo struct {
	Offset   int64  // file offset of the chunk header
	FirstSeq uint64 // sequence number of its first event
	Count    uint32 // number of events
	MinTime  int64  // smallest event time, ns since the trace started
	MaxTime  int64  // largest event time
}

// chunkHeader is the fixed header of a chunk.
type chunkHeader struct {
	typ      uint8
	clen     uint32
	ulen     uint32
	firstSeq uint64
	count    uint32
	minTime  int64
	maxTime  int64
	crc      uint32
}

// put encodes h into b[:chunkHeaderSize] without the CRC (bytes 41-44).
func (h *chunkHeader) put(b []byte) {
	_ = b[chunkHeaderSize-1]
	copy(b[0:4], chunkMagic)
	b[4] = h.typ
	binary.LittleEndian.PutUint32(b[5:], h.clen)
	binary.LittleEndian.PutUint32(b[9:], h.ulen)
	binary.LittleEndian.PutUint64(b[13:], h.firstSeq)
	binary.LittleEndian.PutUint32(b[21:], h.count)
	binary.LittleEndian.PutUint64(b[25:], uint64(h.minTime))
	binary.LittleEndian.PutUint64(b[33:], uint64(h.maxTime))
}

// sealChunk sets the CRC of a chunk laid out as header then payload in b.
func sealChunk(b []byte) {
	crc := crc32.Checksum(b[:chunkCRCOffset], castagnoli)
	crc = crc32.Update(crc, castagnoli, b[chunkHeaderSize:])
	binary.LittleEndian.PutUint32(b[chunkCRCOffset:], crc)
}

// parseChunkHeader decodes and sanity-checks a chunk header. It does not
// check the CRC, which covers the payload too.
func parseChunkHeader(b []byte) (chunkHeader, error) {
	var h chunkHeader
	if string(b[0:4]) != chunkMagic {
		return h, errors.New("bad chunk magic")
	}
	h.typ = b[4]
	h.clen = binary.LittleEndian.Uint32(b[5:])
	h.ulen = binary.LittleEndian.Uint32(b[9:])
	h.firstSeq = binary.LittleEndian.Uint64(b[13:])
	h.count = binary.LittleEndian.Uint32(b[21:])
	h.minTime = int64(binary.LittleEndian.Uint64(b[25:]))
	h.maxTime = int64(binary.LittleEndian.Uint64(b[33:]))
	h.crc = binary.LittleEndian.Uint32(b[41:])
	if h.clen > MaxChunkPayload || h.ulen > MaxChunkPayload {
		return h, fmt.Errorf("chunk length %d/%d over the %d limit", h.clen, h.ulen, MaxChunkPayload)
	}
	if h.typ == ChunkEvents && (h.count > h.ulen || h.count > MaxChunkEvents) {
		return h, fmt.Errorf("chunk claims %d events in %d bytes", h.count, h.ulen)
	}
	if h.count > 0 && h.minTime > h.maxTime {
		return h, errors.New("chunk time range inverted")
	}
	return h, nil
}

func putIndexEntry(b []byte, c ChunkInfo) {
	binary.LittleEndian.PutUint64(b[0:], uint64(c.Offset))
	binary.LittleEndian.PutUint64(b[8:], c.FirstSeq)
	binary.LittleEndian.PutUint32(b[16:], c.Count)
	binary.LittleEndian.PutUint64(b[20:], uint64(c.MinTime))
	binary.LittleEndian.PutUint64(b[28:], uint64(c.MaxTime))
}

func getIndexEntry(b []byte) ChunkInfo {
	return ChunkInfo{
		Offset:   int64(binary.LittleEndian.Uint64(b[0:])),
		FirstSeq: binary.LittleEndian.Uint64(b[8:]),
		Count:    binary.LittleEndian.Uint32(b[16:]),
		MinTime:  int64(binary.LittleEndian.Uint64(b[20:])),
		MaxTime:  int64(binary.LittleEndian.Uint64(b[28:])),
	}
}
