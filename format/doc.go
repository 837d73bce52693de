// Package format reads and writes HERMES trace files: a versioned,
// crash-safe, seekable container of zstd-compressed protobuf messages.
//
// The messages (TraceHeader, Event) are defined in trace.proto; the
// generated Go code is in package tracepb (see gen.go for how to
// regenerate it).
//
// # File layout
//
// All integers are little-endian. CRC32C is CRC-32 with the Castagnoli
// polynomial. A file is a header, a chain of chunks and, when the writer
// finished cleanly, a footer (an index chunk and a trailer):
//
//	header   magic    "HERMTRC\x00"                  8 bytes
//	         major    u16   (currently 1)
//	         minor    u16   (currently 6)
//	         length   u32   length of the message, at most 1 MiB
//	         message  TraceHeader protobuf
//	         crc      u32   CRC32C of all the header bytes before it
//
//	chunk    magic    "CHNK"                         4 bytes
//	(45-byte type     u8    1 = events, 2 = index; others are skipped
//	 header)  clen    u32   length of the payload that follows, <= 64 MiB
//	         ulen     u32   uncompressed payload length, <= 64 MiB
//	         firstSeq u64   sequence number of the first event
//	         count    u32   number of events, 1 to 65536
//	         minTime  i64   smallest event time in the chunk (ns)
//	         maxTime  i64   largest event time in the chunk (ns)
//	         crc      u32   CRC32C of the 41 header bytes before it
//	                        followed by the clen payload bytes
//	         payload  clen bytes
//
//	trailer  indexOff u64   file offset of the index chunk
//	(20      indexLen u32   its length, chunk header included
//	 bytes)  magic    "HERMEND\x00"                  8 bytes
//
// The payload of an events chunk (type 1) is exactly one zstd frame that
// decompresses to ulen bytes: count Event messages, each preceded by its
// length as a uvarint (protobuf's delimited encoding). Each chunk is
// independently decodable: nothing in it refers to an earlier chunk.
//
// The payload of the index chunk (type 2) is not compressed (clen == ulen)
// and holds one 36-byte entry per events chunk, in file order:
//
//	offset u64, firstSeq u64, count u32, minTime i64, maxTime i64
//
// Its own header's count is the number of entries, and its firstSeq,
// minTime and maxTime describe the whole file. The trailer is the last 20 bytes of the file, so a reader finds the
// index from the end.
//
// The time of an event is Syscall.enter_ns or Process.time_ns: monotonic
// nanoseconds since the start of the trace. Sequence numbers are strictly
// increasing through the file (Writer.Append enforces it); times need not
// be, because a call that blocks is written when it returns, which is why
// chunks record a time range rather than a first time.
//
// # Delta encoding
//
// Inside a chunk, events are stored relative to the events before them in
// the same chunk, so that what repeats costs nothing and zstd sees small
// numbers. The base of every delta starts empty at each chunk, so chunks
// stay independently decodable and seekable. The Reader undoes all of it:
// the events it returns are exactly what was appended, with full regs and
// exit_regs and never the delta fields. trace.proto lists the rules; in
// short:
//
//   - seq is stored as the distance from the previous event's seq + 1 (0,
//     so absent, when there is no gap); the first event of a chunk relative
//     to the chunk header's firstSeq;
//   - Syscall.enter_ns and Process.time_ns are stored as the difference
//     from the previous event's time; exit_ns as the call's duration;
//   - Syscall.regs (216 raw bytes of user_regs_struct, most of an event,
//     changing little from one call of a thread to its next) is replaced by
//     Syscall.regs_delta: a uvarint mask of the 64-bit words that differ
//     from the entry registers of the previous Syscall of the same tid in
//     the same chunk that had registers, then for each such word
//     uvarint(new XOR old). A syscall with no earlier call of its tid in
//     the chunk (or registers whose length differs, is not a multiple of 8
//     or is above 512 bytes) keeps full regs. Syscall.exit_regs is encoded
//     the same way, as exit_regs_delta, against the call's own entry
//     registers. WriterOptions.FullRegs turns this part off;
//   - Syscall.mem[].addr is stored XORed with the argument register it
//     came from (mem.arg), so the usual capture stores 0.
//
// # Versions
//
// Fields are additive (see trace.proto). Minor version bumps add fields,
// chunk types or index fields that an older reader can ignore; a Reader
// reads any minor version of its major version and refuses a newer major
// version with "trace version X.Y is newer than this hermes reads (1.x)".
//
// # Crash safety
//
// Create writes NAME.partial and Close renames it to NAME after writing the
// footer (and fsyncing, with WriterOptions.Sync). Each chunk is written
// with one write(2) as soon as it is compressed, so a writer killed with SIGKILL leaves every chunk that had
// been handed to the kernel; the open chunk is cut at least every
// WriterOptions.FlushInterval (250 ms by default) so at most that much is
// lost. A Reader opens such a file (or any file without a valid footer) by
// scanning the chunks in order. A file that ends inside a chunk is a
// partial trace: read as far as it goes. A chunk in the middle that has a
// bad CRC, does not decode or is over the reader's limits is skipped, and
// reading resumes at the next good one (found by the index, or by its magic
// and CRC); Reader.Damage lists what was skipped, and Reader.Recovered says
// how many events were kept and why reading stopped. zstd does not reliably
// report a truncated frame: the CRCs do.
//
// # Writer pipeline
//
// Append runs on the caller's goroutine (the ptrace thread): it marshals the
// event with MarshalAppend into a reused buffer and appends it, with its
// length, to the open chunk's buffer. It does not allocate in the steady
// state and never waits for compression or disk, with one exception: at most
// WriterOptions.MaxInFlight chunks (default 4) exist at once, and when all
// of them are waiting to be compressed or written, cutting the next chunk
// blocks until one is free (back-pressure, bounding memory to about
// MaxInFlight x ChunkSize). Full chunks go over a bounded channel to a
// compression goroutine (zstd EncodeAll, SpeedFastest, one reused encoder),
// then to a writer goroutine that writes them in order.
//
// A chunk is cut when it reaches WriterOptions.ChunkSize (1 MiB) of
// uncompressed events, on Flush and Close, and by a ticker goroutine every
// FlushInterval when the chunk is not empty. The open chunk is guarded by a
// mutex that Append takes (uncontended except during a tick, so cheap); the
// ticker never touches the chunk without it.
//
// # Reading fast
//
// Next unmarshals every event with proto.Unmarshal, after checking the
// whole chunk against the limits: two walks of the chunk and several
// allocations an event. A tool that streams the events through can ask
// for less: Reader.SetStreaming, or Reader.DecodeChunk into a Batch whose
// memory is reused chunk after chunk (hermes export). Both decode the
// common event, a syscall without an injection, pre-images or frames,
// with protowire straight into memory allocated a block at a time, its
// bytes fields sharing the chunk's decompressed bytes, and check the
// limits as they go: one walk. Any other event goes through
// proto.Unmarshal, and a chunk with anything wrong is decoded as Next
// decodes it: the events, the damage and its reasons are the same.
package format
